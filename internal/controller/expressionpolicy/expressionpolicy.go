// Package expressionpolicy manages Authentik expression policies. It
// writes a policy's expression as the user gave it and never runs it, logs
// it or puts it in an event: a diff says that the expression differs, not
// what it is.
package expressionpolicy

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
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrexternal"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

const errExternalName = "the external name must be the expression policy's UUID"

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

// policies is how an ExpressionPolicy is reconciled. Update writes the
// spec with PUT; an unset executionLogging is omitted and kept. Authentik
// deletes a policy's bindings with it. Policy names are unique in
// Authentik, so what a create would collide with is the expression policy
// with the spec's name; a policy of another type with the name is not
// listed, and Authentik refuses the create on spec.forProvider.name.
var policies = &mrexternal.Kind[*v1alpha1.ExpressionPolicy, v1alpha1.ExpressionPolicyParameters, api.ExpressionPolicy, string]{
	Collection:      authentik.ExpressionPolicies,
	FieldPaths:      fieldPaths,
	Noun:            "expression policy",
	ErrExternalName: errExternalName,
	ErrFindByName:   "cannot look for an expression policy with spec.forProvider.name",
	Spec:            forProvider,
	Compare:         mrexternal.Compared(forProvider, parametersOf, specDiff),
	LateInitialize:  lateInitialize,
	Observe:         func(cr *v1alpha1.ExpressionPolicy, p *api.ExpressionPolicy) { cr.Status.AtProvider = observation(p) },
	Create: mrexternal.Send(forProvider, mrexternal.Plain[api.ExpressionPolicy](request), func(ctx context.Context, c *authentik.Client, r api.ExpressionPolicyRequest) (*api.ExpressionPolicy, *http.Response, error) {
		return c.API.PoliciesAPI.PoliciesExpressionCreate(ctx).ExpressionPolicyRequest(r).Execute()
	}),
	Update: mrexternal.SendTo(forProvider, mrexternal.Plain[api.ExpressionPolicy](request), func(ctx context.Context, c *authentik.Client, id string, r api.ExpressionPolicyRequest) (*api.ExpressionPolicy, *http.Response, error) {
		return c.API.PoliciesAPI.PoliciesExpressionUpdate(ctx, id).ExpressionPolicyRequest(r).Execute()
	}),
	Delete: func(ctx context.Context, c *authentik.Client, id string) (*http.Response, error) {
		return c.API.PoliciesAPI.PoliciesExpressionDestroy(ctx, id).Execute()
	},
	Name: func(cr *v1alpha1.ExpressionPolicy) *string { return cr.Spec.ForProvider.Name },
	List: func(ctx context.Context, c *authentik.Client, name string) ([]api.ExpressionPolicy, *http.Response, error) {
		return mrexternal.Results(c.API.PoliciesAPI.PoliciesExpressionList(ctx).Name(name).Execute())
	},
	ObjectName: func(p *api.ExpressionPolicy) string { return p.Name },
}

func forProvider(cr *v1alpha1.ExpressionPolicy) *v1alpha1.ExpressionPolicyParameters {
	return &cr.Spec.ForProvider
}

// ReconcilerOptions are the options particular to ExpressionPolicies: the
// connector and, in place of the default name initializer (the UUID is
// Authentik's to choose), the adopter for unconfirmed creates.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	return policies.ReconcilerOptions(kube, conn)
}

// SetupGated adds a controller that reconciles ExpressionPolicies once the
// ExpressionPolicy CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}

// observation is what status.atProvider shows of a policy.
func observation(p *api.ExpressionPolicy) v1alpha1.ExpressionPolicyObservation {
	return v1alpha1.ExpressionPolicyObservation{PK: ptr.To(p.Pk), BoundTo: ptr.To(p.BoundTo)}
}
