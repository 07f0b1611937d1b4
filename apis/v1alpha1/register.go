package v1alpha1

import (
	"reflect"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

// Package type metadata.
const (
	GroupName = "authentik.m.crossplane.io"
	Version   = "v1alpha1"
)

var (
	// SchemeGroupVersion is the group version used to register these objects.
	SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: Version}

	// SchemeBuilder is used to add go types to the GroupVersionKind scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: SchemeGroupVersion} //nolint:staticcheck // The kubebuilder layout controller-gen and angryjet expect; the package imports controller-runtime already.
)

// kindOf returns the kind, group kind and group version kind of an API type.
func kindOf(o any) (string, string, schema.GroupVersionKind) {
	kind := reflect.TypeOf(o).Name()
	return kind, schema.GroupKind{Group: GroupName, Kind: kind}.String(), SchemeGroupVersion.WithKind(kind)
}

// ProviderConfig type metadata.
var (
	ProviderConfigKind, ProviderConfigGroupKind, ProviderConfigGroupVersionKind = kindOf(ProviderConfig{})
)

// ClusterProviderConfig type metadata.
var (
	ClusterProviderConfigKind, ClusterProviderConfigGroupKind, ClusterProviderConfigGroupVersionKind = kindOf(ClusterProviderConfig{})
)

// ProviderConfigUsage type metadata.
var (
	ProviderConfigUsageKind, ProviderConfigUsageGroupKind, ProviderConfigUsageGroupVersionKind = kindOf(ProviderConfigUsage{})

	ProviderConfigUsageListKind, _, ProviderConfigUsageListGroupVersionKind = kindOf(ProviderConfigUsageList{})
)

func init() {
	SchemeBuilder.Register(&ProviderConfig{}, &ProviderConfigList{})
	SchemeBuilder.Register(&ClusterProviderConfig{}, &ClusterProviderConfigList{})
	SchemeBuilder.Register(&ProviderConfigUsage{}, &ProviderConfigUsageList{})
}
