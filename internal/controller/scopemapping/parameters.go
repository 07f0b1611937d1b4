package scopemapping

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
// description is omitted, so Authentik keeps (or defaults) it.
func request(p v1alpha1.ScopeMappingParameters) api.ScopeMappingRequest {
	r := api.NewScopeMappingRequest(ptr.Deref(p.Name, ""), ptr.Deref(p.Expression, ""), ptr.Deref(p.ScopeName, ""))
	r.Description = p.Description
	return *r
}

// parametersOf reads a mapping as Authentik returned it into the spec's
// shape.
func parametersOf(m *api.ScopeMapping) v1alpha1.ScopeMappingParameters {
	return v1alpha1.ScopeMappingParameters{
		Name:        ptr.To(m.Name),
		ScopeName:   ptr.To(m.ScopeName),
		Description: ptr.To(m.GetDescription()),
		Expression:  ptr.To(m.Expression),
	}
}

// view is what specDiff compares, with each expression replaced by whether it
// is the spec's.
type view struct {
	Name        *string
	ScopeName   *string
	Description *string
	Expression  *string
}

// specDiff compares the fields the spec sets with what Authentik has. Unset
// fields are not managed and so never differ. Authentik stores the
// description and the expression without leading and trailing whitespace
// (DRF's CharField trims them), so the spec's are compared trimmed. An
// empty result means up to date.
func specDiff(spec, observed v1alpha1.ScopeMappingParameters) string {
	want := view{Name: spec.Name, ScopeName: spec.ScopeName}
	got := view{}
	if spec.Name != nil {
		got.Name = observed.Name
	}
	if spec.ScopeName != nil {
		got.ScopeName = observed.ScopeName
	}
	if spec.Description != nil {
		want.Description = ptr.To(strings.TrimSpace(*spec.Description))
		got.Description = ptr.To(strings.TrimSpace(ptr.Deref(observed.Description, "")))
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
func lateInitialize(spec *v1alpha1.ScopeMappingParameters, observed v1alpha1.ScopeMappingParameters) bool {
	filled := []bool{
		mrbehavior.FillUnset(&spec.Name, observed.Name),
		mrbehavior.FillUnset(&spec.ScopeName, observed.ScopeName),
		mrbehavior.FillUnset(&spec.Description, observed.Description),
		mrbehavior.FillUnset(&spec.Expression, observed.Expression),
	}
	return slices.Contains(filled, true)
}

// observation is what status.atProvider shows of a mapping.
func observation(m *api.ScopeMapping) v1alpha1.ScopeMappingObservation {
	o := v1alpha1.ScopeMappingObservation{PK: ptr.To(m.Pk)}
	if k := m.GetManaged(); k != "" {
		o.Managed = ptr.To(k)
	}
	return o
}
