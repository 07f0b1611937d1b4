package v1alpha1

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// Policy engine modes, as Authentik names them.
const (
	PolicyEngineModeAny = "any"
	PolicyEngineModeAll = "all"
)

// ApplicationParameters are the fields of an Authentik application that this
// resource manages. A field left unset is not managed: Authentik's value is
// kept and copied here on the first observation.
type ApplicationParameters struct {
	// Name is the application's display name.
	// +optional
	// +kubebuilder:validation:MinLength=1
	Name *string `json:"name,omitempty"`

	// Slug identifies the application in Authentik and in its URLs. It is
	// also this resource's external name, so it cannot be changed. Default:
	// the crossplane.io/external-name annotation if set, else metadata.name.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:Pattern=`^[-a-zA-Z0-9_]+$`
	// +kubebuilder:validation:XValidation:rule="!(self in ['authorize', 'token', 'device', 'userinfo', 'introspect', 'revoke'])",message="spec.forProvider.slug must not be one of Authentik's reserved slugs: authorize, token, device, userinfo, introspect, revoke"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.forProvider.slug cannot be changed: it identifies the application in Authentik"
	Slug *string `json:"slug,omitempty"`

	// Provider is the numeric pk of the provider that serves the
	// application. A provider serves at most one application. Set it, or
	// providerRef, or providerSelector.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Provider *int32 `json:"provider,omitempty"`

	// ProviderRef names a provider in this namespace, by kind (default
	// ProxyProvider) and name, whose pk is used as provider. It is resolved
	// on every reconcile, so a provider that was made again is followed.
	// +optional
	ProviderRef *ProviderReference `json:"providerRef,omitempty"`

	// ProviderSelector selects a provider of one kind (default
	// ProxyProvider) in this namespace by its labels to fill providerRef.
	// +optional
	ProviderSelector *ProviderSelector `json:"providerSelector,omitempty"`

	// DetachProvider, when true, keeps the application without a provider:
	// one Authentik has is detached, and provider, providerRef and
	// providerSelector are not applied until it is unset again. It takes a
	// provider out of service without deleting it or its credentials, as
	// OIDCConfig does while the application's policy bindings are missing.
	// +optional
	DetachProvider *bool `json:"detachProvider,omitempty"`

	// RequiredGroups are Authentik groups that must each have an enabled,
	// not negated policy binding on the application before it gets its
	// provider: while one has none (not yet made, or gone with its group or
	// with an application deleted in Authentik), the application is kept
	// without a provider as with detachProvider, so it never serves one while
	// it may admit users outside the groups. The provider comes back by
	// itself once every group is bound. A new application is made without a
	// provider and gets it once its bindings exist.
	// +optional
	// +listType=set
	// +kubebuilder:validation:items:MinLength=1
	RequiredGroups []string `json:"requiredGroups,omitempty"`
	// Group is the heading under which the application is listed in the
	// user's library. It is free text, not an Authentik group.
	// +optional
	Group *string `json:"group,omitempty"`

	// PolicyEngineMode decides whether a user needs to pass any (Authentik's
	// default) or all of the policy bindings of the application.
	// +optional
	// +kubebuilder:validation:Enum=any;all
	PolicyEngineMode *string `json:"policyEngineMode,omitempty"`

	// MetaLaunchURL is the URL the user's library opens, for example
	// https://app.example.com; empty to use the provider's. %(username)s
	// style placeholders are filled with the user's data.
	// +optional
	// +kubebuilder:validation:Pattern=`^([a-zA-Z][a-zA-Z0-9+.-]*://\S+)?$`
	MetaLaunchURL *string `json:"metaLaunchUrl,omitempty"`

	// MetaDescription is shown under the application's name in the user's
	// library.
	// +optional
	MetaDescription *string `json:"metaDescription,omitempty"`

	// MetaPublisher is the application's publisher, shown in the library.
	// +optional
	MetaPublisher *string `json:"metaPublisher,omitempty"`

	// MetaIcon is the URL of the application's icon, or a Font Awesome
	// name such as fa://fa-server.
	// +optional
	MetaIcon *string `json:"metaIcon,omitempty"`

	// OpenInNewTab opens the launch URL in a new browser tab or window.
	// +optional
	OpenInNewTab *bool `json:"openInNewTab,omitempty"`
}

// ApplicationObservation is the state of the application as Authentik
// reports it.
type ApplicationObservation struct {
	// PK is the application's UUID in Authentik; policy bindings target it.
	PK *string `json:"pk,omitempty"`

	// LaunchURL is the URL the user's library opens: metaLaunchUrl, else
	// the provider's.
	LaunchURL *string `json:"launchUrl,omitempty"`

	// ProviderName is the name of the provider that serves the application.
	ProviderName *string `json:"providerName,omitempty"`
	// WithheldReason says why the application has no provider although the
	// spec names one: a group in spec.forProvider.requiredGroups has no
	// policy binding on it. Empty while the provider is served.
	WithheldReason *string `json:"withheldReason,omitempty"`
}

// An ApplicationSpec defines the desired state of an Application.
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.name)",message="spec.forProvider.name is required unless managementPolicies only observe"
type ApplicationSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	Adoption                 `json:",inline"`
	ForProvider              ApplicationParameters `json:"forProvider"`
}

// An ApplicationStatus represents the observed state of an Application.
type ApplicationStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 ApplicationObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// An Application is an Authentik application: what users see in their
// library and what policy bindings restrict. The external name is the
// application's slug (spec.forProvider.slug if set, else metadata.name),
// recorded once this resource has made the application. An application
// that already has the slug is never taken over: the resource says so in
// its Synced condition and changes nothing, unless spec.adoptExisting is
// set or the slug is the crossplane.io/external-name annotation, which is
// also how to import one. Deleting an Application keeps its provider.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="EXTERNAL-NAME",type="string",JSONPath=".metadata.annotations.crossplane\\.io/external-name"
// +kubebuilder:printcolumn:name="PROVIDER",type="integer",JSONPath=".spec.forProvider.provider"
// +kubebuilder:printcolumn:name="LAUNCH-URL",type="string",JSONPath=".status.atProvider.launchUrl",priority=1
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,authentik},shortName=akapp
type Application struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ApplicationSpec   `json:"spec"`
	Status ApplicationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ApplicationList contains a list of Application.
type ApplicationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Application `json:"items"`
}

// ResolveReferences sets spec.forProvider.provider from the provider that
// providerRef or providerSelector names.
func (mg *Application) ResolveReferences(ctx context.Context, c client.Reader) error {
	fp := &mg.Spec.ForProvider
	pk, ref, err := resolveProvider(ctx, c, mg, providerFields{ref: "spec.forProvider.providerRef", selector: "spec.forProvider.providerSelector"}, fp.Provider, fp.ProviderRef, fp.ProviderSelector)
	if err != nil {
		return err
	}
	fp.Provider, fp.ProviderRef = pk, ref
	return nil
}

// inNamespace turns a reference into one the namespaced resolver reads in
// the referencing resource's own namespace.
func inNamespace(r *xpv2.Reference) *xpv2.NamespacedReference {
	if r == nil {
		return nil
	}
	return &xpv2.NamespacedReference{Name: r.Name, Policy: r.Policy}
}

func inNamespaces(rs []xpv2.Reference) []xpv2.NamespacedReference {
	if rs == nil {
		return nil
	}
	out := make([]xpv2.NamespacedReference, 0, len(rs))
	for i := range rs {
		out = append(out, *inNamespace(&rs[i]))
	}
	return out
}

// selectInNamespace turns a selector into one the namespaced resolver runs
// in the referencing resource's own namespace.
func selectInNamespace(s *xpv2.Selector) *xpv2.NamespacedSelector {
	if s == nil {
		return nil
	}
	return &xpv2.NamespacedSelector{MatchLabels: s.MatchLabels, MatchControllerRef: s.MatchControllerRef, Policy: s.Policy}
}

// local is the reverse of inNamespace.
func local(r *xpv2.NamespacedReference) *xpv2.Reference {
	if r == nil {
		return nil
	}
	return &xpv2.Reference{Name: r.Name, Policy: r.Policy}
}

func locals(rs []xpv2.NamespacedReference) []xpv2.Reference {
	if rs == nil {
		return nil
	}
	out := make([]xpv2.Reference, 0, len(rs))
	for i := range rs {
		out = append(out, *local(&rs[i]))
	}
	return out
}

// Application type metadata.
var (
	ApplicationKind, ApplicationGroupKind, ApplicationGroupVersionKind = kindOf(Application{})
)

func init() {
	SchemeBuilder.Register(&Application{}, &ApplicationList{})
}
