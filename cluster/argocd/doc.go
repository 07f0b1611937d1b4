// Package argocd tests examples/argocd: the health checks in argocd-cm.yaml,
// run with the Lua interpreter Argo CD runs (gopher-lua, with the libraries
// Argo CD opens to a customization), and the Applications that mirror
// examples/gitops' Flux Kustomizations.
package argocd
