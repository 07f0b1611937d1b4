package samlprovider

import (
	"context"
	"slices"
	"strings"

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

const (
	errResolveFlow = "cannot resolve a flow slug of spec.forProvider"
	errNameFlow    = "cannot name the provider's flows"
)

// wanted is what the spec names, resolved to Authentik's ids.
type wanted struct {
	authorizationFlow, invalidationFlow string
	// signingKey is a UUID; nil when the spec sets none.
	signingKey *string
}

// read is what Observe read of a provider, for an update's request.
type read = mrexternal.Read[v1alpha1.SAMLProviderParameters, api.SAMLProvider]

// resolve looks up what the spec names: flows by slug (those seen resolved
// are taken from it), the signing key by name or UUID.
func resolve(ctx context.Context, c *authentik.Client, p v1alpha1.SAMLProviderParameters, seen read) (wanted, error) {
	var w wanted
	var err error
	if w.authorizationFlow, err = c.SpecFlowUUID(ctx, p.AuthorizationFlow, authentik.DefaultAuthorizationFlow, seen.Observed.AuthorizationFlow, seen.Object.GetAuthorizationFlow()); err != nil {
		return wanted{}, errors.Wrap(err, errResolveFlow)
	}
	if w.invalidationFlow, err = c.SpecFlowUUID(ctx, p.InvalidationFlow, authentik.DefaultInvalidationFlow, seen.Observed.InvalidationFlow, seen.Object.GetInvalidationFlow()); err != nil {
		return wanted{}, errors.Wrap(err, errResolveFlow)
	}
	if w.signingKey, err = c.SigningKeyUUID(ctx, p.SigningKeyParameters); err != nil {
		return wanted{}, err
	}
	return w, nil
}

// compare reads p into the spec's shape, naming flows and the signing key
// the way the spec does, and compares it with the spec.
func compare(ctx context.Context, c *authentik.Client, cr *v1alpha1.SAMLProvider, p *api.SAMLProvider) (v1alpha1.SAMLProviderParameters, string, error) {
	spec := cr.Spec.ForProvider
	authz, err := c.FlowSlugFor(ctx, p.AuthorizationFlow, spec.AuthorizationFlow, authentik.DefaultAuthorizationFlow)
	if err != nil {
		return v1alpha1.SAMLProviderParameters{}, "", errors.Wrap(err, errNameFlow)
	}
	inval, err := c.FlowSlugFor(ctx, p.InvalidationFlow, spec.InvalidationFlow, authentik.DefaultInvalidationFlow)
	if err != nil {
		return v1alpha1.SAMLProviderParameters{}, "", errors.Wrap(err, errNameFlow)
	}
	observed := v1alpha1.SAMLProviderParameters{
		Name:               ptr.To(p.Name),
		ACSURL:             ptr.To(p.AcsUrl),
		Audience:           p.Audience,
		SignAssertion:      p.SignAssertion,
		SignResponse:       p.SignResponse,
		DefaultRelayState:  p.DefaultRelayState,
		PropertyMappingIDs: mrbehavior.Lowered(p.PropertyMappings),
		AuthorizationFlow:  authz,
		InvalidationFlow:   inval,
	}
	if issuer, ok := authentik.SAMLIssuer(p); ok {
		observed.Issuer = &issuer
	}
	if p.SpBinding != nil {
		observed.SPBinding = ptr.To(string(*p.SpBinding))
	}
	if observed.SigningKeyParameters, err = c.ObservedSigningKey(ctx, spec.SigningKeyParameters, p.SigningKp.Get()); err != nil {
		return v1alpha1.SAMLProviderParameters{}, "", err
	}
	return observed, specDiff(spec, observed), nil
}

// specDiff compares the fields the spec sets with what Authentik has;
// unset fields are not managed and never differ. Property mappings are a
// set of UUIDs; the references are compared through the UUIDs they
// resolved to.
func specDiff(spec, observed v1alpha1.SAMLProviderParameters) string {
	spec.SigningKeyRef = nil
	spec.PropertyMappingRefs, spec.PropertyMappingSelector = nil, nil
	spec.PropertyMappingIDs = mrbehavior.Lowered(spec.PropertyMappingIDs)
	if spec.SigningKeyID != nil {
		spec.SigningKeyID = ptr.To(strings.ToLower(*spec.SigningKeyID))
	}
	got := mrbehavior.OnlySet(spec, observed)
	return cmp.Diff(spec, got, cmpopts.SortSlices(func(a, b string) bool { return a < b }), cmpopts.EquateEmpty())
}

// lateInitialize fills the spec's unset fields from Authentik and reports
// whether it changed anything. The issuer (whose default differs between
// releases), the property mappings and the signing key stay unset: the
// status shows them, and setting them is the user's choice.
func lateInitialize(spec *v1alpha1.SAMLProviderParameters, observed v1alpha1.SAMLProviderParameters) bool {
	return slices.Contains([]bool{
		mrbehavior.FillUnset(&spec.Name, observed.Name),
		mrbehavior.FillUnset(&spec.ACSURL, observed.ACSURL),
		mrbehavior.FillUnset(&spec.Audience, observed.Audience),
		mrbehavior.FillUnset(&spec.SPBinding, observed.SPBinding),
		mrbehavior.FillUnset(&spec.SignAssertion, observed.SignAssertion),
		mrbehavior.FillUnset(&spec.SignResponse, observed.SignResponse),
		mrbehavior.FillUnset(&spec.DefaultRelayState, observed.DefaultRelayState),
		mrbehavior.FillUnset(&spec.AuthorizationFlow, observed.AuthorizationFlow),
		mrbehavior.FillUnset(&spec.InvalidationFlow, observed.InvalidationFlow),
	}, true)
}

// observation is the resource's status.atProvider: the issuer is the one
// the provider sets, else the one Authentik derives (2026.5 and later).
func observation(p *api.SAMLProvider) v1alpha1.SAMLProviderObservation {
	o := v1alpha1.SAMLProviderObservation{
		PK:                      ptr.To(p.Pk),
		AssignedApplicationSlug: p.AssignedApplicationSlug.Get(),
		AssignedApplicationName: p.AssignedApplicationName.Get(),
		SigningKeyUUID:          p.SigningKp.Get(),
		AuthorizationFlowUUID:   ptr.To(p.AuthorizationFlow),
		InvalidationFlowUUID:    ptr.To(p.InvalidationFlow),
	}
	if issuer, _ := authentik.SAMLIssuer(p); issuer != "" {
		o.Issuer = &issuer
	} else if p.UrlIssuer != "" {
		o.Issuer = ptr.To(p.UrlIssuer)
	}
	if p.UrlDownloadMetadata != "" {
		o.MetadataURL = ptr.To(p.UrlDownloadMetadata)
	}
	return o
}

// createBody resolves what the spec names into the body of a create.
func createBody(ctx context.Context, c *authentik.Client, p v1alpha1.SAMLProviderParameters, seen read) (api.SAMLProviderRequest, error) {
	w, err := resolve(ctx, c, p, seen)
	if err != nil {
		return api.SAMLProviderRequest{}, err
	}
	return createRequest(p, w), nil
}

// patchBody resolves what the spec names into the body of an update.
func patchBody(ctx context.Context, c *authentik.Client, p v1alpha1.SAMLProviderParameters, seen read) (api.PatchedSAMLProviderRequest, error) {
	w, err := resolve(ctx, c, p, seen)
	if err != nil {
		return api.PatchedSAMLProviderRequest{}, err
	}
	return patchRequest(p, w), nil
}

// createRequest is the body of a create: every field the spec sets, and
// Authentik's required ones.
func createRequest(p v1alpha1.SAMLProviderParameters, w wanted) api.SAMLProviderRequest {
	patch := patchRequest(p, w)
	r := api.NewSAMLProviderRequest(ptr.Deref(p.Name, ""), w.authorizationFlow, w.invalidationFlow, ptr.Deref(p.ACSURL, ""))
	r.Audience = patch.Audience
	r.IssuerOverride = patch.IssuerOverride
	r.AdditionalProperties = patch.AdditionalProperties
	r.SpBinding = patch.SpBinding
	r.SignAssertion = patch.SignAssertion
	r.SignResponse = patch.SignResponse
	r.DefaultRelayState = patch.DefaultRelayState
	r.SigningKp = patch.SigningKp
	r.PropertyMappings = patch.PropertyMappings
	return *r
}

// patchRequest is the body of an update: the fields the spec sets (the
// flows default as on create), none it leaves unset. The issuer goes
// under both keys it has had (see authentik.SAMLIssuerFields).
func patchRequest(p v1alpha1.SAMLProviderParameters, w wanted) api.PatchedSAMLProviderRequest {
	r := api.PatchedSAMLProviderRequest{
		Name:              p.Name,
		AuthorizationFlow: ptr.To(w.authorizationFlow),
		InvalidationFlow:  ptr.To(w.invalidationFlow),
		AcsUrl:            p.ACSURL,
		Audience:          p.Audience,
		SignAssertion:     p.SignAssertion,
		SignResponse:      p.SignResponse,
		DefaultRelayState: p.DefaultRelayState,
	}
	if p.Issuer != nil {
		r.IssuerOverride, r.AdditionalProperties = authentik.SAMLIssuerFields(*p.Issuer)
	}
	if p.SPBinding != nil {
		r.SpBinding = ptr.To(api.SAMLBindingsEnum(*p.SPBinding))
	}
	if w.signingKey != nil {
		r.SetSigningKp(*w.signingKey)
	}
	if p.PropertyMappingIDs != nil {
		r.PropertyMappings = mrbehavior.Lowered(p.PropertyMappingIDs)
	}
	return r
}
