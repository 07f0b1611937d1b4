// Package composition checks the ProxyConfig Configuration in
// package/configuration. The tests in package_test.go need nothing but Go
// and run with every `go test ./...`: they keep the package metadata, the
// XRD and the Composition in line with each other and with the functions the
// local control plane runs. render_test.go (build tag render) renders the
// example ProxyConfigs (the seed's among them) through the Composition with
// `crank render` and validates the output with `crank beta validate`; it
// needs the tools in _output/bin (make tools):
//
//	go test -tags render ./cluster/composition/...
package composition
