package authentiksim

import (
	"fmt"
	"iter"
	"net/url"
	"slices"
	"sort"
	"strings"
)

const (
	proxyModeProxy         = "proxy"
	proxyModeForwardSingle = "forward_single"
	proxyModeForwardDomain = "forward_domain"

	// Messages from authentik/providers/proxy/api.py.
	msgInternalHostEmpty = "Internal host cannot be empty when forward auth is disabled."
	msgBasicAuthAttrs    = "User and password attributes must be set when basic auth is enabled."
	// From authentik/lib/utils/time.py.
	msgBadTimedelta = "%s is not in the correct format of 'hours=3;minutes=1'."

	// outpostCallbackSignature is the query flag the proxy outpost adds to
	// its OAuth callbacks (authentik/providers/proxy/models.py).
	outpostCallbackSignature = "X-authentik-auth-callback"
)

type providerJSON struct {
	PK                                 int32    `json:"pk"`
	Name                               string   `json:"name"`
	AuthenticationFlow                 *string  `json:"authentication_flow"`
	AuthorizationFlow                  string   `json:"authorization_flow"`
	InvalidationFlow                   *string  `json:"invalidation_flow"`
	PropertyMappings                   []string `json:"property_mappings"`
	Component                          string   `json:"component"`
	AssignedApplicationSlug            *string  `json:"assigned_application_slug"`
	AssignedApplicationName            *string  `json:"assigned_application_name"`
	AssignedBackchannelApplicationSlug *string  `json:"assigned_backchannel_application_slug"`
	AssignedBackchannelApplicationName *string  `json:"assigned_backchannel_application_name"`
	VerboseName                        string   `json:"verbose_name"`
	VerboseNamePlural                  string   `json:"verbose_name_plural"`
	MetaModelName                      string   `json:"meta_model_name"`
}

type redirectURIJSON struct {
	MatchingMode    string `json:"matching_mode"`
	URL             string `json:"url"`
	RedirectURIType string `json:"redirect_uri_type"`
}

type proxyProviderJSON struct {
	providerJSON
	ClientID                   string            `json:"client_id"`
	InternalHost               string            `json:"internal_host"`
	ExternalHost               string            `json:"external_host"`
	InternalHostSSLValidation  bool              `json:"internal_host_ssl_validation"`
	Certificate                *string           `json:"certificate"`
	SkipPathRegex              string            `json:"skip_path_regex"`
	BasicAuthEnabled           bool              `json:"basic_auth_enabled"`
	BasicAuthPasswordAttribute string            `json:"basic_auth_password_attribute"`
	BasicAuthUserAttribute     string            `json:"basic_auth_user_attribute"`
	Mode                       string            `json:"mode"`
	InterceptHeaderAuth        bool              `json:"intercept_header_auth"`
	RedirectURIs               []redirectURIJSON `json:"redirect_uris"`
	CookieDomain               string            `json:"cookie_domain"`
	JwtFederationSources       []string          `json:"jwt_federation_sources"`
	JwtFederationProviders     []int32           `json:"jwt_federation_providers"`
	AccessTokenValidity        string            `json:"access_token_validity"`
	RefreshTokenValidity       string            `json:"refresh_token_validity"`
	OutpostSet                 []string          `json:"outpost_set"`
}

// newProxyProvider has the model defaults of ProxyProvider and the
// OAuth2Provider it extends.
func newProxyProvider() *proxyProvider {
	return &proxyProvider{
		internalHostSSL:        true,
		mode:                   proxyModeProxy,
		interceptHeaderAuth:    true,
		accessTokenValidity:    "hours=1",
		refreshTokenValidity:   "days=30",
		providerBase:           providerBase{propertyMappings: []string{}},
		jwtFederationSources:   []string{},
		jwtFederationProviders: []int32{},
	}
}

// renderProvider is the generic ProviderSerializer view used inside
// applications and outposts.
func (st *state) renderProvider(p *proxyProvider) providerJSON {
	out := st.renderProviderBase(&p.providerBase, providerJSON{
		Component:         "ak-provider-proxy-form",
		VerboseName:       "Proxy Provider",
		VerboseNamePlural: "Proxy Providers",
		MetaModelName:     "authentik_providers_proxy.proxyprovider",
	})
	if p.backchannelApplication != nil {
		if a := st.applications[*p.backchannelApplication]; a != nil {
			out.AssignedBackchannelApplicationSlug, out.AssignedBackchannelApplicationName = &a.slug, &a.name
		}
	}
	return out
}

func (st *state) renderProxyProvider(p *proxyProvider) proxyProviderJSON {
	return proxyProviderJSON{
		providerJSON:               st.renderProvider(p),
		ClientID:                   p.clientID,
		InternalHost:               p.internalHost,
		ExternalHost:               p.externalHost,
		InternalHostSSLValidation:  p.internalHostSSL,
		Certificate:                p.certificate,
		SkipPathRegex:              p.skipPathRegex,
		BasicAuthEnabled:           p.basicAuthEnabled,
		BasicAuthPasswordAttribute: p.basicAuthPasswordAttr,
		BasicAuthUserAttribute:     p.basicAuthUserAttr,
		Mode:                       p.mode,
		InterceptHeaderAuth:        p.interceptHeaderAuth,
		RedirectURIs:               redirectURIs(p.externalHost),
		CookieDomain:               p.cookieDomain,
		JwtFederationSources:       append([]string{}, p.jwtFederationSources...),
		JwtFederationProviders:     append([]int32{}, p.jwtFederationProviders...),
		AccessTokenValidity:        p.accessTokenValidity,
		RefreshTokenValidity:       p.refreshTokenValidity,
		OutpostSet:                 st.outpostSet(p.pk),
	}
}

// redirectURIs are what ProxyProvider.set_oauth_defaults stores on every
// save: the outpost callback below the external host, and the external host
// itself, both strict matches carrying the callback signature.
func redirectURIs(externalHost string) []redirectURIJSON {
	callback := externalHost
	if base, err := url.Parse(externalHost); err == nil {
		// Python's urljoin and Go's ResolveReference both follow RFC 3986.
		callback = base.ResolveReference(&url.URL{Path: "outpost.goauthentik.io/callback"}).String()
	}
	suffix := "?" + outpostCallbackSignature + "=true"
	return []redirectURIJSON{
		{MatchingMode: "strict", URL: callback + suffix, RedirectURIType: "authorization"},
		{MatchingMode: "strict", URL: externalHost + suffix, RedirectURIType: "authorization"},
	}
}

// setOAuthDefaults adds the default scope mappings to a provider's
// property_mappings, as Authentik does on every create and update.
func (st *state) setOAuthDefaults(p *proxyProvider) {
	for _, managed := range proxyDefaultScopes {
		m := st.mappingByManaged(managed)
		if m != nil && !slices.Contains(p.propertyMappings, m.pk) {
			p.propertyMappings = append(p.propertyMappings, m.pk)
		}
	}
}

// renderProviderBase fills the ProviderSerializer fields of the Provider
// base into view, which names the provider type.
func (st *state) renderProviderBase(p *providerBase, view providerJSON) providerJSON {
	view.PK = p.pk
	view.Name = p.name
	view.AuthenticationFlow = p.authenticationFlow
	view.AuthorizationFlow = p.authorizationFlow
	view.InvalidationFlow = p.invalidationFlow
	view.PropertyMappings = append([]string{}, p.propertyMappings...)
	if a := st.applicationOf(p.pk); a != nil {
		view.AssignedApplicationSlug, view.AssignedApplicationName = &a.slug, &a.name
	}
	return view
}

// everyProvider yields the stored providers of every type by pk, each with
// its client id: ProxyProvider extends OAuth2Provider
// (authentik/providers/proxy/models.py), so both types carry one; an LDAP
// provider has none (""). The pks are taken before the first yield, so the
// loop body may delete providers.
func (st *state) everyProvider() iter.Seq2[*providerBase, string] {
	return func(yield func(*providerBase, string) bool) {
		pks := append(append(sortedKeys(st.providers), sortedKeys(st.oauth2)...), sortedKeys(st.ldap)...)
		pks = append(pks, sortedKeys(st.saml)...)
		slices.Sort(pks)
		for _, pk := range pks {
			if p := st.providers[pk]; p != nil && !yield(&p.providerBase, p.clientID) {
				return
			}
			if p := st.oauth2[pk]; p != nil && !yield(&p.providerBase, p.clientID) {
				return
			}
			if p := st.ldap[pk]; p != nil && !yield(&p.providerBase, "") {
				return
			}
			// A SAML provider has no client id.
			if p := st.saml[pk]; p != nil && !yield(&p.providerBase, "") {
				return
			}
		}
	}
}

// Provider model class names, as Authentik's messages name them.
const (
	classProxyProvider  = "ProxyProvider"
	classOAuth2Provider = "OAuth2Provider"
	classLDAPProvider   = "LDAPProvider"
	classSAMLProvider   = "SAMLProvider"
)

// providerView is the generic ProviderSerializer view of the provider with
// pk, whatever its type, and the name of its model class; ok is false when
// no provider has the pk.
func (st *state) providerView(pk int32) (view providerJSON, class string, ok bool) {
	if p := st.providers[pk]; p != nil {
		return st.renderProvider(p), classProxyProvider, true
	}
	if p := st.oauth2[pk]; p != nil {
		return st.renderOAuth2Base(p), classOAuth2Provider, true
	}
	if p := st.ldap[pk]; p != nil {
		return st.renderLDAPBase(p), classLDAPProvider, true
	}
	if p := st.saml[pk]; p != nil {
		return st.renderSAMLBase(p), classSAMLProvider, true
	}
	return providerJSON{}, "", false
}

// providerNameTaken checks Provider.name, which is unique across every
// provider type in Authentik (Provider.name in authentik/core/models.py).
func (st *state) providerNameTaken(name string, self int32) bool {
	for p := range st.everyProvider() {
		if p.name == name && p.pk != self {
			return true
		}
	}
	return false
}

// bindProviderBase applies the Provider fields present in a request body
// to p, validating them as ProviderSerializer (authentik/core/api/providers.py)
// does for every provider type; errors go to f.errs.
func (st *state) bindProviderBase(f *form, p *providerBase) {
	if v, ok := f.str("name", true, false); ok {
		if st.providerNameTaken(v, p.pk) {
			f.errs.add("name", fmt.Sprintf(msgUnique, "provider", "name"))
		} else {
			p.name = v
		}
	}
	if v, ok := f.uuidRef("authentication_flow", false, true, st.flowExists); ok {
		p.authenticationFlow = v
	}
	if v, ok := f.uuidRef("authorization_flow", true, false, st.flowExists); ok {
		p.authorizationFlow = *v
	}
	if v, ok := f.uuidRef("invalidation_flow", true, false, st.flowExists); ok {
		p.invalidationFlow = v
	}
	if v, ok := f.uuidRefs("property_mappings", false, st.propertyMappingExists); ok {
		p.propertyMappings = v
	}
}

// bindProxyProvider applies the fields present in a request body to p,
// validating them as ProxyProviderSerializer does; errors go to f.errs.
func (st *state) bindProxyProvider(f *form, p *proxyProvider) {
	st.bindProviderBase(f, &p.providerBase)
	if v, ok := f.httpURL("internal_host", false, true); ok {
		p.internalHost = v
	}
	if v, ok := f.httpURL("external_host", true, false); ok {
		p.externalHost = v
	}
	if v, ok := f.boolean("internal_host_ssl_validation"); ok {
		p.internalHostSSL = v
	}
	if v, ok := f.uuidRef("certificate", false, true, func(pk string) bool { return st.certificates[pk] != nil }); ok {
		p.certificate = v
	}
	if v, ok := f.str("skip_path_regex", false, true); ok {
		p.skipPathRegex = v
	}
	if v, ok := f.boolean("basic_auth_enabled"); ok {
		// validate_basic_auth_enabled reads the raw request body, so the
		// attributes must be in the same request, not already stored.
		if v && (rawBlank(f, "basic_auth_password_attribute") || rawBlank(f, "basic_auth_user_attribute")) {
			f.errs.add("basic_auth_enabled", msgBasicAuthAttrs)
		} else {
			p.basicAuthEnabled = v
		}
	}
	if v, ok := f.str("basic_auth_password_attribute", false, true); ok {
		p.basicAuthPasswordAttr = v
	}
	if v, ok := f.str("basic_auth_user_attribute", false, true); ok {
		p.basicAuthUserAttr = v
	}
	if v, ok := f.choice("mode", proxyModeProxy, proxyModeForwardSingle, proxyModeForwardDomain); ok {
		p.mode = v
	}
	if v, ok := f.boolean("intercept_header_auth"); ok {
		p.interceptHeaderAuth = v
	}
	if v, ok := f.str("cookie_domain", false, true); ok {
		p.cookieDomain = v
	}
	// Authentik's JWT federation sources are OAuth sources, which the
	// simulator does not have: any reference is to a missing object.
	if v, ok := f.uuidRefs("jwt_federation_sources", false, func(string) bool { return false }); ok {
		p.jwtFederationSources = v
	}
	// Federation providers are OAuth2 providers; proxy providers are OAuth2
	// providers underneath.
	if v, ok := f.intRefs("jwt_federation_providers", false, st.providerExists); ok {
		p.jwtFederationProviders = v
	}
	if v, ok := timedeltaField(f, "access_token_validity"); ok {
		p.accessTokenValidity = v
	}
	if v, ok := timedeltaField(f, "refresh_token_validity"); ok {
		p.refreshTokenValidity = v
	}
}

// rawBlank is Python's initial_data.get(key, "") == "": true when the key is
// missing or an empty string, false for anything else, null included.
func rawBlank(f *form, key string) bool {
	if !f.has(key) {
		return true
	}
	v, isString := f.rawString(key)
	return isString && v == ""
}

func timedeltaField(f *form, key string) (string, bool) {
	v, ok := f.str(key, false, false)
	if !ok {
		return "", false
	}
	if _, valid := parseTimedelta(v); !valid {
		f.errs.add(key, fmt.Sprintf(msgBadTimedelta, v))
		return "", false
	}
	return v, true
}

// checkProxyMode is ProxyProviderSerializer.validate: with mode proxy (the
// default) internal_host must be set. It looks at the request body only, so
// a PATCH that sends neither mode nor internal_host fails even when the
// stored provider is valid.
func checkProxyMode(f *form) *reply {
	mode := proxyModeProxy
	if v, ok := f.rawString("mode"); ok {
		mode = v
	}
	internal, _ := f.rawString("internal_host")
	if mode == proxyModeProxy && strings.TrimSpace(internal) == "" {
		r := invalid(fieldErrors{"internal_host": {msgInternalHostEmpty}})
		return &r
	}
	return nil
}

func listProxyProviders(st *state, c *call) reply {
	q := c.query
	items := []proxyProviderJSON{}
	for _, pk := range sortedKeys(st.providers) {
		p := st.providers[pk]
		flowSlug := ""
		if fl := st.flows[p.authorizationFlow]; fl != nil {
			flowSlug = fl.slug
		}
		if !iexact(q, "name__iexact", p.name) ||
			!iexact(q, "mode__iexact", p.mode) ||
			!iexact(q, "external_host__iexact", p.externalHost) ||
			!iexact(q, "internal_host__iexact", p.internalHost) ||
			!iexact(q, "cookie_domain__iexact", p.cookieDomain) ||
			!iexact(q, "skip_path_regex__iexact", p.skipPathRegex) ||
			!iexact(q, "basic_auth_user_attribute__iexact", p.basicAuthUserAttr) ||
			!iexact(q, "basic_auth_password_attribute__iexact", p.basicAuthPasswordAttr) ||
			!iexact(q, "authorization_flow__slug__iexact", flowSlug) ||
			!boolMatches(q, "basic_auth_enabled__iexact", p.basicAuthEnabled) ||
			!boolMatches(q, "internal_host_ssl_validation__iexact", p.internalHostSSL) ||
			!boolMatches(q, "application__isnull", st.applicationOf(p.pk) == nil) ||
			!search(q, p.name) {
			continue
		}
		items = append(items, st.renderProxyProvider(p))
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return paginate(q, items)
}

// proxyProviders is ProxyProviderViewSet: every save sets the OAuth
// defaults, a create also a client id.
var proxyProviders = providerType[proxyProvider]{
	store: func(st *state) map[int32]*proxyProvider { return st.providers },
	base:  func(p *proxyProvider) *providerBase { return &p.providerBase },
	fresh: newProxyProvider,
	bind:  (*state).bindProxyProvider,
	check: checkProxyMode,
	save: func(st *state, _ *form, p *proxyProvider, created bool) {
		if created {
			p.clientID = st.newClientID()
		}
		st.setOAuthDefaults(p)
	},
	render: func(st *state, p *proxyProvider, _ string) any { return st.renderProxyProvider(p) },
}
