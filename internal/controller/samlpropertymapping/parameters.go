package samlpropertymapping

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
// friendly name is omitted, so Authentik keeps (or defaults) it.
func request(p v1alpha1.SAMLPropertyMappingParameters) api.SAMLPropertyMappingRequest {
	r := api.NewSAMLPropertyMappingRequest(ptr.Deref(p.Name, ""), ptr.Deref(p.Expression, ""), ptr.Deref(p.SAMLName, ""))
	if p.FriendlyName != nil {
		r.SetFriendlyName(*p.FriendlyName)
	}
	return *r
}

// parametersOf reads a mapping as Authentik returned it into the spec's
// shape; a null friendly name reads as empty, as the assertion has none
// either way.
func parametersOf(m *api.SAMLPropertyMapping) v1alpha1.SAMLPropertyMappingParameters {
	return v1alpha1.SAMLPropertyMappingParameters{
		Name:         ptr.To(m.Name),
		SAMLName:     ptr.To(m.SamlName),
		FriendlyName: ptr.To(m.GetFriendlyName()),
		Expression:   ptr.To(m.Expression),
	}
}

// view is what specDiff compares, with each expression replaced by whether
// it is the spec's.
type view struct {
	Name         *string
	SAMLName     *string
	FriendlyName *string
	Expression   *string
}

// specDiff compares the fields the spec sets with what Authentik has. Unset
// fields are not managed and so never differ. Authentik stores the
// strings without leading and trailing whitespace (DRF's CharField trims
// them), so the spec's expression is compared trimmed. An empty result
// means up to date.
func specDiff(spec, observed v1alpha1.SAMLPropertyMappingParameters) string {
	want := view{Name: spec.Name, SAMLName: spec.SAMLName, FriendlyName: spec.FriendlyName}
	got := view{}
	if spec.Name != nil {
		got.Name = observed.Name
	}
	if spec.SAMLName != nil {
		got.SAMLName = observed.SAMLName
	}
	if spec.FriendlyName != nil {
		got.FriendlyName = ptr.To(ptr.Deref(observed.FriendlyName, ""))
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
func lateInitialize(spec *v1alpha1.SAMLPropertyMappingParameters, observed v1alpha1.SAMLPropertyMappingParameters) bool {
	filled := []bool{
		mrbehavior.FillUnset(&spec.Name, observed.Name),
		mrbehavior.FillUnset(&spec.SAMLName, observed.SAMLName),
		mrbehavior.FillUnset(&spec.FriendlyName, observed.FriendlyName),
		mrbehavior.FillUnset(&spec.Expression, observed.Expression),
	}
	return slices.Contains(filled, true)
}

// observation is what status.atProvider shows of a mapping.
func observation(m *api.SAMLPropertyMapping) v1alpha1.SAMLPropertyMappingObservation {
	o := v1alpha1.SAMLPropertyMappingObservation{PK: ptr.To(m.Pk)}
	if k := m.GetManaged(); k != "" {
		o.Managed = ptr.To(k)
	}
	return o
}
