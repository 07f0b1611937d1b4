// Package v1alpha1 contains the v1alpha1 group authentik.m.crossplane.io: the
// namespaced Authentik managed resources and the provider's configuration.
// +kubebuilder:object:generate=true
// +groupName=authentik.m.crossplane.io
// +versionName=v1alpha1
package v1alpha1
