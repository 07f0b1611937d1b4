// Package group manages Authentik groups.
package group

import (
	"context"

	api "goauthentik.io/api/v3"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

const (
	errExternalName = "the external name must be the group's UUID"
	errGet          = "cannot get group"
	errCreate       = "cannot create group"
	errUpdate       = "cannot update group"
	errDelete       = "cannot delete group"
)

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

// ReconcilerOptions are the options particular to Groups: the connector
// and, in place of the default name initializer (the UUID is Authentik's to
// choose), the adopter for unconfirmed creates.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	c := mrsetup.NewConnector[*v1alpha1.Group](conn, func(ac *authentik.Client) *external {
		return &external{client: ac}
	})
	return []managed.ReconcilerOption{
		managed.WithReferenceResolver(mrbehavior.ReferenceResolver(kube)),
		managed.WithTypedExternalConnector(mrbehavior.ObserveAfterCreate[*v1alpha1.Group](c)),
		managed.WithInitializers(&mrbehavior.Adopter{Kube: kube, Find: candidates(c.Client)}),
	}
}

// SetupGated adds a controller that reconciles Groups once the Group CRD
// exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}

// external reconciles one Group with Authentik.
type external struct {
	client *authentik.Client
}

func (e *external) api() *api.CoreAPIService { return e.client.API.CoreAPI }

// Observe reads the group by its UUID and compares it with the spec.
func (e *external) Observe(ctx context.Context, cr *v1alpha1.Group) (managed.ExternalObservation, error) {
	en := meta.GetExternalName(cr)
	if en == "" {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	id, err := mrbehavior.ExternalUUID(en, errExternalName)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	g, err := authentik.Groups.GetCached(ctx, e.client, id)
	if err != nil {
		if authentik.IsNotFound(err) {
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		return managed.ExternalObservation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errGet)
	}

	observed := parametersOf(g)
	diff := specDiff(cr.Spec.ForProvider, observed)
	lateInit := lateInitialize(&cr.Spec.ForProvider, observed)
	cr.Status.AtProvider = observation(g)
	cr.SetConditions(xpv2.Available())

	return managed.ExternalObservation{
		ResourceExists:          true,
		ResourceUpToDate:        diff == "",
		ResourceLateInitialized: lateInit,
		Diff:                    diff,
	}, nil
}

// Create makes the group and records its UUID as the external name.
func (e *external) Create(ctx context.Context, cr *v1alpha1.Group) (managed.ExternalCreation, error) {
	if adopted, err := mrbehavior.AdoptOnCreate(ctx, cr, candidates(e.connected)); adopted || err != nil {
		return managed.ExternalCreation{}, err
	}
	req, err := request(cr.Spec.ForProvider)
	if err != nil {
		return managed.ExternalCreation{}, err
	}
	g, resp, err := e.api().CoreGroupsCreate(ctx).GroupRequest(req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		if authentik.CreateMayHaveSucceeded(err) {
			// Authentik may have made the group although its answer was
			// lost or unreadable; the adopter looks for it before
			// creating again.
			mrbehavior.MarkCreateUnconfirmed(cr)
		}
		return managed.ExternalCreation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errCreate)
	}
	// The next Observe reads what Authentik answered.
	authentik.Groups.KeepCreated(e.client, g)
	meta.SetExternalName(cr, g.Pk)
	cr.Status.AtProvider = observation(g)
	return managed.ExternalCreation{}, nil
}

// Update writes the fields the spec sets with PATCH, which keeps the
// group's members and the fields the spec leaves unset.
func (e *external) Update(ctx context.Context, cr *v1alpha1.Group) (managed.ExternalUpdate, error) {
	id, err := mrbehavior.ExternalUUID(meta.GetExternalName(cr), errExternalName)
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	req, err := patch(cr.Spec.ForProvider)
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	g, resp, err := e.api().CoreGroupsPartialUpdate(ctx, id).PatchedGroupRequest(req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return managed.ExternalUpdate{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errUpdate)
	}
	cr.Status.AtProvider = observation(g)
	return managed.ExternalUpdate{}, nil
}

// Delete removes the group; one that is already gone counts as deleted.
// Authentik deletes the policy bindings of the group with it.
func (e *external) Delete(ctx context.Context, cr *v1alpha1.Group) (managed.ExternalDelete, error) {
	cr.SetConditions(xpv2.Deleting())
	id, err := mrbehavior.ExternalUUID(meta.GetExternalName(cr), errExternalName)
	if err != nil {
		return managed.ExternalDelete{}, err
	}
	resp, err := e.api().CoreGroupsDestroy(ctx, id).Execute()
	if err := authentik.Classify(resp, err); err != nil && !authentik.IsNotFound(err) {
		return managed.ExternalDelete{}, errors.Wrap(err, errDelete)
	}
	return managed.ExternalDelete{}, nil
}

// connected is the client this external client uses, for finding what
// exists before a create.
func (e *external) connected(context.Context, *v1alpha1.Group) (*authentik.Client, error) {
	return e.client, nil
}

// Disconnect releases nothing: HTTP connections are pooled per config.
func (e *external) Disconnect(_ context.Context) error { return nil }

// observation is what status.atProvider shows of a group.
func observation(g *api.Group) v1alpha1.GroupObservation {
	o := v1alpha1.GroupObservation{PK: ptr.To(g.Pk), NumPK: ptr.To(g.NumPk)}
	if len(g.Children) > 0 {
		o.Children = append([]string(nil), g.Children...)
	}
	return o
}
