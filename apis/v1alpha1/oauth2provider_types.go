package v1alpha1

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reference"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// OAuth2 client types, redirect URI matching modes, subject modes and
// issuer modes, as Authentik names them.
const (
	ClientTypeConfidential = "confidential"
	ClientTypePublic       = "public"

	MatchingModeStrict = "strict"
	MatchingModeRegex  = "regex"

	IssuerModeGlobal      = "global"
	IssuerModePerProvider = "per_provider"
)

// Keys of an OAuth2Provider's connection Secret.
const (
	// ConnectionClientID holds the OAuth2 client id.
	ConnectionClientID = "client_id"
	// ConnectionClientSecret holds the OAuth2 client secret.
	ConnectionClientSecret = "client_secret"
	// ConnectionIssuer holds the OpenID Connect issuer URL, once an
	// application uses the provider (a per-provider issuer names the
	// application's slug).
	ConnectionIssuer = "issuer"
	// ConnectionDiscoveryURL holds the OpenID Connect discovery document's
	// URL, with the issuer.
	ConnectionDiscoveryURL = "discovery_url"
)

// A RedirectURI is one URI Authentik may send users back to after they
// authorised the client.
type RedirectURI struct {
	// MatchingMode is how a client's redirect_uri is compared with url:
	// strict (equal) or regex (url is a regular expression). Default: strict.
	// +optional
	// +kubebuilder:validation:Enum=strict;regex
	// +kubebuilder:default=strict
	MatchingMode string `json:"matchingMode,omitempty"`

	// URL is the redirect URI, or a regular expression with matching mode
	// regex.
	// +kubebuilder:validation:MinLength=1
	URL string `json:"url"`
}

// OAuth2ProviderParameters are the fields of an Authentik OAuth2/OpenID
// provider that this resource manages. A field left unset is not managed:
// Authentik's value is kept and, except for the scope mappings and the
// signing key, copied here on the first observation.
type OAuth2ProviderParameters struct {
	// Name of the provider in Authentik. It must be unique across all
	// provider types.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	Name *string `json:"name,omitempty"`

	// ClientType is confidential (the application keeps a client secret,
	// the usual case for a server-side app) or public (a browser or mobile
	// app that cannot). Authentik's default is confidential.
	// +optional
	// +kubebuilder:validation:Enum=confidential;public
	ClientType *string `json:"clientType,omitempty"`

	// ClientID is the OAuth2 client id. Unset, Authentik generates one,
	// which is then copied here.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	ClientID *string `json:"clientId,omitempty"`

	// ClientSecretSecretRef names a key of a Secret in this resource's
	// namespace that holds the client secret. Unset, Authentik generates the
	// secret. Either way the secret is written to the connection Secret
	// (writeConnectionSecretToRef); a new value in this Secret reaches
	// Authentik at the next reconcile.
	// +optional
	ClientSecretSecretRef *xpv2.LocalSecretKeySelector `json:"clientSecretSecretRef,omitempty"`

	// RedirectURIs are the URIs Authentik may redirect to after login.
	// Compared as a set with Authentik's.
	// +optional
	// +listType=atomic
	RedirectURIs []RedirectURI `json:"redirectUris,omitempty"`

	SigningKeyParameters `json:",inline"`

	// ScopeMappings are the scope property mappings the provider offers,
	// each named by its managed key (for Authentik's own, for example
	// goauthentik.io/providers/oauth2/scope-openid) or by its name; those
	// of scopeMappingRefs come beside them. Compared as a set with
	// Authentik's.
	// +optional
	// +listType=set
	ScopeMappings []string `json:"scopeMappings,omitempty"`

	// ScopeMappingIDs are the UUIDs of more scope mappings the provider
	// offers, beside scopeMappings; usually filled from scopeMappingRefs or
	// scopeMappingSelector. Together with scopeMappings they are compared
	// as a set with Authentik's.
	// +optional
	// +listType=set
	// +kubebuilder:validation:items:Format=uuid
	ScopeMappingIDs []string `json:"scopeMappingIds,omitempty"`

	// ScopeMappingRefs name ScopeMappings in this namespace whose UUIDs fill
	// scopeMappingIds. They are resolved on every reconcile.
	// +optional
	ScopeMappingRefs []xpv2.Reference `json:"scopeMappingRefs,omitempty"`

	// ScopeMappingSelector selects ScopeMappings in this namespace by their
	// labels to fill scopeMappingRefs.
	// +optional
	ScopeMappingSelector *xpv2.Selector `json:"scopeMappingSelector,omitempty"`

	// AccessCodeValidity is how long authorization codes stay valid, in
	// Authentik's format, for example "minutes=1".
	// +optional
	// +kubebuilder:validation:Pattern=`^((weeks|days|hours|minutes|seconds|milliseconds|microseconds)=[0-9.]+;?)+$`
	AccessCodeValidity *string `json:"accessCodeValidity,omitempty"`

	// AccessTokenValidity is how long access tokens stay valid, for example
	// "hours=1".
	// +optional
	// +kubebuilder:validation:Pattern=`^((weeks|days|hours|minutes|seconds|milliseconds|microseconds)=[0-9.]+;?)+$`
	AccessTokenValidity *string `json:"accessTokenValidity,omitempty"`

	// RefreshTokenValidity is how long refresh tokens stay valid, for
	// example "days=30".
	// +optional
	// +kubebuilder:validation:Pattern=`^((weeks|days|hours|minutes|seconds|milliseconds|microseconds)=[0-9.]+;?)+$`
	RefreshTokenValidity *string `json:"refreshTokenValidity,omitempty"`

	// SubMode is what the token's sub claim holds: hashed_user_id
	// (Authentik's default), user_id, user_uuid, user_username, user_email
	// or user_upn.
	// +optional
	// +kubebuilder:validation:Enum=hashed_user_id;user_id;user_uuid;user_username;user_email;user_upn
	SubMode *string `json:"subMode,omitempty"`

	// IncludeClaimsInIDToken puts the scopes' claims in the id_token, for
	// applications that do not call the userinfo endpoint.
	// +optional
	IncludeClaimsInIDToken *bool `json:"includeClaimsInIdToken,omitempty"`

	// IssuerMode is per_provider (Authentik's default: the issuer is
	// <authentik>/application/o/<application slug>/) or global (the issuer
	// is Authentik's base URL).
	// +optional
	// +kubebuilder:validation:Enum=global;per_provider
	IssuerMode *string `json:"issuerMode,omitempty"`

	// AuthorizationFlow is the slug of the flow that authorizes users for
	// this provider. Default: default-provider-authorization-implicit-consent.
	// +optional
	// +kubebuilder:validation:MinLength=1
	AuthorizationFlow *string `json:"authorizationFlow,omitempty"`

	// InvalidationFlow is the slug of the flow that ends a session with this
	// provider. Default: default-provider-invalidation-flow.
	// +optional
	// +kubebuilder:validation:MinLength=1
	InvalidationFlow *string `json:"invalidationFlow,omitempty"`
}

// OAuth2ProviderObservation is the state of the provider as Authentik
// reports it. The client secret is never shown here.
type OAuth2ProviderObservation struct {
	// PK is the provider's primary key in Authentik.
	PK *int32 `json:"pk,omitempty"`

	// ClientID is the provider's OAuth2 client id.
	ClientID *string `json:"clientId,omitempty"`

	// AssignedApplicationSlug is the slug of the application using the provider.
	AssignedApplicationSlug *string `json:"assignedApplicationSlug,omitempty"`

	// AssignedApplicationName is the name of the application using the provider.
	AssignedApplicationName *string `json:"assignedApplicationName,omitempty"`

	// Issuer is the OpenID Connect issuer URL; empty until an application
	// uses the provider when the issuer mode is per_provider.
	Issuer *string `json:"issuer,omitempty"`

	// ScopeMappings are the provider's scope mappings, by managed key or name.
	ScopeMappings []string `json:"scopeMappings,omitempty"`

	// SigningKeyUUID is the UUID the signing key's name resolved to.
	SigningKeyUUID *string `json:"signingKeyUUID,omitempty"`

	// AuthorizationFlowUUID is the UUID the authorization flow slug resolved to.
	AuthorizationFlowUUID *string `json:"authorizationFlowUUID,omitempty"`

	// InvalidationFlowUUID is the UUID the invalidation flow slug resolved to.
	InvalidationFlowUUID *string `json:"invalidationFlowUUID,omitempty"`
}

// An OAuth2ProviderSpec defines the desired state of an OAuth2Provider.
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.name)",message="spec.forProvider.name is required unless managementPolicies only observe"
// +kubebuilder:validation:XValidation:rule="!(has(self.forProvider.signingKey) && (has(self.forProvider.signingKeyId) || has(self.forProvider.signingKeyRef)))",message="spec.forProvider.signingKey names the signing key by name; spec.forProvider.signingKeyRef and signingKeyId name it otherwise: set one"
type OAuth2ProviderSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	Adoption                 `json:",inline"`
	ForProvider              OAuth2ProviderParameters `json:"forProvider"`
}

// An OAuth2ProviderStatus represents the observed state of an OAuth2Provider.
type OAuth2ProviderStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 OAuth2ProviderObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// An OAuth2Provider is an Authentik OAuth2/OpenID Connect provider: the
// client an application logs its users in with. Its client id, client
// secret, issuer and discovery URL are written to the Secret named by
// spec.writeConnectionSecretToRef. The external name is the provider's
// numeric primary key in Authentik.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="EXTERNAL-NAME",type="string",JSONPath=".metadata.annotations.crossplane\\.io/external-name"
// +kubebuilder:printcolumn:name="CLIENT-TYPE",type="string",JSONPath=".spec.forProvider.clientType"
// +kubebuilder:printcolumn:name="ISSUER",type="string",JSONPath=".status.atProvider.issuer",priority=1
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,authentik},shortName=akoauth2
type OAuth2Provider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   OAuth2ProviderSpec   `json:"spec"`
	Status OAuth2ProviderStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// OAuth2ProviderList contains a list of OAuth2Provider.
type OAuth2ProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OAuth2Provider `json:"items"`
}

// ResolveReferences sets spec.forProvider.scopeMappingIds from the
// ScopeMappings that scopeMappingRefs or scopeMappingSelector name.
// References are resolved on every reconcile, so a mapping that was made
// again with a new UUID is followed; a selector only fills empty
// references.
func (mg *OAuth2Provider) ResolveReferences(ctx context.Context, c client.Reader) error {
	fp := &mg.Spec.ForProvider
	if err := fp.resolveSigningKey(ctx, c, mg); err != nil {
		return err
	}
	if len(fp.ScopeMappingRefs) == 0 && fp.ScopeMappingSelector == nil {
		return nil
	}
	var current []string
	if len(fp.ScopeMappingRefs) == 0 {
		current = fp.ScopeMappingIDs
	}
	rsp, err := reference.NewAPINamespacedResolver(c, mg).ResolveMultiple(ctx, reference.MultiNamespacedResolutionRequest{
		CurrentValues: current,
		References:    inNamespaces(fp.ScopeMappingRefs),
		Selector:      selectInNamespace(fp.ScopeMappingSelector),
		To:            reference.To{Managed: &ScopeMapping{}, List: &ScopeMappingList{}},
		Extract:       reference.ExternalName(),
		Namespace:     mg.GetNamespace(),
	})
	if err != nil {
		return errors.Wrap(err, "spec.forProvider.scopeMappingRefs")
	}
	fp.ScopeMappingIDs = rsp.ResolvedValues
	fp.ScopeMappingRefs = locals(rsp.ResolvedReferences)
	return nil
}

// OAuth2Provider type metadata.
var (
	OAuth2ProviderKind, OAuth2ProviderGroupKind, OAuth2ProviderGroupVersionKind = kindOf(OAuth2Provider{})
)

func init() {
	SchemeBuilder.Register(&OAuth2Provider{}, &OAuth2ProviderList{})
	registerProviderKind(OAuth2ProviderKind, func() reference.To {
		return reference.To{Managed: &OAuth2Provider{}, List: &OAuth2ProviderList{}}
	})
}
