package proxyprovider

import (
	"context"
	"slices"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	api "goauthentik.io/api/v3"
	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrexternal"
)

// read is what Observe read of a provider, for an update's request.
type read = mrexternal.Read[v1alpha1.ProxyProviderParameters, api.ProxyProvider]

// request builds the full body for a create or PUT from the spec, taking
// the flows that seen resolved. Fields the spec leaves unset are omitted, so
// Authentik keeps (or defaults) them.
func request(ctx context.Context, c *authentik.Client, p v1alpha1.ProxyProviderParameters, seen read) (api.ProxyProviderRequest, error) {
	authz, err := c.SpecFlowUUID(ctx, p.AuthorizationFlow, authentik.DefaultAuthorizationFlow, seen.Observed.AuthorizationFlow, seen.Object.GetAuthorizationFlow())
	if err != nil {
		return api.ProxyProviderRequest{}, errors.Wrap(err, errResolveFlow)
	}
	inval, err := c.SpecFlowUUID(ctx, p.InvalidationFlow, authentik.DefaultInvalidationFlow, seen.Observed.InvalidationFlow, seen.Object.GetInvalidationFlow())
	if err != nil {
		return api.ProxyProviderRequest{}, errors.Wrap(err, errResolveFlow)
	}
	r := api.NewProxyProviderRequest(ptr.Deref(p.Name, ""), authz, inval, ptr.Deref(p.ExternalHost, ""))
	if p.Mode != nil {
		r.Mode = ptr.To(api.ProxyMode(*p.Mode))
	}
	r.InternalHost = p.InternalHost
	r.InternalHostSslValidation = p.InternalHostSSLValidation
	r.CookieDomain = p.CookieDomain
	r.SkipPathRegex = p.SkipPathRegex
	r.BasicAuthEnabled = p.BasicAuthEnabled
	r.BasicAuthUserAttribute = p.BasicAuthUserAttribute
	r.BasicAuthPasswordAttribute = p.BasicAuthPasswordAttribute
	r.InterceptHeaderAuth = p.InterceptHeaderAuth
	r.AccessTokenValidity = p.AccessTokenValidity
	r.RefreshTokenValidity = p.RefreshTokenValidity
	if p.Certificate != nil {
		r.SetCertificate(*p.Certificate)
	}
	if p.PropertyMappings != nil {
		r.PropertyMappings = slices.Clone(p.PropertyMappings)
	}
	return *r, nil
}

// parametersOf reads a provider as Authentik returned it into the spec's
// shape. Flows are named by slug; a flow the spec names keeps the spec's
// slug when it resolves to the same UUID, which saves a lookup.
func parametersOf(ctx context.Context, c *authentik.Client, p *api.ProxyProvider, spec v1alpha1.ProxyProviderParameters) (v1alpha1.ProxyProviderParameters, error) {
	authz, err := c.FlowSlugFor(ctx, p.AuthorizationFlow, spec.AuthorizationFlow, authentik.DefaultAuthorizationFlow)
	if err != nil {
		return v1alpha1.ProxyProviderParameters{}, err
	}
	inval, err := c.FlowSlugFor(ctx, p.InvalidationFlow, spec.InvalidationFlow, authentik.DefaultInvalidationFlow)
	if err != nil {
		return v1alpha1.ProxyProviderParameters{}, err
	}
	out := v1alpha1.ProxyProviderParameters{
		Name:                       ptr.To(p.Name),
		ExternalHost:               ptr.To(p.ExternalHost),
		InternalHost:               ptr.To(ptr.Deref(p.InternalHost, "")),
		InternalHostSSLValidation:  p.InternalHostSslValidation,
		AuthorizationFlow:          authz,
		InvalidationFlow:           inval,
		CookieDomain:               ptr.To(ptr.Deref(p.CookieDomain, "")),
		SkipPathRegex:              ptr.To(ptr.Deref(p.SkipPathRegex, "")),
		BasicAuthEnabled:           p.BasicAuthEnabled,
		BasicAuthUserAttribute:     ptr.To(ptr.Deref(p.BasicAuthUserAttribute, "")),
		BasicAuthPasswordAttribute: ptr.To(ptr.Deref(p.BasicAuthPasswordAttribute, "")),
		InterceptHeaderAuth:        p.InterceptHeaderAuth,
		AccessTokenValidity:        p.AccessTokenValidity,
		RefreshTokenValidity:       p.RefreshTokenValidity,
		PropertyMappings:           slices.Clone(p.PropertyMappings),
	}
	if p.Mode != nil {
		out.Mode = ptr.To(string(*p.Mode))
	}
	if p.Certificate.IsSet() && p.Certificate.Get() != nil {
		out.Certificate = ptr.To(*p.Certificate.Get())
	}
	return out, nil
}

// specDiff compares the fields the spec sets with what Authentik has. Unset
// fields are not managed and so never differ; property mappings are a set
// the provider must contain, since Authentik adds its default mappings on
// every save. The certificate reference is compared through the UUID it
// resolved to. An empty result means up to date.
func specDiff(spec, observed v1alpha1.ProxyProviderParameters) string {
	spec.CertificateRef = nil
	got := onlySetFields(spec, observed)
	return cmp.Diff(spec, got, cmpopts.SortSlices(func(a, b string) bool { return a < b }), cmpopts.EquateEmpty())
}

// onlySetFields keeps of observed just the fields that spec sets.
func onlySetFields(spec, observed v1alpha1.ProxyProviderParameters) v1alpha1.ProxyProviderParameters {
	keep := func(s, o *string) *string {
		if s == nil {
			return nil
		}
		return o
	}
	keepBool := func(s, o *bool) *bool {
		if s == nil {
			return nil
		}
		return o
	}
	got := v1alpha1.ProxyProviderParameters{
		Name:                       keep(spec.Name, observed.Name),
		Mode:                       keep(spec.Mode, observed.Mode),
		ExternalHost:               keep(spec.ExternalHost, observed.ExternalHost),
		InternalHost:               keep(spec.InternalHost, observed.InternalHost),
		InternalHostSSLValidation:  keepBool(spec.InternalHostSSLValidation, observed.InternalHostSSLValidation),
		AuthorizationFlow:          keep(spec.AuthorizationFlow, observed.AuthorizationFlow),
		InvalidationFlow:           keep(spec.InvalidationFlow, observed.InvalidationFlow),
		CookieDomain:               keep(spec.CookieDomain, observed.CookieDomain),
		SkipPathRegex:              keep(spec.SkipPathRegex, observed.SkipPathRegex),
		BasicAuthEnabled:           keepBool(spec.BasicAuthEnabled, observed.BasicAuthEnabled),
		BasicAuthUserAttribute:     keep(spec.BasicAuthUserAttribute, observed.BasicAuthUserAttribute),
		BasicAuthPasswordAttribute: keep(spec.BasicAuthPasswordAttribute, observed.BasicAuthPasswordAttribute),
		InterceptHeaderAuth:        keepBool(spec.InterceptHeaderAuth, observed.InterceptHeaderAuth),
		AccessTokenValidity:        keep(spec.AccessTokenValidity, observed.AccessTokenValidity),
		RefreshTokenValidity:       keep(spec.RefreshTokenValidity, observed.RefreshTokenValidity),
		Certificate:                keep(spec.Certificate, observed.Certificate),
	}
	if spec.PropertyMappings != nil {
		got.PropertyMappings = observed.PropertyMappings
		if containsAll(observed.PropertyMappings, spec.PropertyMappings) {
			got.PropertyMappings = spec.PropertyMappings
		}
	}
	return got
}

func containsAll(set, sub []string) bool {
	for _, s := range sub {
		if !slices.Contains(set, s) {
			return false
		}
	}
	return true
}

// lateInitialize fills the spec's unset fields from Authentik and reports
// whether it changed anything. Property mappings and the certificate stay
// unset: Authentik's defaults for them are not the user's choice.
func lateInitialize(spec *v1alpha1.ProxyProviderParameters, observed v1alpha1.ProxyProviderParameters) bool {
	filled := []bool{
		mrbehavior.FillUnset(&spec.Name, observed.Name),
		mrbehavior.FillUnset(&spec.Mode, observed.Mode),
		mrbehavior.FillUnset(&spec.ExternalHost, observed.ExternalHost),
		mrbehavior.FillUnset(&spec.InternalHost, observed.InternalHost),
		mrbehavior.FillUnset(&spec.InternalHostSSLValidation, observed.InternalHostSSLValidation),
		mrbehavior.FillUnset(&spec.AuthorizationFlow, observed.AuthorizationFlow),
		mrbehavior.FillUnset(&spec.InvalidationFlow, observed.InvalidationFlow),
		mrbehavior.FillUnset(&spec.CookieDomain, observed.CookieDomain),
		mrbehavior.FillUnset(&spec.SkipPathRegex, observed.SkipPathRegex),
		mrbehavior.FillUnset(&spec.BasicAuthEnabled, observed.BasicAuthEnabled),
		mrbehavior.FillUnset(&spec.BasicAuthUserAttribute, observed.BasicAuthUserAttribute),
		mrbehavior.FillUnset(&spec.BasicAuthPasswordAttribute, observed.BasicAuthPasswordAttribute),
		mrbehavior.FillUnset(&spec.InterceptHeaderAuth, observed.InterceptHeaderAuth),
		mrbehavior.FillUnset(&spec.AccessTokenValidity, observed.AccessTokenValidity),
		mrbehavior.FillUnset(&spec.RefreshTokenValidity, observed.RefreshTokenValidity),
	}
	return slices.Contains(filled, true)
}

// observation is what status.atProvider shows of a provider.
func observation(p *api.ProxyProvider) v1alpha1.ProxyProviderObservation {
	o := v1alpha1.ProxyProviderObservation{
		PK:                      ptr.To(p.Pk),
		ClientID:                ptr.To(p.ClientId),
		AssignedApplicationSlug: p.AssignedApplicationSlug.Get(),
		AssignedApplicationName: p.AssignedApplicationName.Get(),
		Outposts:                slices.Clone(p.OutpostSet),
		AuthorizationFlowUUID:   ptr.To(p.AuthorizationFlow),
		InvalidationFlowUUID:    ptr.To(p.InvalidationFlow),
	}
	for _, u := range p.RedirectUris {
		o.RedirectURIs = append(o.RedirectURIs, u.Url)
	}
	return o
}
