//go:build tools

// Package tools pins the Crossplane core command built by cluster/build-tools.sh.
package tools

import _ "github.com/crossplane/crossplane/v2/cmd/crossplane"
