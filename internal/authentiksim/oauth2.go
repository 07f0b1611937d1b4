package authentiksim

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// OAuth2 provider choices and defaults, from authentik/providers/oauth2/models.py
// (ClientTypes, RedirectURIMatchingMode, IssuerMode and the OAuth2Provider
// field defaults) and authentik/providers/oauth2/id_token.py (SubModes).
const (
	clientTypeConfidential = "confidential"
	clientTypePublic       = "public"

	matchingModeStrict = "strict"
	matchingModeRegex  = "regex"

	redirectTypeAuthorization = "authorization"

	issuerModeGlobal      = "global"
	issuerModePerProvider = "per_provider"

	subModeHashedUserID = "hashed_user_id"

	// clientSecretLength is generate_client_secret's: generate_id(128).
	clientSecretLength = 128

	// msgBadRegex is OAuth2ProviderSerializer.validate_redirect_uris
	// (authentik/providers/oauth2/api/providers.py).
	msgBadRegex = "Invalid Regex Pattern: %s"
	// msgClientIDTaken is Django's unique message for OAuth2Provider.client_id
	// (unique=True; verbose names "OAuth2/OpenID Provider" and "Client ID").
	msgClientIDTaken = "OAuth2/OpenID Provider with this Client ID already exists."
)

var (
	subModes      = []string{subModeHashedUserID, "user_id", "user_uuid", "user_username", "user_email", "user_upn"}
	redirectTypes = []string{redirectTypeAuthorization, "logout"}
	matchingModes = []string{matchingModeStrict, matchingModeRegex}
)

// newOAuth2Provider has the model defaults of OAuth2Provider.
func newOAuth2Provider() *oauth2Provider {
	return &oauth2Provider{
		clientType:             clientTypeConfidential,
		includeClaims:          true,
		accessCodeValidity:     "minutes=1",
		accessTokenValidity:    "hours=1",
		refreshTokenValidity:   "days=30",
		subMode:                subModeHashedUserID,
		issuerMode:             issuerModePerProvider,
		providerBase:           providerBase{propertyMappings: []string{}},
		redirectURIs:           []redirectURIJSON{},
		jwtFederationSources:   []string{},
		jwtFederationProviders: []int32{},
	}
}

// oauth2Provider is an OAuth2Provider row (with its Provider base).
type oauth2Provider struct {
	providerBase
	clientType             string
	clientID               string
	clientSecret           string
	redirectURIs           []redirectURIJSON
	includeClaims          bool
	accessCodeValidity     string
	accessTokenValidity    string
	refreshTokenValidity   string
	subMode                string
	issuerMode             string
	signingKey             *string
	encryptionKey          *string
	jwtFederationSources   []string
	jwtFederationProviders []int32
}

type oauth2ProviderJSON struct {
	providerJSON
	ClientType             string            `json:"client_type"`
	ClientID               string            `json:"client_id"`
	ClientSecret           string            `json:"client_secret"`
	AccessCodeValidity     string            `json:"access_code_validity"`
	AccessTokenValidity    string            `json:"access_token_validity"`
	RefreshTokenValidity   string            `json:"refresh_token_validity"`
	IncludeClaimsInIDToken bool              `json:"include_claims_in_id_token"`
	SigningKey             *string           `json:"signing_key"`
	EncryptionKey          *string           `json:"encryption_key"`
	RedirectURIs           []redirectURIJSON `json:"redirect_uris"`
	SubMode                string            `json:"sub_mode"`
	IssuerMode             string            `json:"issuer_mode"`
	JwtFederationSources   []string          `json:"jwt_federation_sources"`
	JwtFederationProviders []int32           `json:"jwt_federation_providers"`
}

// renderOAuth2Base is the generic ProviderSerializer view of an OAuth2
// provider, as applications show it.
func (st *state) renderOAuth2Base(p *oauth2Provider) providerJSON {
	return st.renderProviderBase(&p.providerBase, providerJSON{
		Component:         "ak-provider-oauth2-form",
		VerboseName:       "OAuth2/OpenID Provider",
		VerboseNamePlural: "OAuth2/OpenID Providers",
		MetaModelName:     "authentik_providers_oauth2.oauth2provider",
	})
}

func (st *state) renderOAuth2(p *oauth2Provider) oauth2ProviderJSON {
	return oauth2ProviderJSON{
		providerJSON:           st.renderOAuth2Base(p),
		ClientType:             p.clientType,
		ClientID:               p.clientID,
		ClientSecret:           p.clientSecret,
		AccessCodeValidity:     p.accessCodeValidity,
		AccessTokenValidity:    p.accessTokenValidity,
		RefreshTokenValidity:   p.refreshTokenValidity,
		IncludeClaimsInIDToken: p.includeClaims,
		SigningKey:             p.signingKey,
		EncryptionKey:          p.encryptionKey,
		RedirectURIs:           append([]redirectURIJSON{}, p.redirectURIs...),
		SubMode:                p.subMode,
		IssuerMode:             p.issuerMode,
		JwtFederationSources:   append([]string{}, p.jwtFederationSources...),
		JwtFederationProviders: append([]int32{}, p.jwtFederationProviders...),
	}
}

// oauth2LaunchURL is OAuth2Provider.launch_url: the first redirect URI
// with its path removed, none without redirect URIs or when it does not
// parse.
func oauth2LaunchURL(p *oauth2Provider) *string {
	if len(p.redirectURIs) == 0 {
		return nil
	}
	u, err := url.Parse(p.redirectURIs[0].URL)
	if err != nil {
		return nil
	}
	u.Path, u.RawPath = "", ""
	s := u.String()
	return &s
}

// clientIDTaken checks OAuth2Provider.client_id's uniqueness, which proxy
// providers share.
func (st *state) clientIDTaken(id string, self int32) bool {
	for p, clientID := range st.everyProvider() {
		if clientID == id && p.pk != self {
			return true
		}
	}
	return false
}

// bindOAuth2 applies the fields present in a request body to p,
// validating them as OAuth2ProviderSerializer does; errors go to f.errs.
func (st *state) bindOAuth2(f *form, p *oauth2Provider) {
	st.bindProviderBase(f, &p.providerBase)
	if v, ok := f.choice("client_type", clientTypeConfidential, clientTypePublic); ok {
		p.clientType = v
	}
	if v, ok := f.str("client_id", false, false); ok {
		if st.clientIDTaken(v, p.pk) {
			f.errs.add("client_id", msgClientIDTaken)
		} else {
			p.clientID = v
		}
	}
	if v, ok := f.str("client_secret", false, true); ok {
		p.clientSecret = v
	}
	if v, ok := redirectURIsField(f); ok {
		p.redirectURIs = v
	}
	if v, ok := f.boolean("include_claims_in_id_token"); ok {
		p.includeClaims = v
	}
	for key, dst := range map[string]*string{
		"access_code_validity":   &p.accessCodeValidity,
		"access_token_validity":  &p.accessTokenValidity,
		"refresh_token_validity": &p.refreshTokenValidity,
	} {
		if v, ok := timedeltaField(f, key); ok {
			*dst = v
		}
	}
	if v, ok := f.choice("sub_mode", subModes...); ok {
		p.subMode = v
	}
	if v, ok := f.choice("issuer_mode", issuerModeGlobal, issuerModePerProvider); ok {
		p.issuerMode = v
	}
	if v, ok := f.uuidRef("signing_key", false, true, func(pk string) bool { return st.certificates[pk] != nil }); ok {
		p.signingKey = v
	}
	if v, ok := f.uuidRef("encryption_key", false, true, func(pk string) bool { return st.certificates[pk] != nil }); ok {
		p.encryptionKey = v
	}
	// JWT federation sources are OAuth sources, which the simulator does
	// not have.
	if v, ok := f.uuidRefs("jwt_federation_sources", false, func(string) bool { return false }); ok {
		p.jwtFederationSources = v
	}
	if v, ok := f.intRefs("jwt_federation_providers", false, st.providerExists); ok {
		p.jwtFederationProviders = v
	}
}

// redirectURIsField reads redirect_uris, a list of RedirectURISerializer
// entries (required: it has no default). An entry in regex mode must hold a
// pattern Python's re.compile accepts; Go's regexp stands in for it, and
// the two differ only in syntax neither a user nor this provider writes
// into a redirect URI (lookarounds, backreferences).
func redirectURIsField(f *form) ([]redirectURIJSON, bool) {
	entries, ok := formList[map[string]any](f, "redirect_uris", true)
	if !ok {
		return nil, false
	}
	out := make([]redirectURIJSON, 0, len(entries))
	for _, e := range entries {
		mode, _ := e["matching_mode"].(string)
		u, _ := e["url"].(string)
		kind, hasKind := e["redirect_uri_type"].(string)
		if !hasKind {
			kind = redirectTypeAuthorization
		}
		switch {
		case !slices.Contains(matchingModes, mode):
			f.errs.add("redirect_uris", fmt.Sprintf(msgBadChoice, mode))
			return nil, false
		case strings.TrimSpace(u) == "":
			f.errs.add("redirect_uris", msgBlank)
			return nil, false
		case !slices.Contains(redirectTypes, kind):
			f.errs.add("redirect_uris", fmt.Sprintf(msgBadChoice, kind))
			return nil, false
		}
		if mode == matchingModeRegex {
			if _, err := regexp.Compile(u); err != nil {
				f.errs.add("redirect_uris", fmt.Sprintf(msgBadRegex, u))
				return nil, false
			}
		}
		out = append(out, redirectURIJSON{MatchingMode: mode, URL: u, RedirectURIType: kind})
	}
	return out, true
}

// listOAuth2Providers filters on OAuth2ProviderViewSet's filterset_fields
// that the provider and its tests use, searches names and orders by name.
func listOAuth2Providers(st *state, c *call) reply {
	q := c.query
	items := []oauth2ProviderJSON{}
	for _, pk := range sortedKeys(st.oauth2) {
		p := st.oauth2[pk]
		signingKey, appPK := "", ""
		if p.signingKey != nil {
			signingKey = *p.signingKey
		}
		if a := st.applicationOf(p.pk); a != nil {
			appPK = a.pk
		}
		if !exact(q, "name", p.name) ||
			!exact(q, "client_id", p.clientID) ||
			!exact(q, "client_type", p.clientType) ||
			!exact(q, "authorization_flow", p.authorizationFlow) ||
			!exact(q, "signing_key", signingKey) ||
			!exact(q, "sub_mode", p.subMode) ||
			!exact(q, "issuer_mode", p.issuerMode) ||
			!exact(q, "application", appPK) ||
			!boolMatches(q, "include_claims_in_id_token", p.includeClaims) ||
			!search(q, p.name) {
			continue
		}
		items = append(items, st.renderOAuth2(p))
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return paginate(q, items)
}

// oauth2Providers is OAuth2ProviderViewSet. A create without a client id
// or secret gets generated ones (the model's defaults).
var oauth2Providers = providerType[oauth2Provider]{
	store: func(st *state) map[int32]*oauth2Provider { return st.oauth2 },
	base:  func(p *oauth2Provider) *providerBase { return &p.providerBase },
	fresh: newOAuth2Provider,
	bind:  (*state).bindOAuth2,
	save: func(st *state, f *form, p *oauth2Provider, created bool) {
		if created && !f.has("client_id") {
			p.clientID = st.newClientID()
		}
		if created && !f.has("client_secret") {
			p.clientSecret = st.newSecret(clientSecretLength)
		}
	},
	render: func(st *state, p *oauth2Provider, _ string) any { return st.renderOAuth2(p) },
}

// allProviders is every provider of every type, as ProviderViewSet's
// queryset (Provider.objects.select_subclasses()) has them, by pk.
func (st *state) allProviders() []providerJSON {
	var out []providerJSON
	for p := range st.everyProvider() {
		view, _, _ := st.providerView(p.pk)
		out = append(out, view)
	}
	return out
}

// listAllProviders is ProviderViewSet.list (authentik/core/api/providers.py):
// filter application__isnull, search over the name and the application's
// name.
func listAllProviders(st *state, c *call) reply {
	items := []providerJSON{}
	for _, p := range st.allProviders() {
		appName := ""
		if p.AssignedApplicationName != nil {
			appName = *p.AssignedApplicationName
		}
		if !boolMatches(c.query, "application__isnull", p.AssignedApplicationSlug == nil) || !search(c.query, p.Name, appName) {
			continue
		}
		items = append(items, p)
	}
	return paginate(c.query, items)
}

func retrieveAnyProvider(st *state, c *call) reply {
	n, err := strconv.ParseInt(c.params["id"], 10, 32)
	if err != nil {
		return notFound()
	}
	for _, p := range st.allProviders() {
		if p.PK == int32(n) {
			return reply{status: http.StatusOK, body: p}
		}
	}
	return notFound()
}
