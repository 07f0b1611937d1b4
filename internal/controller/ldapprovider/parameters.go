package ldapprovider

import (
	"context"
	"slices"
	"strings"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrexternal"
)

// The flows an LDAP provider gets when the spec names none: an LDAP bind
// logs a user in, so it runs an authentication flow, as Authentik's LDAP
// provider form suggests.
const (
	defaultBindFlow   = "default-authentication-flow"
	defaultUnbindFlow = "default-invalidation-flow"
)

const (
	errResolveFlow   = "cannot resolve a flow slug of spec.forProvider"
	errNoCertificate = "spec.forProvider.certificate: no certificate key pair is named"
)

// certificate is the UUID of the key pair named name. Key pair names are
// unique in Authentik (CertificateKeyPair.name, authentik/crypto/models.py).
func certificate(ctx context.Context, c *authentik.Client, name string) (string, error) {
	uuids, err := c.CertificateKeyPairUUIDs(ctx, name)
	if err != nil {
		return "", err
	}
	if len(uuids) == 0 {
		return "", errors.Errorf("%s %q", errNoCertificate, name)
	}
	return uuids[0], nil
}

// read is what Observe read of a provider, for an update's request.
type read = mrexternal.Read[v1alpha1.LDAPProviderParameters, api.LDAPProvider]

// request builds the full body for a create or PUT from the spec, taking
// the flows that seen resolved. Fields the spec leaves unset are omitted, so
// Authentik keeps (or defaults) them.
func request(ctx context.Context, c *authentik.Client, p v1alpha1.LDAPProviderParameters, seen read) (api.LDAPProviderRequest, error) {
	bind, err := c.SpecFlowUUID(ctx, p.AuthorizationFlow, defaultBindFlow, seen.Observed.AuthorizationFlow, seen.Object.GetAuthorizationFlow())
	if err != nil {
		return api.LDAPProviderRequest{}, errors.Wrap(err, errResolveFlow)
	}
	unbind, err := c.SpecFlowUUID(ctx, p.InvalidationFlow, defaultUnbindFlow, seen.Observed.InvalidationFlow, seen.Object.GetInvalidationFlow())
	if err != nil {
		return api.LDAPProviderRequest{}, errors.Wrap(err, errResolveFlow)
	}
	r := api.NewLDAPProviderRequest(ptr.Deref(p.Name, ""), bind, unbind)
	r.BaseDn = p.BaseDN
	if p.BindMode != nil {
		r.BindMode = ptr.To(api.LDAPAPIAccessMode(*p.BindMode))
	}
	if p.SearchMode != nil {
		r.SearchMode = ptr.To(api.LDAPAPIAccessMode(*p.SearchMode))
	}
	r.MfaSupport = p.MFASupport
	if p.CertificateID != nil {
		r.SetCertificate(*p.CertificateID)
	}
	if p.Certificate != nil {
		id, err := certificate(ctx, c, *p.Certificate)
		if err != nil {
			return api.LDAPProviderRequest{}, err
		}
		r.SetCertificate(id)
	}
	r.TlsServerName = p.TLSServerName
	r.UidStartNumber = p.UIDStartNumber
	r.GidStartNumber = p.GIDStartNumber
	return *r, nil
}

// parametersOf reads a provider as Authentik returned it into the spec's
// shape. Flows are named by slug; a flow the spec names keeps the spec's
// slug when it resolves to the same UUID, which saves a lookup.
func parametersOf(ctx context.Context, c *authentik.Client, p *api.LDAPProvider, spec v1alpha1.LDAPProviderParameters) (v1alpha1.LDAPProviderParameters, error) {
	bind, err := c.FlowSlugFor(ctx, p.AuthorizationFlow, spec.AuthorizationFlow, defaultBindFlow)
	if err != nil {
		return v1alpha1.LDAPProviderParameters{}, err
	}
	unbind, err := c.FlowSlugFor(ctx, p.InvalidationFlow, spec.InvalidationFlow, defaultUnbindFlow)
	if err != nil {
		return v1alpha1.LDAPProviderParameters{}, err
	}
	out := v1alpha1.LDAPProviderParameters{
		Name:              ptr.To(p.Name),
		BaseDN:            p.BaseDn,
		AuthorizationFlow: bind,
		InvalidationFlow:  unbind,
		MFASupport:        p.MfaSupport,
		TLSServerName:     ptr.To(p.GetTlsServerName()),
		UIDStartNumber:    p.UidStartNumber,
		GIDStartNumber:    p.GidStartNumber,
	}
	if p.BindMode != nil {
		out.BindMode = ptr.To(string(*p.BindMode))
	}
	if p.SearchMode != nil {
		out.SearchMode = ptr.To(string(*p.SearchMode))
	}
	if id := p.Certificate.Get(); id != nil {
		out.CertificateID = ptr.To(*id)
		out.Certificate = ptr.To(*id)
	}
	if spec.Certificate != nil && out.Certificate != nil {
		id, err := certificate(ctx, c, *spec.Certificate)
		if err != nil {
			return v1alpha1.LDAPProviderParameters{}, err
		}
		if strings.EqualFold(id, *out.Certificate) {
			out.Certificate = spec.Certificate
		}
	}
	return out, nil
}

// specDiff compares the fields the spec sets with what Authentik has. Unset
// fields are not managed and so never differ; certificateRef is compared
// through the certificateId it resolved to. An empty result means up to
// date.
func specDiff(spec, observed v1alpha1.LDAPProviderParameters) string {
	spec.CertificateRef = nil
	got := mrbehavior.OnlySet(spec, observed)
	if spec.CertificateID != nil && got.CertificateID == nil {
		got.CertificateID = ptr.To("")
	}
	return cmp.Diff(spec, got)
}

// lateInitialize fills the spec's unset fields from Authentik and reports
// whether it changed anything. The certificate stays unset: none is
// Authentik's default, not the user's choice.
func lateInitialize(spec *v1alpha1.LDAPProviderParameters, observed v1alpha1.LDAPProviderParameters) bool {
	filled := []bool{
		mrbehavior.FillUnset(&spec.Name, observed.Name),
		mrbehavior.FillUnset(&spec.BaseDN, observed.BaseDN),
		mrbehavior.FillUnset(&spec.AuthorizationFlow, observed.AuthorizationFlow),
		mrbehavior.FillUnset(&spec.InvalidationFlow, observed.InvalidationFlow),
		mrbehavior.FillUnset(&spec.BindMode, observed.BindMode),
		mrbehavior.FillUnset(&spec.SearchMode, observed.SearchMode),
		mrbehavior.FillUnset(&spec.MFASupport, observed.MFASupport),
		mrbehavior.FillUnset(&spec.TLSServerName, observed.TLSServerName),
		mrbehavior.FillUnset(&spec.UIDStartNumber, observed.UIDStartNumber),
		mrbehavior.FillUnset(&spec.GIDStartNumber, observed.GIDStartNumber),
	}
	return slices.Contains(filled, true)
}

// observation is what status.atProvider shows of a provider.
func observation(p *api.LDAPProvider) v1alpha1.LDAPProviderObservation {
	o := v1alpha1.LDAPProviderObservation{
		PK:                      ptr.To(p.Pk),
		AssignedApplicationSlug: p.AssignedApplicationSlug.Get(),
		AssignedApplicationName: p.AssignedApplicationName.Get(),
		Outposts:                slices.Clone(p.OutpostSet),
	}
	if p.AuthorizationFlow != "" {
		o.AuthorizationFlowUUID = ptr.To(p.AuthorizationFlow)
	}
	if p.InvalidationFlow != "" {
		o.InvalidationFlowUUID = ptr.To(p.InvalidationFlow)
	}
	return o
}
