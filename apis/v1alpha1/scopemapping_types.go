package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// ScopeMappingParameters are the fields of an Authentik OAuth2 scope
// mapping that this resource manages. A field left unset is not managed:
// Authentik's value is kept and copied here on the first observation.
type ScopeMappingParameters struct {
	// Name of the mapping. Property mapping names are unique in Authentik
	// across all mapping types.
	// +optional
	// +kubebuilder:validation:MinLength=1
	Name *string `json:"name,omitempty"`

	// ScopeName is the OAuth2 scope a client asks for to get the mapping's
	// claims, for example groups.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:Pattern=`^\S+$`
	ScopeName *string `json:"scopeName,omitempty"`

	// Description is shown to the user when they consent to the scope;
	// empty, the user is not told about it.
	// +optional
	Description *string `json:"description,omitempty"`

	// Expression is the Python code Authentik runs to make the scope's
	// claims; it returns a dictionary of claims, for example
	// `return {"groups": [g.name for g in request.user.all_groups()]}`.
	// Authentik stores it without leading and trailing whitespace. The
	// provider writes it as it is and never runs or logs it.
	// +optional
	// +kubebuilder:validation:MinLength=1
	Expression *string `json:"expression,omitempty"`
}

// ScopeMappingObservation is the state of the mapping as Authentik reports
// it.
type ScopeMappingObservation struct {
	// PK is the mapping's UUID in Authentik, which OAuth2 providers list in
	// their property mappings.
	PK *string `json:"pk,omitempty"`

	// Managed is the key of a mapping that Authentik itself manages (its
	// blueprints may overwrite it); empty for the mappings users make.
	Managed *string `json:"managed,omitempty"`
}

// A ScopeMappingSpec defines the desired state of a ScopeMapping.
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.name)",message="spec.forProvider.name is required unless managementPolicies only observe"
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.scopeName)",message="spec.forProvider.scopeName is required unless managementPolicies only observe"
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.expression)",message="spec.forProvider.expression is required unless managementPolicies only observe"
type ScopeMappingSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	Adoption                 `json:",inline"`
	ForProvider              ScopeMappingParameters `json:"forProvider"`
}

// A ScopeMappingStatus represents the observed state of a ScopeMapping.
type ScopeMappingStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 ScopeMappingObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A ScopeMapping is an Authentik OAuth2 scope mapping: the claims a token
// carries when its client asks for the mapping's scope, for example a
// groups claim that applications map roles from. An OAuth2Provider offers
// it through scopeMappingRefs. The external name is the mapping's UUID,
// which Authentik assigns.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="EXTERNAL-NAME",type="string",JSONPath=".metadata.annotations.crossplane\\.io/external-name"
// +kubebuilder:printcolumn:name="SCOPE",type="string",JSONPath=".spec.forProvider.scopeName"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,authentik},shortName=akscope
type ScopeMapping struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ScopeMappingSpec   `json:"spec"`
	Status ScopeMappingStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ScopeMappingList contains a list of ScopeMapping.
type ScopeMappingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ScopeMapping `json:"items"`
}

// ScopeMapping type metadata.
var (
	ScopeMappingKind, ScopeMappingGroupKind, ScopeMappingGroupVersionKind = kindOf(ScopeMapping{})
)

func init() {
	SchemeBuilder.Register(&ScopeMapping{}, &ScopeMappingList{})
}
