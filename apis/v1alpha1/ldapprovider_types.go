package v1alpha1

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reference"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// LDAP bind and search modes, as Authentik names them.
const (
	LDAPModeDirect = "direct"
	LDAPModeCached = "cached"
)

// LDAPProviderParameters are the fields of an Authentik LDAP provider that
// this resource manages. A field left unset is not managed: Authentik's
// value is kept and, except for the certificate, copied here on the first
// observation.
type LDAPProviderParameters struct {
	// Name of the provider in Authentik. It must be unique across all
	// provider types.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	Name *string `json:"name,omitempty"`

	// BaseDN is the DN under which the outpost serves users and groups,
	// for example DC=ldap,DC=example,DC=com. Authentik's default is
	// DC=ldap,DC=goauthentik,DC=io.
	// +optional
	// +kubebuilder:validation:Pattern=`^\S(.*\S)?$`
	BaseDN *string `json:"baseDN,omitempty"`

	// AuthorizationFlow is the slug of the bind flow: the flow a user
	// binding to the outpost runs to log in. Default:
	// default-authentication-flow.
	// +optional
	// +kubebuilder:validation:MinLength=1
	AuthorizationFlow *string `json:"authorizationFlow,omitempty"`

	// InvalidationFlow is the slug of the unbind flow, run when a session
	// with the provider ends. Default: default-invalidation-flow.
	// +optional
	// +kubebuilder:validation:MinLength=1
	InvalidationFlow *string `json:"invalidationFlow,omitempty"`

	// BindMode is how the outpost checks binds: direct (every bind runs the
	// flow, Authentik's default) or cached (binds are checked against the
	// outpost's cache after the first).
	// +optional
	// +kubebuilder:validation:Enum=direct;cached
	BindMode *string `json:"bindMode,omitempty"`

	// SearchMode is how the outpost answers searches: direct (each search
	// asks Authentik, Authentik's default) or cached (from the outpost's
	// copy of users and groups).
	// +optional
	// +kubebuilder:validation:Enum=direct;cached
	SearchMode *string `json:"searchMode,omitempty"`

	// MFASupport lets users append a semicolon and a TOTP code to their
	// password. Enable it only if every user binding to the provider has a
	// TOTP device, or a password with a semicolon may be refused.
	// Authentik's default is true.
	// +optional
	MFASupport *bool `json:"mfaSupport,omitempty"`

	// Certificate is the name of the certificate key pair the outpost
	// serves LDAPS and StartTLS with, for example "authentik Self-signed
	// Certificate". Use it or certificateId and certificateRef, not both.
	// +optional
	// +kubebuilder:validation:MinLength=1
	Certificate *string `json:"certificate,omitempty"`

	// CertificateID is the UUID of the certificate key pair the outpost
	// serves LDAPS and StartTLS with; certificateRef fills it.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`
	CertificateID *string `json:"certificateId,omitempty"`

	// CertificateRef names a CertificateKeyPair in this resource's
	// namespace that the outpost serves LDAPS with, resolved on every
	// reconcile into certificateId.
	// +optional
	CertificateRef *xpv2.Reference `json:"certificateRef,omitempty"`

	// TLSServerName is the server name (SNI) the outpost serves the
	// certificate for; empty for any.
	// +optional
	TLSServerName *string `json:"tlsServerName,omitempty"`

	// UIDStartNumber is added to a user's pk to make its uidNumber, so
	// that POSIX ids do not collide with local users. Authentik's default
	// is 2000.
	// +optional
	UIDStartNumber *int32 `json:"uidStartNumber,omitempty"`

	// GIDStartNumber is added to a number derived from a group's pk to
	// make its gidNumber. Authentik's default is 4000.
	// +optional
	GIDStartNumber *int32 `json:"gidStartNumber,omitempty"`
}

// LDAPProviderObservation is the state of the provider as Authentik
// reports it.
type LDAPProviderObservation struct {
	// PK is the provider's primary key in Authentik.
	PK *int32 `json:"pk,omitempty"`

	// AssignedApplicationSlug is the slug of the application using the provider.
	AssignedApplicationSlug *string `json:"assignedApplicationSlug,omitempty"`

	// AssignedApplicationName is the name of the application using the provider.
	AssignedApplicationName *string `json:"assignedApplicationName,omitempty"`

	// Outposts lists the outposts that serve the provider.
	Outposts []string `json:"outposts,omitempty"`

	// AuthorizationFlowUUID is the UUID the bind flow slug resolved to.
	AuthorizationFlowUUID *string `json:"authorizationFlowUUID,omitempty"`

	// InvalidationFlowUUID is the UUID the unbind flow slug resolved to.
	InvalidationFlowUUID *string `json:"invalidationFlowUUID,omitempty"`
}

// An LDAPProviderSpec defines the desired state of an LDAPProvider.
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.name)",message="spec.forProvider.name is required unless managementPolicies only observe"
// +kubebuilder:validation:XValidation:rule="!(has(self.forProvider.certificate) && (has(self.forProvider.certificateId) || has(self.forProvider.certificateRef)))",message="spec.forProvider.certificate names the key pair by name; spec.forProvider.certificateRef and certificateId name it otherwise: set one"
type LDAPProviderSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	Adoption                 `json:",inline"`
	ForProvider              LDAPProviderParameters `json:"forProvider"`
}

// An LDAPProviderStatus represents the observed state of an LDAPProvider.
type LDAPProviderStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 LDAPProviderObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// An LDAPProvider is an Authentik LDAP provider: an outpost of type ldap
// serves Authentik's users and groups to applications that log in over
// LDAP (media servers, NAS, Gitea). An Outpost serves it through
// providerRefs with kind LDAPProvider. The external name is the provider's
// numeric primary key in Authentik.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="EXTERNAL-NAME",type="string",JSONPath=".metadata.annotations.crossplane\\.io/external-name"
// +kubebuilder:printcolumn:name="BASE-DN",type="string",JSONPath=".spec.forProvider.baseDN"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,authentik},shortName=akldap
type LDAPProvider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   LDAPProviderSpec   `json:"spec"`
	Status LDAPProviderStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// LDAPProviderList contains a list of LDAPProvider.
type LDAPProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []LDAPProvider `json:"items"`
}

// ResolveReferences sets spec.forProvider.certificateId from the
// CertificateKeyPair that certificateRef names, on every reconcile, so a
// key pair made again with a new UUID is followed.
func (mg *LDAPProvider) ResolveReferences(ctx context.Context, c client.Reader) error {
	fp := &mg.Spec.ForProvider
	if fp.CertificateRef == nil {
		return nil
	}
	id, err := resolveKeyPair(ctx, c, mg, fp.CertificateRef, "spec.forProvider.certificateRef")
	if err != nil {
		return err
	}
	fp.CertificateID = id
	return nil
}

// resolveKeyPair returns the UUID of the CertificateKeyPair that ref names
// in mg's namespace; field names the reference in errors.
func resolveKeyPair(ctx context.Context, c client.Reader, mg resource.Managed, ref *xpv2.Reference, field string) (*string, error) {
	rsp, err := reference.NewAPINamespacedResolver(c, mg).Resolve(ctx, reference.NamespacedResolutionRequest{
		Reference: inNamespace(ref),
		To:        reference.To{Managed: &CertificateKeyPair{}, List: &CertificateKeyPairList{}},
		Extract:   reference.ExternalName(),
		Namespace: mg.GetNamespace(),
	})
	if err != nil {
		return nil, errors.Wrap(err, field)
	}
	return ptr.To(rsp.ResolvedValue), nil
}

// LDAPProvider type metadata.
var (
	LDAPProviderKind, LDAPProviderGroupKind, LDAPProviderGroupVersionKind = kindOf(LDAPProvider{})
)

func init() {
	SchemeBuilder.Register(&LDAPProvider{}, &LDAPProviderList{})
	registerProviderKind(LDAPProviderKind, func() reference.To {
		return reference.To{Managed: &LDAPProvider{}, List: &LDAPProviderList{}}
	})
}
