// Package scopemapping manages Authentik OAuth2 scope mappings. It writes
// a mapping's expression as the user gave it and never runs it, logs it or
// puts it in an event: a diff says that the expression differs, not what
// it is.
package scopemapping

import (
	"context"

	api "goauthentik.io/api/v3"
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
	errExternalName = "the external name must be the scope mapping's UUID"
	errGet          = "cannot get scope mapping"
	errCreate       = "cannot create scope mapping"
	errUpdate       = "cannot update scope mapping"
	errDelete       = "cannot delete scope mapping"
)

// fieldPaths maps Authentik's request fields to this resource's fields, so
// Authentik's validation messages name what the user has to change.
var fieldPaths = map[string]string{
	"name":        "spec.forProvider.name",
	"scope_name":  "spec.forProvider.scopeName",
	"description": "spec.forProvider.description",
	"expression":  "spec.forProvider.expression",
}

// Kind describes the ScopeMapping managed resource.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.ScopeMappingGroupVersionKind,
	GroupKind:        v1alpha1.ScopeMappingGroupKind,
	Object:           &v1alpha1.ScopeMapping{},
	List:             &v1alpha1.ScopeMappingList{},
}

// ReconcilerOptions are the options particular to ScopeMappings: the
// connector and, in place of the default name initializer (the UUID is
// Authentik's to choose), the adopter for unconfirmed creates.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	c := mrsetup.NewConnector[*v1alpha1.ScopeMapping](conn, func(ac *authentik.Client) *external {
		return &external{client: ac}
	})
	return []managed.ReconcilerOption{
		managed.WithTypedExternalConnector(mrbehavior.ObserveAfterCreate[*v1alpha1.ScopeMapping](c)),
		managed.WithInitializers(&mrbehavior.Adopter{Kube: kube, Find: candidates(c.Client)}),
	}
}

// SetupGated adds a controller that reconciles ScopeMappings once the
// ScopeMapping CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}

// external reconciles one ScopeMapping with Authentik.
type external struct {
	client *authentik.Client
}

func (e *external) api() *api.PropertymappingsAPIService { return e.client.API.PropertymappingsAPI }

// Observe reads the mapping by its UUID and compares it with the spec.
func (e *external) Observe(ctx context.Context, cr *v1alpha1.ScopeMapping) (managed.ExternalObservation, error) {
	en := meta.GetExternalName(cr)
	if en == "" {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	id, err := mrbehavior.ExternalUUID(en, errExternalName)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	m, err := authentik.ScopeMappings.GetCached(ctx, e.client, id)
	if err != nil {
		if authentik.IsNotFound(err) {
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		return managed.ExternalObservation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errGet)
	}

	observed := parametersOf(m)
	diff := specDiff(cr.Spec.ForProvider, observed)
	lateInit := lateInitialize(&cr.Spec.ForProvider, observed)
	cr.Status.AtProvider = observation(m)
	cr.SetConditions(xpv2.Available())

	return managed.ExternalObservation{
		ResourceExists:          true,
		ResourceUpToDate:        diff == "",
		ResourceLateInitialized: lateInit,
		Diff:                    diff,
	}, nil
}

// Create makes the mapping and records its UUID as the external name.
func (e *external) Create(ctx context.Context, cr *v1alpha1.ScopeMapping) (managed.ExternalCreation, error) {
	if adopted, err := mrbehavior.AdoptOnCreate(ctx, cr, candidates(e.connected)); adopted || err != nil {
		return managed.ExternalCreation{}, err
	}
	m, resp, err := e.api().PropertymappingsProviderScopeCreate(ctx).ScopeMappingRequest(request(cr.Spec.ForProvider)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		if authentik.CreateMayHaveSucceeded(err) {
			// Authentik may have made the mapping although its answer was
			// lost or unreadable; the adopter looks for it before creating
			// again.
			mrbehavior.MarkCreateUnconfirmed(cr)
		}
		return managed.ExternalCreation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errCreate)
	}
	// The next Observe reads what Authentik answered.
	authentik.ScopeMappings.KeepCreated(e.client, m)
	meta.SetExternalName(cr, m.Pk)
	cr.Status.AtProvider = observation(m)
	return managed.ExternalCreation{}, nil
}

// Update writes the spec with PUT. An unset description is omitted and
// kept.
func (e *external) Update(ctx context.Context, cr *v1alpha1.ScopeMapping) (managed.ExternalUpdate, error) {
	id, err := mrbehavior.ExternalUUID(meta.GetExternalName(cr), errExternalName)
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	m, resp, err := e.api().PropertymappingsProviderScopeUpdate(ctx, id).ScopeMappingRequest(request(cr.Spec.ForProvider)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return managed.ExternalUpdate{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errUpdate)
	}
	cr.Status.AtProvider = observation(m)
	return managed.ExternalUpdate{}, nil
}

// Delete removes the mapping; one that is already gone counts as deleted.
// Authentik takes it off every provider that offered it.
func (e *external) Delete(ctx context.Context, cr *v1alpha1.ScopeMapping) (managed.ExternalDelete, error) {
	cr.SetConditions(xpv2.Deleting())
	id, err := mrbehavior.ExternalUUID(meta.GetExternalName(cr), errExternalName)
	if err != nil {
		return managed.ExternalDelete{}, err
	}
	resp, err := e.api().PropertymappingsProviderScopeDestroy(ctx, id).Execute()
	if err := authentik.Classify(resp, err); err != nil && !authentik.IsNotFound(err) {
		return managed.ExternalDelete{}, errors.Wrap(err, errDelete)
	}
	return managed.ExternalDelete{}, nil
}

// connected is the client this external client uses, for finding what
// exists before a create.
func (e *external) connected(context.Context, *v1alpha1.ScopeMapping) (*authentik.Client, error) {
	return e.client, nil
}

// Disconnect releases nothing: HTTP connections are pooled per config.
func (e *external) Disconnect(_ context.Context) error { return nil }
