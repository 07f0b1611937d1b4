//go:build tools

// Package tools pins the Crossplane CLI (crank) built by cluster/build-tools.sh.
package tools

import _ "github.com/crossplane/crossplane/v2/cmd/crank"
