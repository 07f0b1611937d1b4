package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// GroupMembershipParameters name the one user and the one group of an
// Authentik group membership. The membership has no other state.
type GroupMembershipParameters struct {
	// Group is the UUID of the Authentik group. Set it, or groupRef, or
	// groupSelector.
	// +optional
	// +kubebuilder:validation:Format=uuid
	Group *string `json:"group,omitempty"`

	// GroupRef names a Group in this namespace whose UUID is used as group.
	// It is resolved on every reconcile.
	// +optional
	GroupRef *xpv2.Reference `json:"groupRef,omitempty"`

	// GroupSelector selects a Group in this namespace by its labels to fill
	// groupRef.
	// +optional
	GroupSelector *xpv2.Selector `json:"groupSelector,omitempty"`

	// User is the numeric id of the Authentik user (status.atProvider.pk
	// of a User). Set it, or userRef, or userSelector.
	// +optional
	// +kubebuilder:validation:Minimum=1
	User *int32 `json:"user,omitempty"`

	// UserRef names a User in this namespace whose id is used as user. It
	// is resolved on every reconcile.
	// +optional
	UserRef *xpv2.Reference `json:"userRef,omitempty"`

	// UserSelector selects a User in this namespace by its labels to fill
	// userRef.
	// +optional
	UserSelector *xpv2.Selector `json:"userSelector,omitempty"`
}

// GroupMembershipObservation is the membership as Authentik reports it.
type GroupMembershipObservation struct {
	// Group is the UUID of the group the user is a member of.
	Group *string `json:"group,omitempty"`

	// GroupName is the name of that group.
	GroupName *string `json:"groupName,omitempty"`

	// User is the numeric id of the member.
	User *int32 `json:"user,omitempty"`
}

// A GroupMembershipSpec defines the desired state of a GroupMembership.
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.group) || has(self.forProvider.groupRef) || has(self.forProvider.groupSelector)",message="one of spec.forProvider.group, groupRef or groupSelector is required unless managementPolicies only observe"
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.user) || has(self.forProvider.userRef) || has(self.forProvider.userSelector)",message="one of spec.forProvider.user, userRef or userSelector is required unless managementPolicies only observe"
type GroupMembershipSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	Adoption                 `json:",inline"`
	ForProvider              GroupMembershipParameters `json:"forProvider"`
}

// A GroupMembershipStatus represents the observed state of a
// GroupMembership.
type GroupMembershipStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 GroupMembershipObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A GroupMembership puts one Authentik user in one group, with the group's
// add_user and remove_user actions: the group's other members, added in
// Authentik's UI or by other GroupMemberships, are never touched. A
// membership that exists in Authentik before this resource is managed
// (and removed when this resource is deleted) only with
// spec.adoptExisting. The external name is <group UUID>/<user id>.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="EXTERNAL-NAME",type="string",JSONPath=".metadata.annotations.crossplane\\.io/external-name"
// +kubebuilder:printcolumn:name="GROUP",type="string",JSONPath=".status.atProvider.groupName"
// +kubebuilder:printcolumn:name="USER",type="integer",JSONPath=".status.atProvider.user"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,authentik},shortName=akmember
type GroupMembership struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   GroupMembershipSpec   `json:"spec"`
	Status GroupMembershipStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// GroupMembershipList contains a list of GroupMembership.
type GroupMembershipList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GroupMembership `json:"items"`
}

// GroupMembership type metadata.
var (
	GroupMembershipKind, GroupMembershipGroupKind, GroupMembershipGroupVersionKind = kindOf(GroupMembership{})
)

func init() {
	SchemeBuilder.Register(&GroupMembership{}, &GroupMembershipList{})
}
