package oauth2provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
)

const (
	errResolveFlow    = "cannot resolve a flow slug of spec.forProvider"
	errNameFlow       = "cannot name the provider's flows"
	errUnknownScope   = "spec.forProvider.scopeMappings: no scope mapping has the managed key or name"
	errGetSecret      = "cannot get the Secret named by spec.forProvider.clientSecretSecretRef"
	errNoSecretKey    = "spec.forProvider.clientSecretSecretRef: the Secret has no such key"
	errEmptySecret    = "spec.forProvider.clientSecretSecretRef: the Secret's key is empty"
	secretDiffers     = "spec.forProvider.clientSecretSecretRef: the client secret in Authentik differs from the Secret's (values not shown)"
	wellKnownOpenID   = ".well-known/openid-configuration"
	oauth2MountPoint  = "/application/o/"
	defaultIssuerMode = v1alpha1.IssuerModePerProvider
)

// wanted is the spec with the names it holds resolved to Authentik's ids,
// and the client secret read from its Secret.
type wanted struct {
	authorizationFlow, invalidationFlow string
	// scopeMappings are UUIDs; nil when the spec sets none.
	scopeMappings []string
	// signingKey is a UUID; nil when the spec sets none.
	signingKey *string
	// clientSecret is nil when Authentik generates the secret.
	clientSecret *string
}

// resolve looks up what the spec names: flows by slug, scope mappings by
// managed key or name, the signing key by name, the client secret in its
// Secret.
func (e *external) resolve(ctx context.Context, cr *v1alpha1.OAuth2Provider) (wanted, error) {
	p := cr.Spec.ForProvider
	var w wanted
	var err error
	if w.authorizationFlow, err = e.client.FlowUUID(ctx, ptr.Deref(p.AuthorizationFlow, authentik.DefaultAuthorizationFlow)); err != nil {
		return wanted{}, errors.Wrap(err, errResolveFlow)
	}
	if w.invalidationFlow, err = e.client.FlowUUID(ctx, ptr.Deref(p.InvalidationFlow, authentik.DefaultInvalidationFlow)); err != nil {
		return wanted{}, errors.Wrap(err, errResolveFlow)
	}
	if managesScopeMappings(p) {
		mappings, err := e.client.ScopeMappings(ctx)
		if err != nil {
			return wanted{}, err
		}
		if w.scopeMappings, err = scopeMappingUUIDs(mappings, p); err != nil {
			return wanted{}, err
		}
	}
	if w.signingKey, err = e.client.SigningKeyUUID(ctx, p.SigningKeyParameters); err != nil {
		return wanted{}, err
	}
	if w.clientSecret, err = e.clientSecret(ctx, cr); err != nil {
		return wanted{}, err
	}
	return w, nil
}

// managesScopeMappings tells whether the spec sets the provider's scope
// mappings, by key or name, by UUID, or by reference.
func managesScopeMappings(p v1alpha1.OAuth2ProviderParameters) bool {
	return p.ScopeMappings != nil || p.ScopeMappingIDs != nil || p.ScopeMappingRefs != nil || p.ScopeMappingSelector != nil
}

// scopeMappingUUIDs are the UUIDs of every scope mapping the spec names:
// scopeMappings by key or name, then scopeMappingIds.
func scopeMappingUUIDs(m authentik.ScopeMappingNames, p v1alpha1.OAuth2ProviderParameters) ([]string, error) {
	out := make([]string, 0, len(p.ScopeMappings)+len(p.ScopeMappingIDs))
	for _, l := range p.ScopeMappings {
		pk, ok := m.UUID(l)
		if !ok {
			return nil, errors.Errorf("%s %q", errUnknownScope, l)
		}
		out = append(out, pk)
	}
	for _, id := range p.ScopeMappingIDs {
		out = append(out, strings.ToLower(id))
	}
	return out, nil
}

// clientSecret reads the client secret from the Secret the spec names, in
// the resource's namespace; nil when the spec names none. Surrounding
// whitespace is dropped, as Authentik drops it from what it stores.
func (e *external) clientSecret(ctx context.Context, cr *v1alpha1.OAuth2Provider) (*string, error) {
	ref := cr.Spec.ForProvider.ClientSecretSecretRef
	if ref == nil {
		return nil, nil
	}
	s := &corev1.Secret{}
	if err := e.kube.Get(ctx, types.NamespacedName{Namespace: cr.GetNamespace(), Name: ref.Name}, s); err != nil {
		return nil, errors.Wrapf(err, "%s (%s)", errGetSecret, ref.Name)
	}
	v, ok := s.Data[ref.Key]
	if !ok {
		return nil, errors.Errorf("%s (Secret %s, key %s)", errNoSecretKey, ref.Name, ref.Key)
	}
	secret := strings.TrimSpace(string(v))
	if secret == "" {
		return nil, errors.Errorf("%s (Secret %s, key %s)", errEmptySecret, ref.Name, ref.Key)
	}
	return &secret, nil
}

// A comparison is what Observe learns from a provider as Authentik holds it.
type comparison struct {
	// observed is the provider in the spec's shape.
	observed v1alpha1.OAuth2ProviderParameters
	// observation is the resource's status.atProvider.
	observation v1alpha1.OAuth2ProviderObservation
	// diff names each field the spec sets that Authentik holds otherwise;
	// empty when up to date. It never holds the client secret.
	diff string
}

// compare reads p into the spec's shape, naming what the spec names the way
// the spec does, and compares it with the spec.
func (e *external) compare(ctx context.Context, cr *v1alpha1.OAuth2Provider, p *api.OAuth2Provider) (comparison, error) {
	spec := cr.Spec.ForProvider
	authz, err := e.client.FlowSlugFor(ctx, p.AuthorizationFlow, spec.AuthorizationFlow, authentik.DefaultAuthorizationFlow)
	if err != nil {
		return comparison{}, errors.Wrap(err, errNameFlow)
	}
	inval, err := e.client.FlowSlugFor(ctx, p.InvalidationFlow, spec.InvalidationFlow, authentik.DefaultInvalidationFlow)
	if err != nil {
		return comparison{}, errors.Wrap(err, errNameFlow)
	}
	observed := v1alpha1.OAuth2ProviderParameters{
		Name:                   ptr.To(p.Name),
		ClientID:               p.ClientId,
		RedirectURIs:           redirectURIsOf(p.RedirectUris),
		AccessCodeValidity:     p.AccessCodeValidity,
		AccessTokenValidity:    p.AccessTokenValidity,
		RefreshTokenValidity:   p.RefreshTokenValidity,
		IncludeClaimsInIDToken: p.IncludeClaimsInIdToken,
		AuthorizationFlow:      authz,
		InvalidationFlow:       inval,
	}
	if p.ClientType != nil {
		observed.ClientType = ptr.To(string(*p.ClientType))
	}
	if p.SubMode != nil {
		observed.SubMode = ptr.To(string(*p.SubMode))
	}
	if p.IssuerMode != nil {
		observed.IssuerMode = ptr.To(string(*p.IssuerMode))
	}

	o := v1alpha1.OAuth2ProviderObservation{
		PK:                      ptr.To(p.Pk),
		ClientID:                p.ClientId,
		AssignedApplicationSlug: p.AssignedApplicationSlug.Get(),
		AssignedApplicationName: p.AssignedApplicationName.Get(),
		AuthorizationFlowUUID:   ptr.To(p.AuthorizationFlow),
		InvalidationFlowUUID:    ptr.To(p.InvalidationFlow),
		SigningKeyUUID:          p.SigningKey.Get(),
	}
	if issuer, _ := e.issuer(p); issuer != "" {
		o.Issuer = ptr.To(issuer)
	}

	if managesScopeMappings(spec) || len(p.PropertyMappings) > 0 {
		mappings, err := e.client.ScopeMappings(ctx)
		if err != nil {
			return comparison{}, err
		}
		for _, pk := range p.PropertyMappings {
			o.ScopeMappings = append(o.ScopeMappings, mappings.Label(pk))
		}
		observed.ScopeMappings = o.ScopeMappings
		if managesScopeMappings(spec) {
			want, err := scopeMappingUUIDs(mappings, spec)
			if err != nil {
				return comparison{}, err
			}
			observed.ScopeMappings, observed.ScopeMappingIDs = observedScopeMappings(mappings, spec, want, p.PropertyMappings)
		}
	}

	if observed.SigningKeyParameters, err = e.client.ObservedSigningKey(ctx, spec.SigningKeyParameters, p.SigningKey.Get()); err != nil {
		return comparison{}, err
	}

	diff := specDiff(spec, observed)
	secret, err := e.clientSecret(ctx, cr)
	if err != nil {
		return comparison{}, err
	}
	if secret != nil && *secret != p.GetClientSecret() {
		diff = strings.TrimLeft(diff+"\n"+secretDiffers, "\n")
	}
	return comparison{observed: observed, observation: o, diff: diff}, nil
}

// issuer returns the provider's OpenID Connect issuer and discovery URLs
// as OAuth2Provider.get_issuer forms them (authentik/providers/oauth2/
// models.py): per provider, <Authentik>/application/o/<application slug>/;
// global, Authentik's root. The discovery document is always served below
// the application's slug, so both are empty until an application uses the
// provider (the global issuer excepted).
func (e *external) issuer(p *api.OAuth2Provider) (issuer, discovery string) {
	mode := defaultIssuerMode
	if p.IssuerMode != nil {
		mode = string(*p.IssuerMode)
	}
	if mode == v1alpha1.IssuerModeGlobal {
		issuer = e.client.BaseURL() + "/"
	}
	slug := p.AssignedApplicationSlug.Get()
	if slug == nil || *slug == "" {
		return issuer, ""
	}
	root := e.client.BaseURL() + oauth2MountPoint + *slug + "/"
	if issuer == "" {
		issuer = root
	}
	return issuer, root + wellKnownOpenID
}

// connectionDetails are the credentials an application needs: the client
// id and secret, and, once known, the issuer and discovery URLs.
func (e *external) connectionDetails(p *api.OAuth2Provider) managed.ConnectionDetails {
	cd := managed.ConnectionDetails{}
	if id := p.GetClientId(); id != "" {
		cd[v1alpha1.ConnectionClientID] = []byte(id)
	}
	if secret := p.GetClientSecret(); secret != "" {
		cd[v1alpha1.ConnectionClientSecret] = []byte(secret)
	}
	issuer, discovery := e.issuer(p)
	if issuer != "" {
		cd[v1alpha1.ConnectionIssuer] = []byte(issuer)
	}
	if discovery != "" {
		cd[v1alpha1.ConnectionDiscoveryURL] = []byte(discovery)
	}
	return cd
}

// observedScopeMappings names the provider's mappings (pks) the way the
// spec does: as the spec's own lists when Authentik holds just what they
// name (want), else each mapping the spec names only by UUID by its UUID
// and every other by its managed key or name, so that a diff shows what
// is missing and what is extra.
func observedScopeMappings(m authentik.ScopeMappingNames, spec v1alpha1.OAuth2ProviderParameters, want, pks []string) (labels, ids []string) {
	if sameSet(want, pks) {
		return spec.ScopeMappings, spec.ScopeMappingIDs
	}
	byName, _ := scopeMappingUUIDs(m, v1alpha1.OAuth2ProviderParameters{ScopeMappings: spec.ScopeMappings})
	specIDs, _ := scopeMappingUUIDs(m, v1alpha1.OAuth2ProviderParameters{ScopeMappingIDs: spec.ScopeMappingIDs})
	for _, pk := range pks {
		if slices.Contains(specIDs, pk) && !slices.Contains(byName, pk) {
			ids = append(ids, pk)
			continue
		}
		labels = append(labels, m.Label(pk))
	}
	return labels, ids
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func redirectURIsOf(in []api.RedirectURI) []v1alpha1.RedirectURI {
	out := make([]v1alpha1.RedirectURI, 0, len(in))
	for _, u := range in {
		out = append(out, v1alpha1.RedirectURI{MatchingMode: string(u.MatchingMode), URL: u.Url})
	}
	return out
}

// normalized sorts redirect URIs and spells out the default matching mode,
// so that lists are compared as sets.
func normalized(in []v1alpha1.RedirectURI) []v1alpha1.RedirectURI {
	if in == nil {
		return nil
	}
	out := make([]v1alpha1.RedirectURI, 0, len(in))
	for _, u := range in {
		if u.MatchingMode == "" {
			u.MatchingMode = v1alpha1.MatchingModeStrict
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b v1alpha1.RedirectURI) int {
		return strings.Compare(a.URL+" "+a.MatchingMode, b.URL+" "+b.MatchingMode)
	})
	return out
}

func redirectURIRequests(in []v1alpha1.RedirectURI) []api.RedirectURIRequest {
	out := make([]api.RedirectURIRequest, 0, len(in))
	for _, u := range normalized(in) {
		out = append(out, *api.NewRedirectURIRequest(api.MatchingModeEnum(u.MatchingMode), u.URL))
	}
	return out
}

// specDiff compares the fields the spec sets with what Authentik has; unset
// fields are not managed and never differ. Redirect URIs and scope
// mappings are sets. The client secret is compared apart (see compare), so
// that no diff ever holds it. An empty result means up to date.
func specDiff(spec, observed v1alpha1.OAuth2ProviderParameters) string {
	s, got := spec, onlySetFields(spec, observed)
	s.ClientSecretSecretRef, got.ClientSecretSecretRef = nil, nil
	s.ScopeMappingRefs, s.ScopeMappingSelector = nil, nil
	s.ScopeMappingIDs = mrbehavior.Lowered(s.ScopeMappingIDs)
	s.SigningKeyRef = nil
	if s.SigningKeyID != nil {
		s.SigningKeyID = ptr.To(strings.ToLower(*s.SigningKeyID))
	}
	s.RedirectURIs, got.RedirectURIs = normalized(s.RedirectURIs), normalized(got.RedirectURIs)
	return cmp.Diff(s, got, cmpopts.SortSlices(func(a, b string) bool { return a < b }), cmpopts.EquateEmpty())
}

// onlySetFields keeps of observed just the fields that spec sets.
func onlySetFields(spec, observed v1alpha1.OAuth2ProviderParameters) v1alpha1.OAuth2ProviderParameters {
	got := v1alpha1.OAuth2ProviderParameters{
		Name:       keep(spec.Name, observed.Name),
		ClientType: keep(spec.ClientType, observed.ClientType),
		ClientID:   keep(spec.ClientID, observed.ClientID),
		SigningKeyParameters: v1alpha1.SigningKeyParameters{
			SigningKey:   keep(spec.SigningKey, observed.SigningKey),
			SigningKeyID: keep(spec.SigningKeyID, observed.SigningKeyID),
		},
		AccessCodeValidity:     keep(spec.AccessCodeValidity, observed.AccessCodeValidity),
		AccessTokenValidity:    keep(spec.AccessTokenValidity, observed.AccessTokenValidity),
		RefreshTokenValidity:   keep(spec.RefreshTokenValidity, observed.RefreshTokenValidity),
		SubMode:                keep(spec.SubMode, observed.SubMode),
		IncludeClaimsInIDToken: keep(spec.IncludeClaimsInIDToken, observed.IncludeClaimsInIDToken),
		IssuerMode:             keep(spec.IssuerMode, observed.IssuerMode),
		AuthorizationFlow:      keep(spec.AuthorizationFlow, observed.AuthorizationFlow),
		InvalidationFlow:       keep(spec.InvalidationFlow, observed.InvalidationFlow),
	}
	if spec.RedirectURIs != nil {
		got.RedirectURIs = observed.RedirectURIs
	}
	if managesScopeMappings(spec) {
		got.ScopeMappings = observed.ScopeMappings
		got.ScopeMappingIDs = mrbehavior.Lowered(observed.ScopeMappingIDs)
	}
	return got
}

func keep[T any](s, o *T) *T {
	if s == nil {
		return nil
	}
	return o
}

// lateInitialize fills the spec's unset fields from Authentik and reports
// whether it changed anything. Scope mappings and the signing key stay
// unset: the status shows them, and setting them is the user's choice.
func lateInitialize(spec *v1alpha1.OAuth2ProviderParameters, observed v1alpha1.OAuth2ProviderParameters) bool {
	changed := false
	filled := []bool{
		mrbehavior.FillUnset(&spec.Name, observed.Name),
		mrbehavior.FillUnset(&spec.ClientType, observed.ClientType),
		mrbehavior.FillUnset(&spec.ClientID, observed.ClientID),
		mrbehavior.FillUnset(&spec.AccessCodeValidity, observed.AccessCodeValidity),
		mrbehavior.FillUnset(&spec.AccessTokenValidity, observed.AccessTokenValidity),
		mrbehavior.FillUnset(&spec.RefreshTokenValidity, observed.RefreshTokenValidity),
		mrbehavior.FillUnset(&spec.SubMode, observed.SubMode),
		mrbehavior.FillUnset(&spec.IssuerMode, observed.IssuerMode),
		mrbehavior.FillUnset(&spec.AuthorizationFlow, observed.AuthorizationFlow),
		mrbehavior.FillUnset(&spec.InvalidationFlow, observed.InvalidationFlow),
		mrbehavior.FillUnset(&spec.IncludeClaimsInIDToken, observed.IncludeClaimsInIDToken),
	}
	if spec.RedirectURIs == nil && len(observed.RedirectURIs) > 0 {
		spec.RedirectURIs = slices.Clone(observed.RedirectURIs)
		changed = true
	}
	return changed || slices.Contains(filled, true)
}

// createRequest is the body of a create: every field the spec sets, and
// Authentik's required ones.
func createRequest(p v1alpha1.OAuth2ProviderParameters, w wanted) api.OAuth2ProviderRequest {
	r := api.NewOAuth2ProviderRequest(ptr.Deref(p.Name, ""), w.authorizationFlow, w.invalidationFlow, redirectURIRequests(p.RedirectURIs))
	patch := patchRequest(p, w)
	r.ClientType = patch.ClientType
	r.ClientId = patch.ClientId
	r.ClientSecret = patch.ClientSecret
	r.PropertyMappings = patch.PropertyMappings
	r.AccessCodeValidity = patch.AccessCodeValidity
	r.AccessTokenValidity = patch.AccessTokenValidity
	r.RefreshTokenValidity = patch.RefreshTokenValidity
	r.IncludeClaimsInIdToken = patch.IncludeClaimsInIdToken
	r.SigningKey = patch.SigningKey
	r.SubMode = patch.SubMode
	r.IssuerMode = patch.IssuerMode
	return *r
}

// patchRequest is the body of an update: the fields the spec sets (the
// flows default as on create), none it leaves unset.
func patchRequest(p v1alpha1.OAuth2ProviderParameters, w wanted) api.PatchedOAuth2ProviderRequest {
	r := api.PatchedOAuth2ProviderRequest{
		Name:                   p.Name,
		AuthorizationFlow:      ptr.To(w.authorizationFlow),
		InvalidationFlow:       ptr.To(w.invalidationFlow),
		ClientId:               p.ClientID,
		ClientSecret:           w.clientSecret,
		AccessCodeValidity:     p.AccessCodeValidity,
		AccessTokenValidity:    p.AccessTokenValidity,
		RefreshTokenValidity:   p.RefreshTokenValidity,
		IncludeClaimsInIdToken: p.IncludeClaimsInIDToken,
	}
	if p.RedirectURIs != nil {
		r.RedirectUris = redirectURIRequests(p.RedirectURIs)
	}
	if w.scopeMappings != nil {
		r.PropertyMappings = w.scopeMappings
	}
	if w.signingKey != nil {
		r.SetSigningKey(*w.signingKey)
	}
	if p.ClientType != nil {
		r.ClientType = ptr.To(api.ClientTypeEnum(*p.ClientType))
	}
	if p.SubMode != nil {
		r.SubMode = ptr.To(api.SubModeEnum(*p.SubMode))
	}
	if p.IssuerMode != nil {
		r.IssuerMode = ptr.To(api.IssuerModeEnum(*p.IssuerMode))
	}
	return r
}

// describe names a provider in messages.
func describe(p *api.OAuth2Provider) string { return fmt.Sprintf("OAuth2 provider %q", p.Name) }
