package v1alpha1

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reference"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// OutpostBindingParameters name the provider to attach and the outpost to
// attach it to. The outpost is chosen by outpostName, by outpostId (or
// outpostRef/outpostSelector), or else is Authentik's embedded outpost. A
// binding is not moved while its provider is attached: to bind another
// provider or outpost, create another binding and delete this one.
// +kubebuilder:validation:XValidation:rule="!has(self.outpostName) || !(has(self.outpostId) || has(self.outpostRef) || has(self.outpostSelector))",message="set either spec.forProvider.outpostName or spec.forProvider.outpostId (outpostRef, outpostSelector), not both"
// +kubebuilder:validation:XValidation:rule="has(self.outpostName) == has(oldSelf.outpostName) && (!has(self.outpostName) || self.outpostName == oldSelf.outpostName)",message="spec.forProvider.outpostName cannot be changed; create another OutpostBinding"
type OutpostBindingParameters struct {
	// ProviderID is the pk of the provider to attach.
	// +optional
	// +kubebuilder:validation:Minimum=1
	ProviderID *int32 `json:"providerId,omitempty"`

	// ProviderRef names the provider in this namespace, by kind (default
	// ProxyProvider) and name, whose pk fills providerId. It is resolved on
	// every reconcile, so a provider that was made again is followed.
	// +optional
	ProviderRef *ProviderReference `json:"providerRef,omitempty"`

	// ProviderSelector selects a provider of one kind (default
	// ProxyProvider) in this namespace whose pk fills providerId.
	// +optional
	ProviderSelector *ProviderSelector `json:"providerSelector,omitempty"`

	// OutpostName is the name of the outpost to attach the provider to.
	// Unset, with no outpostId either: Authentik's embedded outpost.
	// +optional
	// +kubebuilder:validation:MinLength=1
	OutpostName *string `json:"outpostName,omitempty"`

	// OutpostID is the UUID of the outpost to attach the provider to.
	// +optional
	// +kubebuilder:validation:Format=uuid
	OutpostID *string `json:"outpostId,omitempty"`

	// OutpostRef names the Outpost in this namespace whose UUID fills
	// outpostId. It is resolved on every reconcile, so an Outpost that was
	// made again is followed.
	// +optional
	OutpostRef *xpv2.Reference `json:"outpostRef,omitempty"`

	// OutpostSelector selects an Outpost in this namespace whose UUID fills
	// outpostId.
	// +optional
	OutpostSelector *xpv2.Selector `json:"outpostSelector,omitempty"`

	// RequiredGroups names Authentik groups that must each have an enabled,
	// not negated policy binding on the provider's application for the
	// outpost to serve the provider. An application without bindings admits
	// every user, and Authentik deletes a group's bindings with the group, so
	// at every poll the binding checks the application's bindings: while a
	// group lacks one, or the provider has no application, the provider is
	// taken off (or kept off) the outpost, even if someone else attached it,
	// and the binding is Ready=False naming the group. It is attached again
	// once every group is bound. Empty: served whatever the bindings.
	// +optional
	// +listType=set
	// +kubebuilder:validation:items:MinLength=1
	RequiredGroups []string `json:"requiredGroups,omitempty"`
}

// OutpostBindingObservation is the binding as Authentik reports it.
type OutpostBindingObservation struct {
	// OutpostID is the UUID of the outpost the provider is attached to.
	OutpostID *string `json:"outpostId,omitempty"`

	// OutpostName is the name of that outpost.
	OutpostName *string `json:"outpostName,omitempty"`

	// ProviderID is the pk of the attached provider.
	ProviderID *int32 `json:"providerId,omitempty"`

	// Providers is how many providers the outpost serves in all.
	Providers *int32 `json:"providers,omitempty"`

	// NotServedReason says why the provider is kept off the outpost although
	// the binding exists: a group in spec.forProvider.requiredGroups without
	// a policy binding on the application. Unset while it may be served.
	NotServedReason *string `json:"notServedReason,omitempty"`
}

// An OutpostBindingSpec defines the desired state of an OutpostBinding.
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.providerId) || has(self.forProvider.providerRef) || has(self.forProvider.providerSelector)",message="one of spec.forProvider.providerId, providerRef or providerSelector is required unless managementPolicies only observe"
type OutpostBindingSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	Adoption                 `json:",inline"`
	ForProvider              OutpostBindingParameters `json:"forProvider"`
}

// An OutpostBindingStatus represents the observed state of an OutpostBinding.
type OutpostBindingStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 OutpostBindingObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// An OutpostBinding attaches one provider to one outpost: a proxy provider
// does nothing until an outpost serves it. Authentik stores an outpost's
// providers as one list that every writer replaces; a binding adds and
// removes only its own provider and keeps every other entry. The external
// name is "<outpost UUID>/<provider pk>".
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="EXTERNAL-NAME",type="string",JSONPath=".metadata.annotations.crossplane\\.io/external-name"
// +kubebuilder:printcolumn:name="OUTPOST",type="string",JSONPath=".status.atProvider.outpostName"
// +kubebuilder:printcolumn:name="PROVIDER",type="integer",JSONPath=".status.atProvider.providerId"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,authentik},shortName=akob
type OutpostBinding struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   OutpostBindingSpec   `json:"spec"`
	Status OutpostBindingStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// OutpostBindingList contains a list of OutpostBinding.
type OutpostBindingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OutpostBinding `json:"items"`
}

// ResolveReferences sets spec.forProvider.providerId from the provider that
// providerRef or providerSelector names, and spec.forProvider.outpostId
// from the Outpost that outpostRef or outpostSelector names. A reference is
// resolved on every reconcile, so a provider or Outpost that was made again
// is followed; a selector only fills an empty field.
func (mg *OutpostBinding) ResolveReferences(ctx context.Context, c client.Reader) error {
	r := reference.NewAPINamespacedResolver(c, mg)
	fp := &mg.Spec.ForProvider

	pk, ref, err := resolveProvider(ctx, c, mg, providerFields{ref: "spec.forProvider.providerRef", selector: "spec.forProvider.providerSelector"}, fp.ProviderID, fp.ProviderRef, fp.ProviderSelector)
	if err != nil {
		return err
	}
	fp.ProviderID, fp.ProviderRef = pk, ref

	if fp.OutpostRef != nil || fp.OutpostSelector != nil {
		current := ""
		if fp.OutpostRef == nil {
			current = ptr.Deref(fp.OutpostID, "")
		}
		rsp, err := r.Resolve(ctx, reference.NamespacedResolutionRequest{
			CurrentValue: current,
			Reference:    inNamespace(fp.OutpostRef),
			Selector:     selectInNamespace(fp.OutpostSelector),
			To:           reference.To{Managed: &Outpost{}, List: &OutpostList{}},
			Extract:      reference.ExternalName(),
			Namespace:    mg.GetNamespace(),
		})
		if err != nil {
			return errors.Wrap(err, "spec.forProvider.outpostRef")
		}
		fp.OutpostID = ptr.To(rsp.ResolvedValue)
		fp.OutpostRef = local(rsp.ResolvedReference)
	}
	return nil
}

// OutpostBinding type metadata.
var (
	OutpostBindingKind, OutpostBindingGroupKind, OutpostBindingGroupVersionKind = kindOf(OutpostBinding{})
)

func init() {
	SchemeBuilder.Register(&OutpostBinding{}, &OutpostBindingList{})
}
