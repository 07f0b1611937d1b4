package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// SAMLPropertyMappingParameters are the fields of an Authentik SAML
// property mapping that this resource manages. A field left unset is not
// managed: Authentik's value is kept and copied here on the first
// observation.
type SAMLPropertyMappingParameters struct {
	// Name of the mapping. Property mapping names are unique in Authentik
	// across all mapping types.
	// +optional
	// +kubebuilder:validation:MinLength=1
	Name *string `json:"name,omitempty"`

	// SAMLName is the Name of the SAML attribute the mapping makes, for
	// example http://schemas.xmlsoap.org/claims/Group or uid. No surrounding
	// whitespace: Authentik trims it.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:Pattern=`^\S(.*\S)?$`
	SAMLName *string `json:"samlName,omitempty"`

	// FriendlyName is the attribute's FriendlyName; empty, the assertion
	// carries none. No surrounding whitespace: Authentik trims it.
	// +optional
	// +kubebuilder:validation:Pattern=`^(\S(.*\S)?)?$`
	FriendlyName *string `json:"friendlyName,omitempty"`

	// Expression is the Python code Authentik runs to make the attribute's
	// value, a string or a list of strings, for example
	// `return [g.name for g in request.user.all_groups()]`. Authentik stores
	// it without leading and trailing whitespace. The provider writes it as
	// it is and never runs or logs it.
	// +optional
	// +kubebuilder:validation:MinLength=1
	Expression *string `json:"expression,omitempty"`
}

// SAMLPropertyMappingObservation is the state of the mapping as Authentik
// reports it.
type SAMLPropertyMappingObservation struct {
	// PK is the mapping's UUID in Authentik, which SAML providers list in
	// their property mappings.
	PK *string `json:"pk,omitempty"`

	// Managed is the key of a mapping that Authentik itself manages (its
	// blueprints may overwrite it); empty for the mappings users make.
	Managed *string `json:"managed,omitempty"`
}

// A SAMLPropertyMappingSpec defines the desired state of a
// SAMLPropertyMapping.
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.name)",message="spec.forProvider.name is required unless managementPolicies only observe"
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.samlName)",message="spec.forProvider.samlName is required unless managementPolicies only observe"
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.expression)",message="spec.forProvider.expression is required unless managementPolicies only observe"
type SAMLPropertyMappingSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	Adoption                 `json:",inline"`
	ForProvider              SAMLPropertyMappingParameters `json:"forProvider"`
}

// A SAMLPropertyMappingStatus represents the observed state of a
// SAMLPropertyMapping.
type SAMLPropertyMappingStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 SAMLPropertyMappingObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A SAMLPropertyMapping is an Authentik SAML property mapping: one
// attribute of the assertions a SAML provider sends, for example the
// user's groups. A SAMLProvider uses it through propertyMappingRefs. The
// external name is the mapping's UUID, which Authentik assigns.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="EXTERNAL-NAME",type="string",JSONPath=".metadata.annotations.crossplane\\.io/external-name"
// +kubebuilder:printcolumn:name="SAML-NAME",type="string",JSONPath=".spec.forProvider.samlName"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,authentik},shortName=aksamlmap
type SAMLPropertyMapping struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   SAMLPropertyMappingSpec   `json:"spec"`
	Status SAMLPropertyMappingStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// SAMLPropertyMappingList contains a list of SAMLPropertyMapping.
type SAMLPropertyMappingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SAMLPropertyMapping `json:"items"`
}

// SAMLPropertyMapping type metadata.
var (
	SAMLPropertyMappingKind, SAMLPropertyMappingGroupKind, SAMLPropertyMappingGroupVersionKind = kindOf(SAMLPropertyMapping{})
)

func init() {
	SchemeBuilder.Register(&SAMLPropertyMapping{}, &SAMLPropertyMappingList{})
}
