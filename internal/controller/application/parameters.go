package application

import (
	"slices"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	api "goauthentik.io/api/v3"
	"k8s.io/utils/ptr"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
)

// request builds the full body for a create or PUT from the spec. Fields the
// spec leaves unset are omitted, so Authentik keeps (or defaults) them.
func request(p v1alpha1.ApplicationParameters, slug string) api.ApplicationRequest {
	r := api.NewApplicationRequest(ptr.Deref(p.Name, ""), slug)
	switch {
	case ptr.Deref(p.DetachProvider, false):
		r.SetProviderNil()
	case p.Provider != nil:
		r.SetProvider(*p.Provider)
	}
	r.Group = p.Group
	if p.PolicyEngineMode != nil {
		r.PolicyEngineMode = ptr.To(api.PolicyEngineMode(*p.PolicyEngineMode))
	}
	r.MetaLaunchUrl = p.MetaLaunchURL
	r.MetaDescription = p.MetaDescription
	r.MetaPublisher = p.MetaPublisher
	r.MetaIcon = p.MetaIcon
	r.OpenInNewTab = p.OpenInNewTab
	return *r
}

// parametersOf reads an application as Authentik returned it into the
// spec's shape. Blank texts are read as empty strings, so that a spec that
// sets one to "" matches.
func parametersOf(a *api.Application) v1alpha1.ApplicationParameters {
	out := v1alpha1.ApplicationParameters{
		Name:            ptr.To(a.Name),
		Slug:            ptr.To(a.Slug),
		Group:           ptr.To(ptr.Deref(a.Group, "")),
		MetaLaunchURL:   ptr.To(ptr.Deref(a.MetaLaunchUrl, "")),
		MetaDescription: ptr.To(ptr.Deref(a.MetaDescription, "")),
		MetaPublisher:   ptr.To(ptr.Deref(a.MetaPublisher, "")),
		MetaIcon:        ptr.To(ptr.Deref(a.MetaIcon, "")),
		OpenInNewTab:    a.OpenInNewTab,
	}
	if p := a.Provider.Get(); p != nil {
		out.Provider = ptr.To(*p)
	}
	if a.PolicyEngineMode != nil {
		out.PolicyEngineMode = ptr.To(string(*a.PolicyEngineMode))
	}
	return out
}

// specDiff compares the fields the spec sets with what Authentik has. Unset
// fields are not managed and so never differ; the provider reference and
// selector are not Authentik's and are left out. With detachProvider any
// provider differs. An empty result means up to date.
func specDiff(spec, observed v1alpha1.ApplicationParameters) string {
	want := spec
	want.ProviderRef, want.ProviderSelector, want.DetachProvider, want.RequiredGroups = nil, nil, nil, nil
	got := onlySetFields(want, observed)
	if ptr.Deref(spec.DetachProvider, false) {
		want.Provider, got.Provider = nil, observed.Provider
	}
	return cmp.Diff(want, got, cmpopts.EquateEmpty())
}

// onlySetFields keeps of observed just the fields that spec sets.
func onlySetFields(spec, observed v1alpha1.ApplicationParameters) v1alpha1.ApplicationParameters {
	return v1alpha1.ApplicationParameters{
		Name:             keep(spec.Name, observed.Name),
		Slug:             keep(spec.Slug, observed.Slug),
		Provider:         keep(spec.Provider, observed.Provider),
		Group:            keep(spec.Group, observed.Group),
		PolicyEngineMode: keep(spec.PolicyEngineMode, observed.PolicyEngineMode),
		MetaLaunchURL:    keep(spec.MetaLaunchURL, observed.MetaLaunchURL),
		MetaDescription:  keep(spec.MetaDescription, observed.MetaDescription),
		MetaPublisher:    keep(spec.MetaPublisher, observed.MetaPublisher),
		MetaIcon:         keep(spec.MetaIcon, observed.MetaIcon),
		OpenInNewTab:     keep(spec.OpenInNewTab, observed.OpenInNewTab),
	}
}

func keep[T any](s, o *T) *T {
	if s == nil {
		return nil
	}
	return o
}

// lateInitialize fills the spec's unset fields from Authentik and reports
// whether it changed anything. The provider is filled only when neither a
// reference nor a selector names one and it is not to be detached.
func lateInitialize(spec *v1alpha1.ApplicationParameters, observed v1alpha1.ApplicationParameters) bool {
	changed := false
	filled := []bool{
		mrbehavior.FillUnset(&spec.Name, observed.Name),
		mrbehavior.FillUnset(&spec.Slug, observed.Slug),
		mrbehavior.FillUnset(&spec.Group, observed.Group),
		mrbehavior.FillUnset(&spec.PolicyEngineMode, observed.PolicyEngineMode),
		mrbehavior.FillUnset(&spec.MetaLaunchURL, observed.MetaLaunchURL),
		mrbehavior.FillUnset(&spec.MetaDescription, observed.MetaDescription),
		mrbehavior.FillUnset(&spec.MetaPublisher, observed.MetaPublisher),
		mrbehavior.FillUnset(&spec.MetaIcon, observed.MetaIcon),
		mrbehavior.FillUnset(&spec.OpenInNewTab, observed.OpenInNewTab),
	}
	if spec.Provider == nil && spec.ProviderRef == nil && spec.ProviderSelector == nil && !ptr.Deref(spec.DetachProvider, false) && observed.Provider != nil {
		spec.Provider = ptr.To(*observed.Provider)
		changed = true
	}
	return changed || slices.Contains(filled, true)
}
