//go:build tools

// Package tools pins the composition functions built by cluster/build-tools.sh.
// function-auto-ready is not here: its go.mod declares github.com/crossplane/function-auto-ready,
// so it cannot be required under its crossplane-contrib path (build-tools.sh builds it from the module zip).
package tools

import (
	_ "github.com/crossplane-contrib/function-go-templating"
	_ "github.com/crossplane-contrib/function-patch-and-transform"
)
