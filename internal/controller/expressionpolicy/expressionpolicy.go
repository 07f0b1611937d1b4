// Package expressionpolicy manages Authentik expression policies. It
// writes a policy's expression as the user gave it and never runs it, logs
// it or puts it in an event: a diff says that the expression differs, not
// what it is.
package expressionpolicy

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
	errExternalName = "the external name must be the expression policy's UUID"
	errGet          = "cannot get expression policy"
	errCreate       = "cannot create expression policy"
	errUpdate       = "cannot update expression policy"
	errDelete       = "cannot delete expression policy"
)

// fieldPaths maps Authentik's request fields to this resource's fields, so
// Authentik's validation messages name what the user has to change.
var fieldPaths = map[string]string{
	"name":              "spec.forProvider.name",
	"expression":        "spec.forProvider.expression",
	"execution_logging": "spec.forProvider.executionLogging",
}

// Kind describes the ExpressionPolicy managed resource.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.ExpressionPolicyGroupVersionKind,
	GroupKind:        v1alpha1.ExpressionPolicyGroupKind,
	Object:           &v1alpha1.ExpressionPolicy{},
	List:             &v1alpha1.ExpressionPolicyList{},
}

// ReconcilerOptions are the options particular to ExpressionPolicies: the
// connector and, in place of the default name initializer (the UUID is
// Authentik's to choose), the adopter for unconfirmed creates.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	c := mrsetup.NewConnector[*v1alpha1.ExpressionPolicy](conn, func(ac *authentik.Client) *external {
		return &external{client: ac}
	})
	return []managed.ReconcilerOption{
		managed.WithTypedExternalConnector(mrbehavior.ObserveAfterCreate[*v1alpha1.ExpressionPolicy](c)),
		managed.WithInitializers(&mrbehavior.Adopter{Kube: kube, Find: candidates(c.Client)}),
	}
}

// SetupGated adds a controller that reconciles ExpressionPolicies once the
// ExpressionPolicy CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}

// external reconciles one ExpressionPolicy with Authentik.
type external struct {
	client *authentik.Client
}

func (e *external) api() *api.PoliciesAPIService { return e.client.API.PoliciesAPI }

// Observe reads the policy by its UUID and compares it with the spec.
func (e *external) Observe(ctx context.Context, cr *v1alpha1.ExpressionPolicy) (managed.ExternalObservation, error) {
	en := meta.GetExternalName(cr)
	if en == "" {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	id, err := mrbehavior.ExternalUUID(en, errExternalName)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	p, err := authentik.ExpressionPolicies.GetCached(ctx, e.client, id)
	if err != nil {
		if authentik.IsNotFound(err) {
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		return managed.ExternalObservation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errGet)
	}

	observed := parametersOf(p)
	diff := specDiff(cr.Spec.ForProvider, observed)
	lateInit := lateInitialize(&cr.Spec.ForProvider, observed)
	cr.Status.AtProvider = observation(p)
	cr.SetConditions(xpv2.Available())

	return managed.ExternalObservation{
		ResourceExists:          true,
		ResourceUpToDate:        diff == "",
		ResourceLateInitialized: lateInit,
		Diff:                    diff,
	}, nil
}

// Create makes the policy and records its UUID as the external name.
func (e *external) Create(ctx context.Context, cr *v1alpha1.ExpressionPolicy) (managed.ExternalCreation, error) {
	if adopted, err := mrbehavior.AdoptOnCreate(ctx, cr, candidates(e.connected)); adopted || err != nil {
		return managed.ExternalCreation{}, err
	}
	p, resp, err := e.api().PoliciesExpressionCreate(ctx).ExpressionPolicyRequest(request(cr.Spec.ForProvider)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		if authentik.CreateMayHaveSucceeded(err) {
			// Authentik may have made the policy although its answer was
			// lost or unreadable; the adopter looks for it before
			// creating again.
			mrbehavior.MarkCreateUnconfirmed(cr)
		}
		return managed.ExternalCreation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errCreate)
	}
	// The next Observe reads what Authentik answered.
	authentik.ExpressionPolicies.KeepCreated(e.client, p)
	meta.SetExternalName(cr, p.Pk)
	cr.Status.AtProvider = observation(p)
	return managed.ExternalCreation{}, nil
}

// Update writes the spec with PUT. An unset executionLogging is omitted
// and kept.
func (e *external) Update(ctx context.Context, cr *v1alpha1.ExpressionPolicy) (managed.ExternalUpdate, error) {
	id, err := mrbehavior.ExternalUUID(meta.GetExternalName(cr), errExternalName)
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	p, resp, err := e.api().PoliciesExpressionUpdate(ctx, id).ExpressionPolicyRequest(request(cr.Spec.ForProvider)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return managed.ExternalUpdate{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errUpdate)
	}
	cr.Status.AtProvider = observation(p)
	return managed.ExternalUpdate{}, nil
}

// Delete removes the policy; one that is already gone counts as deleted.
// Authentik deletes the policy's bindings with it.
func (e *external) Delete(ctx context.Context, cr *v1alpha1.ExpressionPolicy) (managed.ExternalDelete, error) {
	cr.SetConditions(xpv2.Deleting())
	id, err := mrbehavior.ExternalUUID(meta.GetExternalName(cr), errExternalName)
	if err != nil {
		return managed.ExternalDelete{}, err
	}
	resp, err := e.api().PoliciesExpressionDestroy(ctx, id).Execute()
	if err := authentik.Classify(resp, err); err != nil && !authentik.IsNotFound(err) {
		return managed.ExternalDelete{}, errors.Wrap(err, errDelete)
	}
	return managed.ExternalDelete{}, nil
}

// connected is the client this external client uses, for finding what
// exists before a create.
func (e *external) connected(context.Context, *v1alpha1.ExpressionPolicy) (*authentik.Client, error) {
	return e.client, nil
}

// Disconnect releases nothing: HTTP connections are pooled per config.
func (e *external) Disconnect(_ context.Context) error { return nil }

// observation is what status.atProvider shows of a policy.
func observation(p *api.ExpressionPolicy) v1alpha1.ExpressionPolicyObservation {
	return v1alpha1.ExpressionPolicyObservation{PK: ptr.To(p.Pk), BoundTo: ptr.To(p.BoundTo)}
}
