// Package pkgtest checks what users install: the provider's Crossplane
// package and the Flux layout in examples/gitops.
//
// gitops_test.go needs nothing but Go and runs with every `go test ./...`:
// every manifest in examples/gitops parses, has a known apiVersion and kind,
// is listed by its kustomization.yaml, and the Flux Kustomizations install
// things in an order that works (the provider before the objects that need
// its CRDs, the Configuration before its ProxyConfigs), with the versions and
// names the rest of the repository expects.
//
// The tests behind the build tag xpkg need the tools in _output/bin (make
// tools) and, for xpkg_test.go, the artifacts of `make image xpkg`:
//
//	go test -tags xpkg ./cluster/package/...
//
// validate_test.go validates the Crossplane kinds of examples/gitops with
// `crank beta validate` against Crossplane's CRDs and the provider's;
// xpkg_test.go checks the runtime image and the .xpkg layer by layer, and
// pushes the .xpkg to an in-process registry to check the layer annotations
// Crossplane reads, and the Configuration's package against
// package/configuration. install-test.sh installs the provider's package on a
// local Crossplane; gitops-test.sh applies examples/gitops there in Flux's
// order until its ProxyConfig is Ready.
package pkgtest
