package v1alpha1

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// Outpost types, as Authentik names them.
const (
	OutpostTypeProxy  = "proxy"
	OutpostTypeLDAP   = "ldap"
	OutpostTypeRadius = "radius"
	OutpostTypeRAC    = "rac"
)

// OutpostParameters are the fields of an Authentik outpost that this resource
// manages. A field left unset is not managed: Authentik's value is kept.
type OutpostParameters struct {
	// Name of the outpost in Authentik. It must be unique among outposts.
	// +optional
	// +kubebuilder:validation:MinLength=1
	Name *string `json:"name,omitempty"`

	// Type of the outpost: proxy, ldap, radius or rac. A proxy outpost
	// serves only proxy providers, an ldap outpost only LDAP providers
	// (providerRefs with kind LDAPProvider). Default: proxy.
	// +optional
	// +kubebuilder:validation:Enum=proxy;ldap;radius;rac
	Type *string `json:"type,omitempty"`

	// Config holds outpost settings as a JSON object, for example
	// {"log_level": "debug", "kubernetes_replicas": 2}. On create they are
	// merged over Authentik's default settings; afterwards only the keys
	// set here are compared and restored, every other key is left as it is.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	Config *runtime.RawExtension `json:"config,omitempty"`

	// ServiceConnection is the UUID of the Docker or Kubernetes service
	// connection Authentik deploys the outpost with; "" means none, so the
	// outpost is deployed by hand.
	// +optional
	// +kubebuilder:validation:Pattern=`^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$`
	ServiceConnection *string `json:"serviceConnection,omitempty"`

	// ProviderIDs are the pks of providers this outpost serves on its own
	// behalf. Authentik refuses to create an outpost without providers, so
	// name at least one here or with providerRefs. The outpost attaches
	// missing ones, detaches those it attached that leave this list, and
	// never touches providers attached by others (OutpostBindings, the
	// admin interface). Unset: the provider list is not managed.
	// +optional
	// +listType=set
	ProviderIDs []int32 `json:"providerIds,omitempty"`

	// ProviderRefs name providers in this namespace, each by kind (default
	// ProxyProvider) and name, whose pks fill providerIds. They are resolved
	// on every reconcile, so a provider that was made again is followed.
	// +optional
	ProviderRefs []ProviderReference `json:"providerRefs,omitempty"`

	// ProviderSelector selects providers of one kind (default
	// ProxyProvider) in this namespace whose pks fill providerIds.
	// +optional
	ProviderSelector *ProviderSelector `json:"providerSelector,omitempty"`
}

// OutpostObservation is the state of the outpost as Authentik reports it.
type OutpostObservation struct {
	// ID is the outpost's UUID in Authentik.
	ID *string `json:"id,omitempty"`

	// Providers are the pks of every provider the outpost serves, whoever
	// attached them.
	Providers []int32 `json:"providers,omitempty"`

	// AttachedProviderIDs are the providers this resource attached. A
	// provider removed from spec.forProvider.providerIds is detached only if
	// it is listed here.
	AttachedProviderIDs []int32 `json:"attachedProviderIds,omitempty"`

	// Managed is set when Authentik itself manages the outpost, for example
	// goauthentik.io/outposts/embedded.
	Managed *string `json:"managed,omitempty"`

	// TokenIdentifier names the API token the outpost authenticates with.
	TokenIdentifier *string `json:"tokenIdentifier,omitempty"`

	// RefreshIntervalSeconds is how often the outpost reloads its
	// configuration.
	RefreshIntervalSeconds *int32 `json:"refreshIntervalSeconds,omitempty"`
}

// An OutpostSpec defines the desired state of an Outpost.
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.name)",message="spec.forProvider.name is required unless managementPolicies only observe"
type OutpostSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	Adoption                 `json:",inline"`
	ForProvider              OutpostParameters `json:"forProvider"`
}

// An OutpostStatus represents the observed state of an Outpost.
type OutpostStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 OutpostObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// An Outpost is an Authentik outpost: the component that serves providers,
// for example a reverse proxy in front of applications. Every Authentik has
// an embedded outpost; use this kind for additional ones, and
// OutpostBindings to attach providers to any outpost. The external name is
// the outpost's UUID in Authentik.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="EXTERNAL-NAME",type="string",JSONPath=".metadata.annotations.crossplane\\.io/external-name"
// +kubebuilder:printcolumn:name="TYPE",type="string",JSONPath=".spec.forProvider.type"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,authentik},shortName=akoutpost
type Outpost struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   OutpostSpec   `json:"spec"`
	Status OutpostStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// OutpostList contains a list of Outpost.
type OutpostList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Outpost `json:"items"`
}

// ResolveReferences sets spec.forProvider.providerIds from the providers
// that providerRefs or providerSelector name.
func (mg *Outpost) ResolveReferences(ctx context.Context, c client.Reader) error {
	fp := &mg.Spec.ForProvider
	pks, refs, err := resolveProviders(ctx, c, mg, providerFields{ref: "spec.forProvider.providerRefs", selector: "spec.forProvider.providerSelector"}, fp.ProviderIDs, fp.ProviderRefs, fp.ProviderSelector)
	if err != nil {
		return err
	}
	fp.ProviderIDs, fp.ProviderRefs = pks, refs
	return nil
}

// Outpost type metadata.
var (
	OutpostKind, OutpostGroupKind, OutpostGroupVersionKind = kindOf(Outpost{})
)

func init() {
	SchemeBuilder.Register(&Outpost{}, &OutpostList{})
}
