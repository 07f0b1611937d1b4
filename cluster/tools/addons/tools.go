//go:build tools

// Package tools pins what the local node's add-ons are built from: helm (to
// render Crossplane's chart) and CoreDNS (./coredns, the node's cluster DNS).
// Both need client-go v0.37, so they share one build of it.
package tools

import (
	_ "github.com/coredns/coredns/coremain"
	_ "helm.sh/helm/v4/cmd/helm"
)
