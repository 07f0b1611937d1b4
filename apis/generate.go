// Running `go generate ./...`
// regenerates deep-copy methods, crossplane-runtime method sets and the CRDs
// in package/crds from these types, using the tool versions pinned in go.mod.

//go:generate rm -rf ../package/crds
//go:generate go tool controller-gen object:headerFile=../hack/boilerplate.go.txt paths=./... crd:crdVersions=v1 output:artifacts:config=../package/crds
//go:generate go tool angryjet generate-methodsets --header-file=../hack/boilerplate.go.txt ./...

package apis
