package v1alpha1

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reference"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// Proxy provider modes, as Authentik names them.
const (
	ProxyModeProxy         = "proxy"
	ProxyModeForwardSingle = "forward_single"
	ProxyModeForwardDomain = "forward_domain"
)

// ProxyProviderParameters are the fields of an Authentik proxy provider that
// this resource manages. A field left unset is not managed: Authentik's value
// is kept and copied here on the first observation.
// +kubebuilder:validation:XValidation:rule="!has(self.basicAuthEnabled) || !self.basicAuthEnabled || (has(self.basicAuthUserAttribute) && size(self.basicAuthUserAttribute) > 0 && has(self.basicAuthPasswordAttribute) && size(self.basicAuthPasswordAttribute) > 0)",message="basicAuthUserAttribute and basicAuthPasswordAttribute are required when basicAuthEnabled is true"
type ProxyProviderParameters struct {
	// Name of the provider in Authentik. It must be unique across all
	// provider types.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	Name *string `json:"name,omitempty"`

	// Mode is how the outpost serves the application: proxy (the outpost
	// forwards traffic to internalHost), forward_single (forward auth for one
	// host) or forward_domain (forward auth for a whole domain). Authentik's
	// default is proxy.
	// +optional
	// +kubebuilder:validation:Enum=proxy;forward_single;forward_domain
	Mode *string `json:"mode,omitempty"`

	// ExternalHost is the URL users open, for example https://app.example.com.
	// +optional
	// +kubebuilder:validation:Pattern=`^https?://[^\s/]+(/\S*)?$`
	ExternalHost *string `json:"externalHost,omitempty"`

	// InternalHost is the upstream URL the outpost forwards to. Required when
	// mode is proxy.
	// +optional
	// +kubebuilder:validation:Pattern=`^(https?://[^\s/]+(/\S*)?)?$`
	InternalHost *string `json:"internalHost,omitempty"`

	// InternalHostSSLValidation verifies the upstream's TLS certificate.
	// +optional
	InternalHostSSLValidation *bool `json:"internalHostSSLValidation,omitempty"`

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

	// CookieDomain is the domain the session cookie is set for; needed with
	// mode forward_domain, for example example.com.
	// +optional
	CookieDomain *string `json:"cookieDomain,omitempty"`

	// SkipPathRegex lists regular expressions, one per line, for paths that
	// need no authentication.
	// +optional
	SkipPathRegex *string `json:"skipPathRegex,omitempty"`

	// BasicAuthEnabled sends an HTTP Basic Authorization header built from
	// user or group attributes to the upstream.
	// +optional
	BasicAuthEnabled *bool `json:"basicAuthEnabled,omitempty"`

	// BasicAuthUserAttribute is the user or group attribute used as the
	// Basic auth user name.
	// +optional
	BasicAuthUserAttribute *string `json:"basicAuthUserAttribute,omitempty"`

	// BasicAuthPasswordAttribute is the user or group attribute used as the
	// Basic auth password.
	// +optional
	BasicAuthPasswordAttribute *string `json:"basicAuthPasswordAttribute,omitempty"`

	// InterceptHeaderAuth authenticates requests by their Authorization
	// header instead of passing it to the upstream.
	// +optional
	InterceptHeaderAuth *bool `json:"interceptHeaderAuth,omitempty"`

	// AccessTokenValidity is how long access tokens stay valid, in
	// Authentik's format, for example "hours=1;minutes=30".
	// +optional
	// +kubebuilder:validation:Pattern=`^((weeks|days|hours|minutes|seconds|milliseconds|microseconds)=[0-9.]+;?)+$`
	AccessTokenValidity *string `json:"accessTokenValidity,omitempty"`

	// RefreshTokenValidity is how long refresh tokens stay valid, in
	// Authentik's format, for example "days=30".
	// +optional
	// +kubebuilder:validation:Pattern=`^((weeks|days|hours|minutes|seconds|milliseconds|microseconds)=[0-9.]+;?)+$`
	RefreshTokenValidity *string `json:"refreshTokenValidity,omitempty"`

	// Certificate is the UUID of the certificate key pair a proxy outpost
	// serves the external host's TLS with; certificateRef fills it. Unset,
	// the outpost uses its own certificate.
	// +optional
	// +kubebuilder:validation:Format=uuid
	Certificate *string `json:"certificate,omitempty"`

	// CertificateRef names a CertificateKeyPair in this resource's namespace
	// whose UUID fills certificate, resolved on every reconcile. The
	// provider waits for the key pair's UUID; a renewed certificate keeps
	// it, so the provider is not rewritten.
	// +optional
	CertificateRef *xpv2.Reference `json:"certificateRef,omitempty"`

	// PropertyMappings are UUIDs of scope mappings added to the provider.
	// Authentik always adds its default mappings; only these are checked.
	// +optional
	// +listType=set
	PropertyMappings []string `json:"propertyMappings,omitempty"`
}

// ProxyProviderObservation is the state of the provider as Authentik reports it.
type ProxyProviderObservation struct {
	// PK is the provider's primary key in Authentik.
	PK *int32 `json:"pk,omitempty"`

	// ClientID is the OAuth2 client id Authentik generated for the provider.
	ClientID *string `json:"clientId,omitempty"`

	// AssignedApplicationSlug is the slug of the application using the provider.
	AssignedApplicationSlug *string `json:"assignedApplicationSlug,omitempty"`

	// AssignedApplicationName is the name of the application using the provider.
	AssignedApplicationName *string `json:"assignedApplicationName,omitempty"`

	// Outposts lists the outposts that serve the provider.
	Outposts []string `json:"outposts,omitempty"`

	// RedirectURIs are the OAuth2 redirect URIs Authentik derived from externalHost.
	RedirectURIs []string `json:"redirectURIs,omitempty"`

	// AuthorizationFlowUUID is the UUID the authorization flow slug resolved to.
	AuthorizationFlowUUID *string `json:"authorizationFlowUUID,omitempty"`

	// InvalidationFlowUUID is the UUID the invalidation flow slug resolved to.
	InvalidationFlowUUID *string `json:"invalidationFlowUUID,omitempty"`
}

// A ProxyProviderSpec defines the desired state of a ProxyProvider.
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.name)",message="spec.forProvider.name is required unless managementPolicies only observe"
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.externalHost)",message="spec.forProvider.externalHost is required unless managementPolicies only observe"
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || (has(self.forProvider.mode) && self.forProvider.mode != 'proxy') || (has(self.forProvider.internalHost) && size(self.forProvider.internalHost) > 0)",message="spec.forProvider.internalHost is required when mode is proxy (Authentik's default mode)"
type ProxyProviderSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	Adoption                 `json:",inline"`
	ForProvider              ProxyProviderParameters `json:"forProvider"`
}

// A ProxyProviderStatus represents the observed state of a ProxyProvider.
type ProxyProviderStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 ProxyProviderObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A ProxyProvider is an Authentik proxy provider: it puts an outpost in front
// of an application, as a reverse proxy or for forward authentication. The
// external name is the provider's numeric primary key in Authentik.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="EXTERNAL-NAME",type="string",JSONPath=".metadata.annotations.crossplane\\.io/external-name"
// +kubebuilder:printcolumn:name="MODE",type="string",JSONPath=".spec.forProvider.mode"
// +kubebuilder:printcolumn:name="EXTERNAL-HOST",type="string",JSONPath=".spec.forProvider.externalHost",priority=1
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,authentik},shortName=akproxy
type ProxyProvider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ProxyProviderSpec   `json:"spec"`
	Status ProxyProviderStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ProxyProviderList contains a list of ProxyProvider.
type ProxyProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProxyProvider `json:"items"`
}

// ResolveReferences sets spec.forProvider.certificate from the
// CertificateKeyPair that certificateRef names, on every reconcile, so a
// key pair made again with a new UUID is followed.
func (mg *ProxyProvider) ResolveReferences(ctx context.Context, c client.Reader) error {
	fp := &mg.Spec.ForProvider
	if fp.CertificateRef == nil {
		return nil
	}
	id, err := resolveKeyPair(ctx, c, mg, fp.CertificateRef, "spec.forProvider.certificateRef")
	if err != nil {
		return err
	}
	fp.Certificate = id
	return nil
}

// ProxyProvider type metadata.
var (
	ProxyProviderKind, ProxyProviderGroupKind, ProxyProviderGroupVersionKind = kindOf(ProxyProvider{})
)

func init() {
	SchemeBuilder.Register(&ProxyProvider{}, &ProxyProviderList{})
	registerProviderKind(ProxyProviderKind, func() reference.To {
		return reference.To{Managed: &ProxyProvider{}, List: &ProxyProviderList{}}
	})
}
