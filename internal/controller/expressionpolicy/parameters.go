package expressionpolicy

import (
	"slices"
	"strings"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	"k8s.io/utils/ptr"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
)

// What a diff shows of an expression: whether it differs, never the code,
// which the diff carries into debug logs and the adopter's messages.
const (
	specExpression  = "the expression of spec.forProvider.expression"
	otherExpression = "another expression (not shown)"
)

// request builds the body for a create or PUT from the spec. An unset
// executionLogging is omitted, so Authentik keeps (or defaults) it.
func request(p v1alpha1.ExpressionPolicyParameters) api.ExpressionPolicyRequest {
	r := api.NewExpressionPolicyRequest(ptr.Deref(p.Name, ""), ptr.Deref(p.Expression, ""))
	r.ExecutionLogging = p.ExecutionLogging
	return *r
}

// parametersOf reads a policy as Authentik returned it into the spec's
// shape.
func parametersOf(p *api.ExpressionPolicy) v1alpha1.ExpressionPolicyParameters {
	return v1alpha1.ExpressionPolicyParameters{
		Name:             ptr.To(p.Name),
		Expression:       ptr.To(p.Expression),
		ExecutionLogging: p.ExecutionLogging,
	}
}

// view is what specDiff compares, with each expression replaced by whether it
// is the spec's.
type view struct {
	Name             *string
	Expression       *string
	ExecutionLogging *bool
}

// specDiff compares the fields the spec sets with what Authentik has. Unset
// fields are not managed and so never differ. Authentik stores an
// expression without leading and trailing whitespace (DRF's CharField
// trims it), so the spec's is compared trimmed. An empty result means up
// to date.
func specDiff(spec, observed v1alpha1.ExpressionPolicyParameters) string {
	want := view{Name: spec.Name, ExecutionLogging: spec.ExecutionLogging}
	got := view{}
	if spec.Name != nil {
		got.Name = observed.Name
	}
	if spec.ExecutionLogging != nil {
		got.ExecutionLogging = ptr.To(ptr.Deref(observed.ExecutionLogging, false))
	}
	if spec.Expression != nil {
		want.Expression = ptr.To(specExpression)
		got.Expression = ptr.To(otherExpression)
		if observed.Expression != nil && strings.TrimSpace(*spec.Expression) == strings.TrimSpace(*observed.Expression) {
			got.Expression = want.Expression
		}
	}
	return cmp.Diff(want, got)
}

// lateInitialize fills the spec's unset fields from Authentik and reports
// whether it changed anything.
func lateInitialize(spec *v1alpha1.ExpressionPolicyParameters, observed v1alpha1.ExpressionPolicyParameters) bool {
	changed := false
	if spec.ExecutionLogging == nil {
		spec.ExecutionLogging = ptr.To(ptr.Deref(observed.ExecutionLogging, false))
		changed = true
	}
	filled := []bool{
		mrbehavior.FillUnset(&spec.Name, observed.Name),
		mrbehavior.FillUnset(&spec.Expression, observed.Expression),
	}
	return changed || slices.Contains(filled, true)
}
