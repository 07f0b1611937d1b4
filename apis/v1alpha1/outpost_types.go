package v1alpha1

import (
	"context"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reference"
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
	// serves only proxy providers. Default: proxy.
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

	// ProviderRefs name ProxyProviders in this namespace whose pks fill
	// providerIds. They are resolved on every reconcile, so a ProxyProvider
	// that was made again is followed.
	// +optional
	ProviderRefs []xpv2.Reference `json:"providerRefs,omitempty"`

	// ProviderSelector selects ProxyProviders in this namespace whose pks
	// fill providerIds.
	// +optional
	ProviderSelector *xpv2.Selector `json:"providerSelector,omitempty"`
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
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,authentik}
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

// ResolveReferences sets spec.forProvider.providerIds from the
// ProxyProviders that providerRefs or providerSelector name. References are
// resolved on every reconcile, so a ProxyProvider that was made again with a
// new pk is followed; a selector only fills an empty list.
func (mg *Outpost) ResolveReferences(ctx context.Context, c client.Reader) error {
	fp := &mg.Spec.ForProvider
	if len(fp.ProviderRefs) == 0 && fp.ProviderSelector == nil {
		return nil
	}
	var current []string
	if len(fp.ProviderRefs) == 0 {
		for _, id := range fp.ProviderIDs {
			current = append(current, strconv.Itoa(int(id)))
		}
	}
	rsp, err := reference.NewAPINamespacedResolver(c, mg).ResolveMultiple(ctx, reference.MultiNamespacedResolutionRequest{
		CurrentValues: current,
		References:    inNamespaces(fp.ProviderRefs),
		Selector:      selectInNamespace(fp.ProviderSelector),
		To:            reference.To{Managed: &ProxyProvider{}, List: &ProxyProviderList{}},
		Extract:       reference.ExternalName(),
		Namespace:     mg.GetNamespace(),
	})
	if err != nil {
		return errors.Wrap(err, "spec.forProvider.providerRefs")
	}
	ids := make([]int32, 0, len(rsp.ResolvedValues))
	for _, v := range rsp.ResolvedValues {
		pk, err := strconv.ParseInt(v, 10, 32)
		if err != nil || pk <= 0 {
			return errors.Errorf("spec.forProvider.providerRefs: the ProxyProvider's external name %q is not a pk", v)
		}
		ids = append(ids, int32(pk))
	}
	fp.ProviderIDs = ids
	fp.ProviderRefs = locals(rsp.ResolvedReferences)
	return nil
}

// Outpost type metadata.
var (
	OutpostKind, OutpostGroupKind, OutpostGroupVersionKind = kindOf(Outpost{})
)

func init() {
	SchemeBuilder.Register(&Outpost{}, &OutpostList{})
}
