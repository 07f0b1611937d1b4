package expressionpolicy

import (
	"testing"

	api "goauthentik.io/api/v3"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

var fixture = mrtest.Fixture{
	Kind:    Kind,
	Options: mrtest.OptionsOf(ReconcilerOptions),
	Resource: func(adopt bool) resource.Managed {
		return policy(func(cr *v1alpha1.ExpressionPolicy) { cr.Spec.AdoptExisting = adopt })
	},
	Path:     "/policies/expression/",
	CreateOp: "policies_expression_create",
	Existing: func(t *testing.T, e *mrtest.Env) string {
		return authentikPolicy(t, e, *api.NewExpressionPolicyRequest(policyName, "return False"))
	},
	Count: func(t *testing.T, e *mrtest.Env) int { return len(policiesNamed(t, e, policyName)) },
}

func TestNoTakeover(t *testing.T) {
	t.Parallel()
	fixture.RunTakeover(t)
}
