package v1alpha1

import (
	"context"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reference"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// PolicyBindingParameters are the fields of an Authentik policy binding that
// this resource manages: a binding that lets the members of one group, or
// the users one policy passes, use one application. A field left unset is
// not managed: Authentik's value is kept and copied here on the first
// observation.
// +kubebuilder:validation:XValidation:rule="!has(self.groupName) || !(has(self.group) || has(self.groupRef) || has(self.groupSelector))",message="spec.forProvider.groupName cannot be combined with spec.forProvider.group, groupRef or groupSelector: name the group one way"
// +kubebuilder:validation:XValidation:rule="!(has(self.group) || has(self.groupRef) || has(self.groupSelector) || has(self.groupName)) || !(has(self.policy) || has(self.policyRef) || has(self.policySelector))",message="spec.forProvider names a group (group, groupRef, groupSelector or groupName) and a policy (policy, policyRef or policySelector): a binding binds one of them"
type PolicyBindingParameters struct {
	// Application is the UUID (status.atProvider.pk of an Application) of
	// the application the binding restricts. Set it, or applicationRef, or
	// applicationSelector.
	// +optional
	// +kubebuilder:validation:Format=uuid
	Application *string `json:"application,omitempty"`

	// ApplicationRef names an Application in this namespace whose UUID is
	// used as application. It is resolved on every reconcile.
	// +optional
	ApplicationRef *xpv2.Reference `json:"applicationRef,omitempty"`

	// ApplicationSelector selects an Application in this namespace by its
	// labels to fill applicationRef.
	// +optional
	ApplicationSelector *xpv2.Selector `json:"applicationSelector,omitempty"`

	// Group is the UUID of the Authentik group whose members the binding
	// admits. Set it, or groupRef, or groupSelector, or groupName; or bind
	// a policy instead.
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

	// GroupName names an Authentik group that this provider does not
	// manage, for example one synced from a directory. It is looked up in
	// Authentik on every reconcile.
	// +optional
	// +kubebuilder:validation:MinLength=1
	GroupName *string `json:"groupName,omitempty"`

	// Policy is the UUID (status.atProvider.pk of an ExpressionPolicy) of
	// the Authentik policy whose verdict the binding applies: the users it
	// passes are admitted. Set it, or policyRef, or policySelector; or bind
	// a group instead.
	// +optional
	// +kubebuilder:validation:Format=uuid
	Policy *string `json:"policy,omitempty"`

	// PolicyRef names an ExpressionPolicy in this namespace whose UUID is
	// used as policy. It is resolved on every reconcile.
	// +optional
	PolicyRef *xpv2.Reference `json:"policyRef,omitempty"`

	// PolicySelector selects an ExpressionPolicy in this namespace by its
	// labels to fill policyRef.
	// +optional
	PolicySelector *xpv2.Selector `json:"policySelector,omitempty"`

	// Order ranks the binding among the application's bindings, lowest
	// first. Default: 0.
	// +optional
	Order *int32 `json:"order,omitempty"`

	// Negate inverts the binding: members of the group, or the users the
	// policy passes, are refused.
	// +optional
	Negate *bool `json:"negate,omitempty"`

	// Enabled turns the binding on; a disabled binding is ignored.
	// Authentik's default is true.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`

	// Timeout is the number of seconds after which evaluating the binding
	// is stopped. Authentik's default is 30.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Timeout *int32 `json:"timeout,omitempty"`
}

// PolicyBindingObservation is the state of the binding as Authentik reports it.
type PolicyBindingObservation struct {
	// PK is the binding's UUID in Authentik.
	PK *string `json:"pk,omitempty"`

	// Target is the UUID of the application the binding restricts.
	Target *string `json:"target,omitempty"`

	// Group is the UUID of the bound group.
	Group *string `json:"group,omitempty"`

	// GroupName is the name of the bound group.
	GroupName *string `json:"groupName,omitempty"`

	// Policy is the UUID of the bound policy.
	Policy *string `json:"policy,omitempty"`

	// PolicyName is the name of the bound policy.
	PolicyName *string `json:"policyName,omitempty"`
}

// A PolicyBindingSpec defines the desired state of a PolicyBinding.
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.application) || has(self.forProvider.applicationRef) || has(self.forProvider.applicationSelector)",message="one of spec.forProvider.application, applicationRef or applicationSelector is required unless managementPolicies only observe"
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.group) || has(self.forProvider.groupRef) || has(self.forProvider.groupSelector) || has(self.forProvider.groupName) || has(self.forProvider.policy) || has(self.forProvider.policyRef) || has(self.forProvider.policySelector)",message="one of spec.forProvider.group, groupRef, groupSelector, groupName, policy, policyRef or policySelector is required unless managementPolicies only observe"
type PolicyBindingSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	Adoption                 `json:",inline"`
	ForProvider              PolicyBindingParameters `json:"forProvider"`
}

// A PolicyBindingStatus represents the observed state of a PolicyBinding.
type PolicyBindingStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 PolicyBindingObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A PolicyBinding admits the members of one Authentik group, or the users
// one policy passes, to one application. An application with no bindings
// is open to every user, so when the bound group or policy disappears from
// Authentik (which deletes the binding with it) the PolicyBinding is not
// Ready and says which application lost its restriction, instead of
// binding anew. The external name is the binding's UUID, which Authentik
// assigns.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="EXTERNAL-NAME",type="string",JSONPath=".metadata.annotations.crossplane\\.io/external-name"
// +kubebuilder:printcolumn:name="GROUP",type="string",JSONPath=".status.atProvider.groupName"
// +kubebuilder:printcolumn:name="POLICY",type="string",JSONPath=".status.atProvider.policyName"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,authentik},shortName=akpb
type PolicyBinding struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   PolicyBindingSpec   `json:"spec"`
	Status PolicyBindingStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// PolicyBindingList contains a list of PolicyBinding.
type PolicyBindingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PolicyBinding `json:"items"`
}

// ApplicationPK extracts the Authentik UUID of a referenced Application from
// its status, empty until the Application has been observed.
func ApplicationPK() reference.ExtractValueFn {
	return func(mg resource.Managed) string {
		a, ok := mg.(*Application)
		if !ok {
			return ""
		}
		return ptr.Deref(a.Status.AtProvider.PK, "")
	}
}

// ResolveReferences sets spec.forProvider.application, group and policy
// from the Application, Group and ExpressionPolicy that the references or
// selectors name. References are resolved on every reconcile, so an object
// made again with a new UUID is followed; a selector only fills an empty
// reference.
//
// A Group or ExpressionPolicy that no longer exists in this namespace keeps
// the UUID resolved last: its Authentik object may be gone too, and only
// Authentik can tell whether the application lost its restriction, which
// the controller then reports.
func (mg *PolicyBinding) ResolveReferences(ctx context.Context, c client.Reader) error {
	r := reference.NewAPINamespacedResolver(c, mg)
	fp := &mg.Spec.ForProvider

	if fp.ApplicationRef != nil || fp.ApplicationSelector != nil {
		rsp, err := r.Resolve(ctx, reference.NamespacedResolutionRequest{
			CurrentValue: currentUnlessReferenced(fp.Application, fp.ApplicationRef),
			Reference:    inNamespace(fp.ApplicationRef),
			Selector:     selectInNamespace(fp.ApplicationSelector),
			To:           reference.To{Managed: &Application{}, List: &ApplicationList{}},
			Extract:      ApplicationPK(),
			Namespace:    mg.GetNamespace(),
		})
		if err != nil {
			return errors.Wrap(err, "spec.forProvider.applicationRef")
		}
		if rsp.ResolvedValue != "" {
			fp.Application = ptr.To(rsp.ResolvedValue)
			fp.ApplicationRef = local(rsp.ResolvedReference)
		}
	}

	if fp.GroupRef != nil || fp.GroupSelector != nil {
		rsp, err := r.Resolve(ctx, reference.NamespacedResolutionRequest{
			CurrentValue: currentUnlessReferenced(fp.Group, fp.GroupRef),
			Reference:    inNamespace(fp.GroupRef),
			Selector:     selectInNamespace(fp.GroupSelector),
			To:           reference.To{Managed: &Group{}, List: &GroupList{}},
			Extract:      reference.ExternalName(),
			Namespace:    mg.GetNamespace(),
		})
		switch {
		case err != nil && kerrors.IsNotFound(err) && fp.Group != nil:
			return nil
		case err != nil:
			return errors.Wrap(err, "spec.forProvider.groupRef")
		}
		if rsp.ResolvedValue != "" {
			fp.Group = ptr.To(rsp.ResolvedValue)
			fp.GroupRef = local(rsp.ResolvedReference)
		}
	}

	if fp.PolicyRef != nil || fp.PolicySelector != nil {
		rsp, err := r.Resolve(ctx, reference.NamespacedResolutionRequest{
			CurrentValue: currentUnlessReferenced(fp.Policy, fp.PolicyRef),
			Reference:    inNamespace(fp.PolicyRef),
			Selector:     selectInNamespace(fp.PolicySelector),
			To:           reference.To{Managed: &ExpressionPolicy{}, List: &ExpressionPolicyList{}},
			Extract:      reference.ExternalName(),
			Namespace:    mg.GetNamespace(),
		})
		switch {
		case err != nil && kerrors.IsNotFound(err) && fp.Policy != nil:
			return nil
		case err != nil:
			return errors.Wrap(err, "spec.forProvider.policyRef")
		}
		if rsp.ResolvedValue != "" {
			fp.Policy = ptr.To(rsp.ResolvedValue)
			fp.PolicyRef = local(rsp.ResolvedReference)
		}
	}
	return nil
}

// BindsPolicy tells whether the parameters name a policy (policy,
// policyRef or policySelector) as the binding's subject, rather than a
// group.
func (p PolicyBindingParameters) BindsPolicy() bool {
	return p.Policy != nil || p.PolicyRef != nil || p.PolicySelector != nil
}

// NamesGroup tells whether the parameters name a group in any way.
func (p PolicyBindingParameters) NamesGroup() bool {
	return p.Group != nil || p.GroupRef != nil || p.GroupSelector != nil || p.GroupName != nil
}

// currentUnlessReferenced is the value a resolution request starts from:
// none when a reference is set, so that the reference is followed anew.
func currentUnlessReferenced(v *string, ref *xpv2.Reference) string {
	if ref != nil {
		return ""
	}
	return ptr.Deref(v, "")
}

// PolicyBinding type metadata.
var (
	PolicyBindingKind, PolicyBindingGroupKind, PolicyBindingGroupVersionKind = kindOf(PolicyBinding{})
)

func init() {
	SchemeBuilder.Register(&PolicyBinding{}, &PolicyBindingList{})
}
