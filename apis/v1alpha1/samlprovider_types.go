package v1alpha1

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reference"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// SAML bindings, as Authentik names them (SAMLBindings in
// authentik/providers/saml/models.py).
const (
	SAMLBindingRedirect = "redirect"
	SAMLBindingPost     = "post"
)

// SAMLProviderParameters are the fields of an Authentik SAML provider that
// this resource manages. A field left unset is not managed: Authentik's
// value is kept and, except for the issuer, the property mappings and the
// signing key, copied here on the first observation.
type SAMLProviderParameters struct {
	// Name of the provider in Authentik. It must be unique across all
	// provider types.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	Name *string `json:"name,omitempty"`

	// ACSURL is the service provider's Assertion Consumer Service URL, where
	// Authentik sends the SAML response, for example
	// https://app.example.com/saml/acs.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:Pattern=`^[hH][tT][tT][pP][sS]?://[^\s]+$`
	ACSURL *string `json:"acsUrl,omitempty"`

	// Audience is the value of the assertion's audience restriction,
	// usually the service provider's entity id; empty adds none. No
	// surrounding whitespace: Authentik trims it.
	// +optional
	// +kubebuilder:validation:Pattern=`^(\S(.*\S)?)?$`
	Audience *string `json:"audience,omitempty"`

	// Issuer is the EntityID Authentik signs as. Authentik 2026.5 and later
	// call it issuer_override and derive a default from the provider;
	// earlier releases default to "authentik".
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:Pattern=`^\S(.*\S)?$`
	Issuer *string `json:"issuer,omitempty"`

	// SPBinding is how Authentik sends the response back to the service
	// provider: redirect (Authentik's default) or post.
	// +optional
	// +kubebuilder:validation:Enum=redirect;post
	SPBinding *string `json:"spBinding,omitempty"`

	// SignAssertion signs the assertion (Authentik's default: true).
	// +optional
	SignAssertion *bool `json:"signAssertion,omitempty"`

	// SignResponse signs the whole response (Authentik's default: false).
	// +optional
	SignResponse *bool `json:"signResponse,omitempty"`

	// DefaultRelayState is the relay state of IdP-initiated logins.
	// +optional
	// +kubebuilder:validation:Pattern=`^(\S(.*\S)?)?$`
	DefaultRelayState *string `json:"defaultRelayState,omitempty"`

	SigningKeyParameters `json:",inline"`

	// PropertyMappingIDs are the UUIDs of the SAML property mappings that
	// make the assertion's attributes (Authentik's own are managed
	// goauthentik.io/providers/saml/*); propertyMappingRefs and
	// propertyMappingSelector fill it. Compared as a set with Authentik's.
	// +optional
	// +listType=set
	// +kubebuilder:validation:items:Format=uuid
	PropertyMappingIDs []string `json:"propertyMappingIds,omitempty"`

	// PropertyMappingRefs name SAMLPropertyMappings in this namespace whose
	// UUIDs fill propertyMappingIds. They are resolved on every reconcile;
	// the provider waits for every mapping's UUID.
	// +optional
	PropertyMappingRefs []xpv2.Reference `json:"propertyMappingRefs,omitempty"`

	// PropertyMappingSelector selects SAMLPropertyMappings in this namespace
	// by their labels to fill propertyMappingRefs.
	// +optional
	PropertyMappingSelector *xpv2.Selector `json:"propertyMappingSelector,omitempty"`

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

// SAMLProviderObservation is the state of the provider as Authentik
// reports it.
type SAMLProviderObservation struct {
	// PK is the provider's primary key in Authentik.
	PK *int32 `json:"pk,omitempty"`

	// AssignedApplicationSlug is the slug of the application using the provider.
	AssignedApplicationSlug *string `json:"assignedApplicationSlug,omitempty"`

	// AssignedApplicationName is the name of the application using the provider.
	AssignedApplicationName *string `json:"assignedApplicationName,omitempty"`

	// Issuer is the EntityID the provider signs as.
	Issuer *string `json:"issuer,omitempty"`

	// MetadataURL is where the service provider downloads the IdP metadata.
	MetadataURL *string `json:"metadataUrl,omitempty"`

	// SigningKeyUUID is the UUID of the key pair that signs responses.
	SigningKeyUUID *string `json:"signingKeyUUID,omitempty"`

	// AuthorizationFlowUUID is the UUID the authorization flow slug resolved to.
	AuthorizationFlowUUID *string `json:"authorizationFlowUUID,omitempty"`

	// InvalidationFlowUUID is the UUID the invalidation flow slug resolved to.
	InvalidationFlowUUID *string `json:"invalidationFlowUUID,omitempty"`
}

// A SAMLProviderSpec defines the desired state of a SAMLProvider.
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.name)",message="spec.forProvider.name is required unless managementPolicies only observe"
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.acsUrl)",message="spec.forProvider.acsUrl is required unless managementPolicies only observe"
// +kubebuilder:validation:XValidation:rule="!(has(self.forProvider.signingKey) && (has(self.forProvider.signingKeyId) || has(self.forProvider.signingKeyRef)))",message="spec.forProvider.signingKey names the signing key by name; spec.forProvider.signingKeyRef and signingKeyId name it otherwise: set one"
// +kubebuilder:validation:XValidation:rule="!(has(self.forProvider.signingKey) || has(self.forProvider.signingKeyId) || has(self.forProvider.signingKeyRef)) || (has(self.forProvider.signAssertion) && self.forProvider.signAssertion) || (has(self.forProvider.signResponse) && self.forProvider.signResponse)",message="spec.forProvider.signAssertion or spec.forProvider.signResponse must be true when a signing key is set: Authentik refuses a signing key that signs nothing"
type SAMLProviderSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	Adoption                 `json:",inline"`
	ForProvider              SAMLProviderParameters `json:"forProvider"`
}

// A SAMLProviderStatus represents the observed state of a SAMLProvider.
type SAMLProviderStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 SAMLProviderObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A SAMLProvider is an Authentik SAML provider: the identity provider side
// of a SAML application, which an Application serves with
// providerRef.kind SAMLProvider. The external name is the provider's
// numeric primary key in Authentik.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="EXTERNAL-NAME",type="string",JSONPath=".metadata.annotations.crossplane\\.io/external-name"
// +kubebuilder:printcolumn:name="ACS-URL",type="string",JSONPath=".spec.forProvider.acsUrl"
// +kubebuilder:printcolumn:name="ISSUER",type="string",JSONPath=".status.atProvider.issuer",priority=1
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,authentik},shortName=aksaml
type SAMLProvider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   SAMLProviderSpec   `json:"spec"`
	Status SAMLProviderStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// SAMLProviderList contains a list of SAMLProvider.
type SAMLProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SAMLProvider `json:"items"`
}

// ResolveReferences sets spec.forProvider.signingKeyId from the
// CertificateKeyPair signingKeyRef names and propertyMappingIds from the
// SAMLPropertyMappings propertyMappingRefs or propertyMappingSelector name,
// on every reconcile, so an object made again with a new UUID is followed;
// a selector only fills empty references.
func (mg *SAMLProvider) ResolveReferences(ctx context.Context, c client.Reader) error {
	fp := &mg.Spec.ForProvider
	if err := fp.resolveSigningKey(ctx, c, mg); err != nil {
		return err
	}
	if len(fp.PropertyMappingRefs) == 0 && fp.PropertyMappingSelector == nil {
		return nil
	}
	var current []string
	if len(fp.PropertyMappingRefs) == 0 {
		current = fp.PropertyMappingIDs
	}
	rsp, err := reference.NewAPINamespacedResolver(c, mg).ResolveMultiple(ctx, reference.MultiNamespacedResolutionRequest{
		CurrentValues: current,
		References:    inNamespaces(fp.PropertyMappingRefs),
		Selector:      selectInNamespace(fp.PropertyMappingSelector),
		To:            reference.To{Managed: &SAMLPropertyMapping{}, List: &SAMLPropertyMappingList{}},
		Extract:       reference.ExternalName(),
		Namespace:     mg.GetNamespace(),
	})
	if err != nil {
		return errors.Wrap(err, "spec.forProvider.propertyMappingRefs")
	}
	fp.PropertyMappingIDs = rsp.ResolvedValues
	fp.PropertyMappingRefs = locals(rsp.ResolvedReferences)
	return nil
}

// SAMLProvider type metadata.
var (
	SAMLProviderKind, SAMLProviderGroupKind, SAMLProviderGroupVersionKind = kindOf(SAMLProvider{})
)

func init() {
	SchemeBuilder.Register(&SAMLProvider{}, &SAMLProviderList{})
	registerProviderKind(SAMLProviderKind, func() reference.To {
		return reference.To{Managed: &SAMLProvider{}, List: &SAMLProviderList{}}
	})
}
