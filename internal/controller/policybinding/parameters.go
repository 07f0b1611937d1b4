package policybinding

import (
	"slices"
	"strings"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	"k8s.io/utils/ptr"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
)

// parametersOf reads a binding as Authentik returned it into the spec's
// shape, with the bound group's name for specs that name it by name.
// Authentik names the policy, group or user bound, one of them.
func parametersOf(b *api.PolicyBinding) v1alpha1.PolicyBindingParameters {
	out := v1alpha1.PolicyBindingParameters{
		Application: ptr.To(b.Target),
		Order:       ptr.To(b.Order),
		Negate:      b.Negate,
		Enabled:     b.Enabled,
		Timeout:     b.Timeout,
	}
	if g := b.Group.Get(); g != nil {
		out.Group = ptr.To(*g)
	}
	if g := b.GroupObj.Get(); g != nil {
		out.GroupName = ptr.To(g.Name)
	}
	if p := b.Policy.Get(); p != nil {
		out.Policy = ptr.To(*p)
	}
	return out
}

// specDiff compares the fields the spec sets with what Authentik has. Unset
// fields are not managed and so never differ; references and selectors
// are not Authentik's and are left out. A group named by name is compared
// by name, which saves a lookup. An empty result means up to date.
func specDiff(spec, observed v1alpha1.PolicyBindingParameters) string {
	want := v1alpha1.PolicyBindingParameters{
		Application: lower(spec.Application),
		Group:       lower(spec.Group),
		GroupName:   spec.GroupName,
		Policy:      lower(spec.Policy),
		Order:       spec.Order,
		Negate:      spec.Negate,
		Enabled:     spec.Enabled,
		Timeout:     spec.Timeout,
	}
	got := v1alpha1.PolicyBindingParameters{
		Application: keep(spec.Application, lower(observed.Application)),
		Group:       keep(spec.Group, lower(observed.Group)),
		GroupName:   keep(spec.GroupName, observed.GroupName),
		Policy:      keep(spec.Policy, lower(observed.Policy)),
		Order:       keep(spec.Order, observed.Order),
		Negate:      keep(spec.Negate, observed.Negate),
		Enabled:     keep(spec.Enabled, observed.Enabled),
		Timeout:     keep(spec.Timeout, observed.Timeout),
	}
	return cmp.Diff(want, got)
}

// lower spells a UUID the way Authentik does.
func lower(s *string) *string {
	if s == nil {
		return nil
	}
	return ptr.To(strings.ToLower(*s))
}

func keep[T any](s, o *T) *T {
	if s == nil {
		return nil
	}
	return o
}

// lateInitialize fills the spec's unset fields from Authentik and reports
// whether it changed anything. The application is filled only when the
// spec names it in no way at all, and the group or policy only when the
// spec names neither in any way.
func lateInitialize(spec *v1alpha1.PolicyBindingParameters, observed v1alpha1.PolicyBindingParameters) bool {
	changed := false
	if spec.Application == nil && spec.ApplicationRef == nil && spec.ApplicationSelector == nil && observed.Application != nil {
		spec.Application = ptr.To(*observed.Application)
		changed = true
	}
	if !spec.NamesGroup() && !spec.BindsPolicy() {
		switch {
		case observed.Group != nil:
			spec.Group = ptr.To(*observed.Group)
			changed = true
		case observed.Policy != nil:
			spec.Policy = ptr.To(*observed.Policy)
			changed = true
		}
	}
	filled := []bool{
		mrbehavior.FillUnset(&spec.Order, observed.Order),
		mrbehavior.FillUnset(&spec.Negate, observed.Negate),
		mrbehavior.FillUnset(&spec.Enabled, observed.Enabled),
		mrbehavior.FillUnset(&spec.Timeout, observed.Timeout),
	}
	return changed || slices.Contains(filled, true)
}

// observation is what status.atProvider shows of a binding.
func observation(b *api.PolicyBinding) v1alpha1.PolicyBindingObservation {
	o := v1alpha1.PolicyBindingObservation{PK: ptr.To(b.Pk), Target: ptr.To(b.Target)}
	if g := b.Group.Get(); g != nil {
		o.Group = ptr.To(*g)
	}
	if g := b.GroupObj.Get(); g != nil {
		o.GroupName = ptr.To(g.Name)
	}
	if p := b.Policy.Get(); p != nil {
		o.Policy = ptr.To(*p)
	}
	if p := b.PolicyObj.Get(); p != nil {
		o.PolicyName = ptr.To(p.Name)
	}
	return o
}
