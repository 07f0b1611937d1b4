// Running `go generate ./...`
// regenerates deep-copy methods, crossplane-runtime method sets and the CRDs
// in package/provider/crds from these types, using the tool versions pinned
// in go.mod.

//go:generate rm -rf ../package/provider/crds
//go:generate go tool controller-gen object:headerFile=../hack/boilerplate.go.txt paths=./... crd:crdVersions=v1 output:artifacts:config=../package/provider/crds
//go:generate go tool angryjet generate-methodsets --header-file=../hack/boilerplate.go.txt ./...

package apis
