// Package group manages Authentik groups.
package group

import (
	"context"
	"net/http"

	api "goauthentik.io/api/v3"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrexternal"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

const errExternalName = "the external name must be the group's UUID"

// fieldPaths maps Authentik's request fields to this resource's fields, so
// Authentik's validation messages name what the user has to change.
var fieldPaths = map[string]string{
	"name":         "spec.forProvider.name",
	"parents":      "spec.forProvider.parents",
	"is_superuser": "spec.forProvider.isSuperuser",
	"attributes":   "spec.forProvider.attributes",
}

// Kind describes the Group managed resource.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.GroupGroupVersionKind,
	GroupKind:        v1alpha1.GroupGroupKind,
	Object:           &v1alpha1.Group{},
	List:             &v1alpha1.GroupList{},
}

// groups is how a Group is reconciled. Update writes the fields the spec
// sets with PATCH, which keeps the group's members and the fields the spec
// leaves unset. Authentik deletes the policy bindings of a deleted group
// with it. Group names are unique in Authentik, so what a create would
// collide with is the group with the spec's name.
var groups = &mrexternal.Kind[*v1alpha1.Group, v1alpha1.GroupParameters, api.Group, string]{
	Collection:      authentik.Groups,
	FieldPaths:      fieldPaths,
	Noun:            "group",
	ErrExternalName: errExternalName,
	ErrFindByName:   "cannot look for a group with spec.forProvider.name",
	Spec:            forProvider,
	Compare:         mrexternal.Compared(forProvider, parametersOf, specDiff),
	LateInitialize:  lateInitialize,
	Observe:         func(cr *v1alpha1.Group, g *api.Group) { cr.Status.AtProvider = observation(g) },
	Create: mrexternal.Send(forProvider, mrexternal.Local[api.Group](request), func(ctx context.Context, c *authentik.Client, r api.GroupRequest) (*api.Group, *http.Response, error) {
		return c.API.CoreAPI.CoreGroupsCreate(ctx).GroupRequest(r).Execute()
	}),
	Update: mrexternal.SendTo(forProvider, mrexternal.Local[api.Group](patch), func(ctx context.Context, c *authentik.Client, id string, r api.PatchedGroupRequest) (*api.Group, *http.Response, error) {
		return c.API.CoreAPI.CoreGroupsPartialUpdate(ctx, id).PatchedGroupRequest(r).Execute()
	}),
	Delete: func(ctx context.Context, c *authentik.Client, id string) (*http.Response, error) {
		return c.API.CoreAPI.CoreGroupsDestroy(ctx, id).Execute()
	},
	Name: func(cr *v1alpha1.Group) *string { return cr.Spec.ForProvider.Name },
	List: func(ctx context.Context, c *authentik.Client, name string) ([]api.Group, *http.Response, error) {
		return mrexternal.Results(c.API.CoreAPI.CoreGroupsList(ctx).Name(name).IncludeUsers(false).Execute())
	},
	ObjectName: func(g *api.Group) string { return g.Name },
}

func forProvider(cr *v1alpha1.Group) *v1alpha1.GroupParameters { return &cr.Spec.ForProvider }

// ReconcilerOptions are the options particular to Groups: the reference
// resolver, the connector and, in place of the default name initializer
// (the UUID is Authentik's to choose), the adopter for unconfirmed creates.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	return append([]managed.ReconcilerOption{managed.WithReferenceResolver(mrbehavior.ReferenceResolver(kube))}, groups.ReconcilerOptions(kube, conn)...)
}

// SetupGated adds a controller that reconciles Groups once the Group CRD
// exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}

// observation is what status.atProvider shows of a group.
func observation(g *api.Group) v1alpha1.GroupObservation {
	o := v1alpha1.GroupObservation{PK: ptr.To(g.Pk), NumPK: ptr.To(g.NumPk)}
	if len(g.Children) > 0 {
		o.Children = append([]string(nil), g.Children...)
	}
	return o
}
