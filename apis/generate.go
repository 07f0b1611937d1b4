// Running `go generate ./...`
// regenerates deep-copy methods, crossplane-runtime method sets and the CRDs
// in package/provider/crds from these types, using the tool versions pinned
// in go.mod, and the API reference in docs/reference with crd-ref-docs (an
// exact version from the module proxy, built with its own go.mod as
// golangci-lint is, so its dependencies never move ours).

//go:generate rm -rf ../package/provider/crds
//go:generate go tool controller-gen object:headerFile=../hack/boilerplate.go.txt paths=./... crd:crdVersions=v1 output:artifacts:config=../package/provider/crds
//go:generate go tool angryjet generate-methodsets --header-file=../hack/boilerplate.go.txt ./...
//go:generate go run github.com/elastic/crd-ref-docs@v0.2.0 --log-level=ERROR --source-path=. --config=../hack/crd-ref-docs.yaml --renderer=markdown --output-mode=group --output-path=../docs/reference

package apis
