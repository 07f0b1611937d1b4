package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// UserParameters are the fields of an Authentik user that this resource
// manages. A field left unset is not managed: Authentik's value is kept and
// copied here on the first observation. Passwords and group memberships
// are never managed here (see GroupMembership).
type UserParameters struct {
	// Username the user logs in with; unique in Authentik.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=150
	Username *string `json:"username,omitempty"`

	// Name is the user's display name; it may be empty.
	// +optional
	Name *string `json:"name,omitempty"`

	// Email is the user's email address; it may be empty.
	// +optional
	Email *string `json:"email,omitempty"`

	// Type of the account: internal (a person of the organisation),
	// external (a person from outside), or service_account (a robot: it is
	// made with an app password token, written to the connection Secret
	// under the key token). internal_service_account is Authentik's own
	// type for its outposts; it can be imported but not made.
	// +optional
	// +kubebuilder:validation:Enum=internal;external;service_account;internal_service_account
	Type *string `json:"type,omitempty"`

	// IsActive lets the user log in; an inactive user is kept but cannot.
	// Authentik's default is true.
	// +optional
	IsActive *bool `json:"isActive,omitempty"`

	// Path places the user in Authentik's user directory, for example
	// users/engineering: segments separated by slashes, with none at
	// either end. Authentik's default is users, and
	// goauthentik.io/service-accounts for service accounts.
	// +optional
	// +kubebuilder:validation:Pattern=`^[^/]+(/[^/]+)*$`
	Path *string `json:"path,omitempty"`

	// Attributes is a JSON object of custom attributes, used by property
	// mappings and policies. When set, it replaces all of the user's
	// attributes (a service account's goauthentik.io/user/token-expires
	// too).
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	Attributes *runtime.RawExtension `json:"attributes,omitempty"`
}

// UserObservation is the state of the user as Authentik reports it.
type UserObservation struct {
	// PK is the user's numeric id in Authentik, which GroupMemberships and
	// policy bindings name.
	PK *int32 `json:"pk,omitempty"`

	// UUID is the user's UUID in Authentik.
	UUID *string `json:"uuid,omitempty"`

	// IsSuperuser tells whether one of the user's groups makes the user an
	// Authentik superuser.
	IsSuperuser *bool `json:"isSuperuser,omitempty"`

	// TokenIdentifier is the identifier of a service account's token in
	// Authentik, whose key is in the connection Secret.
	TokenIdentifier *string `json:"tokenIdentifier,omitempty"`
}

// A UserSpec defines the desired state of a User.
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.username)",message="spec.forProvider.username is required unless managementPolicies only observe"
type UserSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	Adoption                 `json:",inline"`
	ForProvider              UserParameters `json:"forProvider"`
}

// A UserStatus represents the observed state of a User.
type UserStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 UserObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A User is an Authentik user without a password: a person's account that
// logs in through a source or sets a password themselves, or a service
// account whose token is written to the connection Secret
// (spec.writeConnectionSecretToRef) under the keys username and token. The
// external name is the user's numeric id, which Authentik assigns.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="EXTERNAL-NAME",type="string",JSONPath=".metadata.annotations.crossplane\\.io/external-name"
// +kubebuilder:printcolumn:name="USERNAME",type="string",JSONPath=".spec.forProvider.username"
// +kubebuilder:printcolumn:name="TYPE",type="string",JSONPath=".spec.forProvider.type"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,authentik},shortName=akuser
type User struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   UserSpec   `json:"spec"`
	Status UserStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// UserList contains a list of User.
type UserList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []User `json:"items"`
}

// User type metadata.
var (
	UserKind, UserGroupKind, UserGroupVersionKind = kindOf(User{})
)

func init() {
	SchemeBuilder.Register(&User{}, &UserList{})
}
