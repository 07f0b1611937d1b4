package v1alpha1

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reference"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// GroupParameters are the fields of an Authentik group that this resource
// manages. A field left unset is not managed: Authentik's value is kept and
// copied here on the first observation. Members are never managed here.
type GroupParameters struct {
	// Name of the group. Group names are unique in Authentik.
	// +optional
	// +kubebuilder:validation:MinLength=1
	Name *string `json:"name,omitempty"`

	// Parents are the UUIDs of the groups this group belongs to; its members
	// are members of those groups too. Set them, or parentRefs, or
	// parentSelector.
	// +optional
	// +listType=set
	// +kubebuilder:validation:items:Format=uuid
	Parents []string `json:"parents,omitempty"`

	// ParentRefs name Groups in this namespace whose UUIDs are used as
	// parents. They are resolved on every reconcile.
	// +optional
	ParentRefs []xpv2.Reference `json:"parentRefs,omitempty"`

	// ParentSelector selects Groups in this namespace by their labels to
	// fill parentRefs.
	// +optional
	ParentSelector *xpv2.Selector `json:"parentSelector,omitempty"`

	// IsSuperuser makes every member of the group an Authentik superuser.
	// +optional
	IsSuperuser *bool `json:"isSuperuser,omitempty"`

	// Attributes is a JSON object of custom attributes, used by property
	// mappings and policies. When set, it replaces all of the group's
	// attributes.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	Attributes *runtime.RawExtension `json:"attributes,omitempty"`
}

// GroupObservation is the state of the group as Authentik reports it.
type GroupObservation struct {
	// PK is the group's UUID in Authentik.
	PK *string `json:"pk,omitempty"`

	// NumPK is the group's numeric id, used for example as the LDAP gidNumber.
	NumPK *int32 `json:"numPk,omitempty"`

	// Children are the UUIDs of the groups that have this group as a parent.
	Children []string `json:"children,omitempty"`
}

// A GroupSpec defines the desired state of a Group.
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.name)",message="spec.forProvider.name is required unless managementPolicies only observe"
type GroupSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	Adoption                 `json:",inline"`
	ForProvider              GroupParameters `json:"forProvider"`
}

// A GroupStatus represents the observed state of a Group.
type GroupStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 GroupObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A Group is an Authentik group of users. PolicyBindings grant a group
// access to an application. The external name is the group's UUID, which
// Authentik assigns.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="EXTERNAL-NAME",type="string",JSONPath=".metadata.annotations.crossplane\\.io/external-name"
// +kubebuilder:printcolumn:name="GROUP-NAME",type="string",JSONPath=".spec.forProvider.name"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,authentik},shortName=akgroup
type Group struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   GroupSpec   `json:"spec"`
	Status GroupStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// GroupList contains a list of Group.
type GroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Group `json:"items"`
}

// ResolveReferences sets spec.forProvider.parents from the Groups that
// parentRefs or parentSelector name. References are resolved on every
// reconcile, so a parent that was made again with a new UUID is followed;
// a selector only fills empty references.
func (mg *Group) ResolveReferences(ctx context.Context, c client.Reader) error {
	fp := &mg.Spec.ForProvider
	if len(fp.ParentRefs) == 0 && fp.ParentSelector == nil {
		return nil
	}
	var current []string
	if len(fp.ParentRefs) == 0 {
		current = fp.Parents
	}
	rsp, err := reference.NewAPINamespacedResolver(c, mg).ResolveMultiple(ctx, reference.MultiNamespacedResolutionRequest{
		CurrentValues: current,
		References:    inNamespaces(fp.ParentRefs),
		Selector:      selectInNamespace(fp.ParentSelector),
		To:            reference.To{Managed: &Group{}, List: &GroupList{}},
		Extract:       reference.ExternalName(),
		Namespace:     mg.GetNamespace(),
	})
	if err != nil {
		return errors.Wrap(err, "spec.forProvider.parentRefs")
	}
	fp.Parents = rsp.ResolvedValues
	fp.ParentRefs = locals(rsp.ResolvedReferences)
	return nil
}

// Group type metadata.
var (
	GroupKind, GroupGroupKind, GroupGroupVersionKind = kindOf(Group{})
)

func init() {
	SchemeBuilder.Register(&Group{}, &GroupList{})
}
