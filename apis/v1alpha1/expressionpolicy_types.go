package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// ExpressionPolicyParameters are the fields of an Authentik expression
// policy that this resource manages. A field left unset is not managed:
// Authentik's value is kept and copied here on the first observation.
type ExpressionPolicyParameters struct {
	// Name of the policy. Policy names are unique in Authentik across all
	// policy types.
	// +optional
	// +kubebuilder:validation:MinLength=1
	Name *string `json:"name,omitempty"`

	// Expression is the Python code Authentik runs to decide; it passes
	// when it returns a true value, for example
	// `return ak_is_group_member(request.user, name="admins")`. Authentik
	// stores it without leading and trailing whitespace. The provider
	// writes it as it is and never runs or logs it.
	// +optional
	// +kubebuilder:validation:MinLength=1
	Expression *string `json:"expression,omitempty"`

	// ExecutionLogging logs every run of the policy as an Authentik event,
	// not only its errors. Authentik's default is false.
	// +optional
	ExecutionLogging *bool `json:"executionLogging,omitempty"`
}

// ExpressionPolicyObservation is the state of the policy as Authentik
// reports it.
type ExpressionPolicyObservation struct {
	// PK is the policy's UUID in Authentik, which PolicyBindings bind.
	PK *string `json:"pk,omitempty"`

	// BoundTo is how many policy bindings (and prompt stages) use the
	// policy.
	BoundTo *int32 `json:"boundTo,omitempty"`
}

// An ExpressionPolicySpec defines the desired state of an ExpressionPolicy.
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.name)",message="spec.forProvider.name is required unless managementPolicies only observe"
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.expression)",message="spec.forProvider.expression is required unless managementPolicies only observe"
type ExpressionPolicySpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	Adoption                 `json:",inline"`
	ForProvider              ExpressionPolicyParameters `json:"forProvider"`
}

// An ExpressionPolicyStatus represents the observed state of an
// ExpressionPolicy.
type ExpressionPolicyStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 ExpressionPolicyObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// An ExpressionPolicy is an Authentik policy whose verdict is a Python
// expression. A PolicyBinding binds it to an application. The external
// name is the policy's UUID, which Authentik assigns.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="EXTERNAL-NAME",type="string",JSONPath=".metadata.annotations.crossplane\\.io/external-name"
// +kubebuilder:printcolumn:name="POLICY-NAME",type="string",JSONPath=".spec.forProvider.name"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,authentik},shortName=akexpr
type ExpressionPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ExpressionPolicySpec   `json:"spec"`
	Status ExpressionPolicyStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ExpressionPolicyList contains a list of ExpressionPolicy.
type ExpressionPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ExpressionPolicy `json:"items"`
}

// ExpressionPolicy type metadata.
var (
	ExpressionPolicyKind, ExpressionPolicyGroupKind, ExpressionPolicyGroupVersionKind = kindOf(ExpressionPolicy{})
)

func init() {
	SchemeBuilder.Register(&ExpressionPolicy{}, &ExpressionPolicyList{})
}
