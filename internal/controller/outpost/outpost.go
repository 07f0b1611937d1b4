// Package outpost manages Authentik outposts and edits outposts' provider
// lists for every controller that attaches providers to them.
package outpost

import (
	"context"
	"slices"

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
	errGet      = "cannot get outpost"
	errCreate   = "cannot create outpost"
	errUpdate   = "cannot update outpost"
	errDelete   = "cannot delete outpost"
	errDefaults = "cannot get Authentik's default outpost settings"
)

// fieldPaths maps Authentik's request fields to this resource's fields, so
// Authentik's validation messages name what the user has to change.
var fieldPaths = map[string]string{
	"name":               "spec.forProvider.name",
	"type":               "spec.forProvider.type",
	"config":             "spec.forProvider.config",
	"service_connection": "spec.forProvider.serviceConnection",
	"providers":          "spec.forProvider.providerIds",
}

// Kind describes the Outpost managed resource.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.OutpostGroupVersionKind,
	GroupKind:        v1alpha1.OutpostGroupKind,
	Object:           &v1alpha1.Outpost{},
	List:             &v1alpha1.OutpostList{},
}

// ReconcilerOptions are the options particular to Outposts: the connector,
// which edits provider lists through lists, and, in place of the default
// name initializer (the UUID is Authentik's to choose), the adopter for
// unconfirmed creates.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector, lists *authentik.OutpostLists) []managed.ReconcilerOption {
	c := mrsetup.NewConnector[*v1alpha1.Outpost](conn, func(ac *authentik.Client) *external {
		return &external{client: ac, lists: lists}
	})
	return []managed.ReconcilerOption{
		managed.WithTypedExternalConnector(mrbehavior.ObserveAfterCreate[*v1alpha1.Outpost](c)),
		managed.WithInitializers(&mrbehavior.Adopter{Kube: kube, Find: candidates(c.Client)}),
		managed.WithReferenceResolver(mrbehavior.ReferenceResolver(kube)),
	}
}

// SetupGated adds a controller that reconciles Outposts once the Outpost CRD
// exists. It edits provider lists through the list editor it shares with
// OutpostBindings.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, func(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
		return ReconcilerOptions(kube, conn, conn.OutpostLists())
	})
	return nil
}

// external reconciles one Outpost with Authentik.
type external struct {
	client *authentik.Client
	lists  *authentik.OutpostLists
}

func (e *external) api() *api.OutpostsAPIService { return e.client.API.OutpostsAPI }

// Observe reads the outpost by its UUID and compares it with the spec.
func (e *external) Observe(ctx context.Context, cr *v1alpha1.Outpost) (managed.ExternalObservation, error) {
	id := meta.GetExternalName(cr)
	if id == "" {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	o, err := authentik.Outposts.GetCached(ctx, e.client, id)
	if err != nil {
		if authentik.IsNotFound(err) {
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		return managed.ExternalObservation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errGet)
	}
	spec, err := specView(cr.Spec.ForProvider)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	observed := observedView(o)
	attached := cr.Status.AtProvider.AttachedProviderIDs
	diff := specDiff(spec, observed, attached)
	if add, remove := providerChanges(spec.ProviderIDs, attached, observed.ProviderIDs); spec.ProviderIDs != nil && len(add) == 0 && len(remove) == 0 {
		// Every provider the spec names is served and none this resource
		// attached is left over: from now on the spec's are the ones it
		// attached.
		attached = slices.Clone(spec.ProviderIDs)
	}
	lateInit := lateInitialize(&cr.Spec.ForProvider, observed)
	cr.Status.AtProvider = observation(o, attached)
	cr.SetConditions(xpv2.Available())

	return managed.ExternalObservation{
		ResourceExists:          true,
		ResourceUpToDate:        diff == "",
		ResourceLateInitialized: lateInit,
		Diff:                    diff,
	}, nil
}

// Create makes the outpost with the spec's config merged over Authentik's
// default settings, and records its UUID as the external name. Authentik
// refuses an outpost without providers, so spec.forProvider.providerIds (or
// providerRefs) must name at least one; its answer says so otherwise.
func (e *external) Create(ctx context.Context, cr *v1alpha1.Outpost) (managed.ExternalCreation, error) {
	if adopted, err := mrbehavior.AdoptOnCreate(ctx, cr, candidates(e.connected)); adopted || err != nil {
		return managed.ExternalCreation{}, err
	}
	p := cr.Spec.ForProvider
	cfg, err := specConfig(p)
	if err != nil {
		return managed.ExternalCreation{}, err
	}
	defaults, resp, err := e.api().OutpostsInstancesDefaultSettingsRetrieve(ctx).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return managed.ExternalCreation{}, errors.Wrap(err, errDefaults)
	}
	providers := slices.Clone(p.ProviderIDs)
	if providers == nil {
		// The list is required; Authentik explains why it may not be empty.
		providers = []int32{}
	}
	req := api.NewOutpostRequest(ptr.Deref(p.Name, ""), api.OutpostTypeEnum(ptr.Deref(p.Type, v1alpha1.OutpostTypeProxy)), providers, mergedConfig(defaults.Config, cfg))
	if sc := ptr.Deref(p.ServiceConnection, ""); sc != "" {
		req.SetServiceConnection(sc)
	}
	o, resp, err := e.api().OutpostsInstancesCreate(ctx).OutpostRequest(*req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		if authentik.CreateMayHaveSucceeded(err) {
			// Authentik may have made the outpost although its answer was
			// lost or unreadable; the adopter looks for it before
			// creating again.
			mrbehavior.MarkCreateUnconfirmed(cr)
		}
		return managed.ExternalCreation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errCreate)
	}
	// The next Observe reads what Authentik answered.
	authentik.Outposts.KeepCreated(e.client, o)
	meta.SetExternalName(cr, o.Pk)
	return managed.ExternalCreation{}, nil
}

// Update writes the fields the spec sets that differ, with PATCH so that
// the provider list is not part of it, then brings the provider list in
// line through the list editor, which the OutpostBindings of this outpost
// share.
func (e *external) Update(ctx context.Context, cr *v1alpha1.Outpost) (managed.ExternalUpdate, error) {
	id := meta.GetExternalName(cr)
	o, resp, err := e.api().OutpostsInstancesRetrieve(ctx, id).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return managed.ExternalUpdate{}, errors.Wrap(err, errGet)
	}
	spec, err := specView(cr.Spec.ForProvider)
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	if req, changed := patchOf(spec, observedView(o)); changed {
		_, resp, err := e.api().OutpostsInstancesPartialUpdate(ctx, id).PatchedOutpostRequest(req).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return managed.ExternalUpdate{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errUpdate)
		}
	}
	attached := cr.Status.AtProvider.AttachedProviderIDs
	add, remove := providerChanges(spec.ProviderIDs, attached, o.Providers)
	if len(add) == 0 && len(remove) == 0 {
		return managed.ExternalUpdate{}, nil
	}
	o, _, err = e.lists.Apply(ctx, e.client, id, authentik.OutpostEdit{Add: add, Remove: remove, FieldPaths: fieldPaths})
	if err != nil {
		return managed.ExternalUpdate{}, errors.Wrap(err, errUpdate)
	}
	cr.Status.AtProvider = observation(o, slices.Clone(spec.ProviderIDs))
	return managed.ExternalUpdate{}, nil
}

// patchOf is a PATCH body with the fields the spec sets that differ from
// Authentik's, and whether there are any. The config sent is Authentik's
// with the spec's keys set on top, as Authentik replaces it whole.
func patchOf(spec, observed view) (api.PatchedOutpostRequest, bool) {
	req := api.PatchedOutpostRequest{}
	changed := false
	if spec.Name != nil && *spec.Name != ptr.Deref(observed.Name, "") {
		req.Name, changed = spec.Name, true
	}
	if spec.Type != nil && *spec.Type != ptr.Deref(observed.Type, "") {
		req.Type, changed = ptr.To(api.OutpostTypeEnum(*spec.Type)), true
	}
	if spec.ServiceConnection != nil && *spec.ServiceConnection != ptr.Deref(observed.ServiceConnection, "") {
		if *spec.ServiceConnection == "" {
			req.SetServiceConnectionNil()
		} else {
			req.SetServiceConnection(*spec.ServiceConnection)
		}
		changed = true
	}
	if spec.Config != nil && specDiff(view{Config: spec.Config}, observed, nil) != "" {
		req.Config, changed = mergedConfig(observed.Config, spec.Config), true
	}
	return req, changed
}

// Delete removes the outpost; one that is already gone counts as deleted.
func (e *external) Delete(ctx context.Context, cr *v1alpha1.Outpost) (managed.ExternalDelete, error) {
	cr.SetConditions(xpv2.Deleting())
	resp, err := e.api().OutpostsInstancesDestroy(ctx, meta.GetExternalName(cr)).Execute()
	if err := authentik.Classify(resp, err); err != nil && !authentik.IsNotFound(err) {
		return managed.ExternalDelete{}, errors.Wrap(err, errDelete)
	}
	return managed.ExternalDelete{}, nil
}

// connected is the client this external client uses, for finding what
// exists before a create.
func (e *external) connected(context.Context, *v1alpha1.Outpost) (*authentik.Client, error) {
	return e.client, nil
}

// Disconnect releases nothing: HTTP connections are pooled per config.
func (e *external) Disconnect(_ context.Context) error { return nil }
