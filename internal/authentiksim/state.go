package authentiksim

import (
	"fmt"
	"maps"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
)

// state is everything the simulated Authentik stores. Maps are keyed by
// primary key; the Server's lock guards all of it.
type state struct {
	rng *rand.Rand
	// line is the release line whose behaviour the state follows.
	line Line

	flows        map[string]*flow // by pk
	providers    map[int32]*proxyProvider
	oauth2       map[int32]*oauth2Provider
	ldap         map[int32]*ldapProvider
	saml         map[int32]*samlProvider
	nextProvider int32                   // one sequence for every provider type
	applications map[string]*application // by pk
	outposts     map[string]*outpost
	groups       map[string]*group
	bindings     map[string]*binding
	mappings     map[string]*scopeMapping
	samlMappings map[string]*samlMapping
	policies     map[string]*policy
	certificates map[string]*keyPair

	// users are served over the API (users.go) and decide access
	// (access.go).
	users    map[string]*user // by username
	nextUser int32
	tokens   map[string]*apiToken // by identifier
	// writes counts accepted writes; exposures is what the invariant
	// recorded after them.
	writes    int
	exposures map[exposureKey]*Exposure
	// accessErrors are the decisions the invariant could not make.
	accessErrors map[accessErrorKey]*AccessError
	// service records which outposts served which providers (service.go).
	service map[serviceKey]*Service
}

type flow struct {
	pk             string
	name           string
	slug           string
	title          string
	designation    string
	authentication string
	layout         string
	deniedAction   string
	engineMode     string
	compatibility  bool
	background     string
}

// scopeMapping is a ScopeMapping row with its PropertyMapping base
// (authentik/providers/oauth2/models.py, authentik/core/models.py).
type scopeMapping struct {
	pk          string
	name        string
	managed     string
	scopeName   string
	expression  string
	description string
}

// policy is an ExpressionPolicy row with its Policy base
// (authentik/policies/expression/models.py, authentik/policies/models.py):
// the only policy type the simulator has.
type policy struct {
	pk               string
	name             string
	executionLogging bool
	expression       string
}

// providerBase holds the fields of Authentik's Provider model
// (authentik/core/models.py), which every provider type extends.
type providerBase struct {
	pk                 int32
	name               string
	authenticationFlow *string
	authorizationFlow  string
	// invalidationFlow becomes nil when its flow is deleted (Authentik's
	// on_delete=SET_DEFAULT with a None default), although the schema calls
	// the field non-nullable.
	invalidationFlow *string
	propertyMappings []string
}

// proxyProvider is a ProxyProvider row (with its Provider base).
type proxyProvider struct {
	providerBase
	clientID               string
	internalHost           string
	externalHost           string
	internalHostSSL        bool
	certificate            *string
	skipPathRegex          string
	basicAuthEnabled       bool
	basicAuthPasswordAttr  string
	basicAuthUserAttr      string
	mode                   string
	interceptHeaderAuth    bool
	cookieDomain           string
	jwtFederationSources   []string
	jwtFederationProviders []int32
	accessTokenValidity    string
	refreshTokenValidity   string
	backchannelApplication *string // application pk
}

type application struct {
	pk            string
	name          string
	slug          string
	provider      *int32
	openInNewTab  bool
	metaLaunchURL string
	metaIcon      string
	metaDesc      string
	metaPublisher string
	engineMode    string
	group         string
	metaHide      bool
}

type outpost struct {
	pk                string
	name              string
	kind              string // the outpost's type
	providers         []int32
	serviceConnection *string
	config            map[string]any
	managed           *string
}

type group struct {
	pk          string
	name        string
	isSuperuser bool
	parents     []string
	attributes  map[string]any
}

type binding struct {
	pk            string
	policy        *string
	group         *string
	user          *int32
	target        string
	negate        bool
	enabled       bool
	order         int64
	timeout       int64
	failureResult bool
}

const (
	embeddedOutpostManaged = "goauthentik.io/outposts/embedded"
	embeddedOutpostName    = "authentik Embedded Outpost"
)

// Flows every fresh install has, from Authentik's default blueprints.
var defaultFlows = []flow{
	{slug: "default-authentication-flow", name: "Welcome to authentik!", title: "Welcome to authentik!", designation: "authentication", authentication: "none"},
	{slug: "default-invalidation-flow", name: "Logout", title: "Default Invalidation Flow", designation: "invalidation", authentication: "none"},
	{slug: "default-provider-authorization-explicit-consent", name: "Authorize Application", title: "Redirecting to %(app)s", designation: "authorization", authentication: "require_authenticated"},
	{slug: "default-provider-authorization-implicit-consent", name: "Authorize Application", title: "Redirecting to %(app)s", designation: "authorization", authentication: "require_authenticated"},
	{slug: "default-provider-invalidation-flow", name: "Logged out of application", title: "You've logged out of %(app)s.", designation: "invalidation", authentication: "none"},
}

// Scope mappings every fresh install has. ProxyProvider.set_oauth_defaults
// (authentik/providers/proxy/models.py) adds those in proxyDefaultScopes to
// every proxy provider on each save; offline_access is left to the user.
var (
	defaultScopeMappings = []scopeMapping{
		{managed: "goauthentik.io/providers/oauth2/scope-openid", name: "authentik default OAuth Mapping: OpenID 'openid'", scopeName: "openid"},
		{managed: "goauthentik.io/providers/oauth2/scope-email", name: "authentik default OAuth Mapping: OpenID 'email'", scopeName: "email"},
		{managed: "goauthentik.io/providers/oauth2/scope-profile", name: "authentik default OAuth Mapping: OpenID 'profile'", scopeName: "profile"},
		{managed: "goauthentik.io/providers/oauth2/scope-entitlements", name: "authentik default OAuth Mapping: Application Entitlements", scopeName: "entitlements"},
		{managed: "goauthentik.io/providers/oauth2/scope-offline_access", name: "authentik default OAuth Mapping: OpenID 'offline_access'", scopeName: "offline_access"},
		{managed: "goauthentik.io/providers/proxy/scope-proxy", name: "authentik default OAuth Mapping: Proxy outpost", scopeName: "ak_proxy"},
	}
	proxyDefaultScopes = []string{
		"goauthentik.io/providers/oauth2/scope-openid",
		"goauthentik.io/providers/oauth2/scope-profile",
		"goauthentik.io/providers/oauth2/scope-email",
		"goauthentik.io/providers/oauth2/scope-entitlements",
		"goauthentik.io/providers/proxy/scope-proxy",
	}
)

const (
	seededPolicyName = "default-source-enrollment-if-sso"
	// seededPolicyExpression is the policy's expression in Authentik's
	// default blueprints (blueprints/default/flow-default-source-enrollment.yaml).
	seededPolicyExpression = "# This policy ensures that this flow can only be used when the user\n" +
		"# is in a SSO Flow (meaning they come from an external IdP)\n" +
		"return ak_is_sso_flow\n"
	seededCertificateName = "authentik Self-signed Certificate"
)

func newState(seed int64, line Line) *state {
	st := &state{
		rng:          rand.New(rand.NewPCG(uint64(seed), idStream)), //nolint:gosec // ids for a simulator, not secrets
		line:         line,
		flows:        map[string]*flow{},
		providers:    map[int32]*proxyProvider{},
		oauth2:       map[int32]*oauth2Provider{},
		ldap:         map[int32]*ldapProvider{},
		saml:         map[int32]*samlProvider{},
		nextProvider: 1,
		applications: map[string]*application{},
		outposts:     map[string]*outpost{},
		groups:       map[string]*group{},
		bindings:     map[string]*binding{},
		mappings:     map[string]*scopeMapping{},
		samlMappings: map[string]*samlMapping{},
		policies:     map[string]*policy{},
		certificates: map[string]*keyPair{},
		users:        map[string]*user{},
		tokens:       map[string]*apiToken{},
		exposures:    map[exposureKey]*Exposure{},
		accessErrors: map[accessErrorKey]*AccessError{},
		service:      map[serviceKey]*Service{},
	}
	for _, f := range defaultFlows {
		f.pk = st.newUUID()
		f.layout, f.deniedAction, f.engineMode = "stacked", "message_continue", "any"
		st.flows[f.pk] = &f
	}
	for _, m := range defaultScopeMappings {
		m.pk = st.newUUID()
		m.expression = seededMappingExpression
		st.mappings[m.pk] = &m
	}
	p := &policy{pk: st.newUUID(), name: seededPolicyName, expression: seededPolicyExpression}
	st.policies[p.pk] = p
	kp := seededKeyPair(st.newUUID())
	st.certificates[kp.pk] = kp

	managed := embeddedOutpostManaged
	o := &outpost{
		pk:        st.newUUID(),
		name:      embeddedOutpostName,
		kind:      outpostTypeProxy,
		providers: []int32{},
		config:    defaultOutpostConfig(""),
		managed:   &managed,
	}
	st.outposts[o.pk] = o
	return st
}

// newUUID returns a random (version 4) UUID from the seeded generator.
func (st *state) newUUID() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := st.rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j)) //nolint:gosec // Keeps the low byte on purpose.
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newClientID mimics authentik.lib.generators.generate_id: 40 characters.
func (st *state) newClientID() string { return st.newSecret(40) }

// newSecret is n characters of idAlphabet, as generate_id and generate_key
// (authentik/lib/generators.py) make.
func (st *state) newSecret(n int) string {
	var sb strings.Builder
	for range n {
		sb.WriteByte(idAlphabet[st.rng.IntN(len(idAlphabet))])
	}
	return sb.String()
}

// numPK is Group.num_pk: the first five decimal digits of the uuid's integer.
func numPK(uuid string) int64 {
	n, ok := new(big.Int).SetString(strings.ReplaceAll(uuid, "-", ""), 16)
	if !ok {
		return 0
	}
	digits := n.String()
	if len(digits) > 5 {
		digits = digits[:5]
	}
	var v int64
	for _, d := range digits {
		v = v*10 + int64(d-'0')
	}
	return v
}

func (st *state) flowBySlug(slug string) *flow {
	for _, f := range st.flows {
		if f.slug == slug {
			return f
		}
	}
	return nil
}

func (st *state) applicationBySlug(slug string) *application {
	for _, a := range st.applications {
		if a.slug == slug {
			return a
		}
	}
	return nil
}

// applicationOf returns the application a provider is assigned to.
func (st *state) applicationOf(pk int32) *application {
	for _, a := range st.applications {
		if a.provider != nil && *a.provider == pk {
			return a
		}
	}
	return nil
}

func (st *state) mappingByManaged(managed string) *scopeMapping {
	for _, m := range st.mappings {
		if m.managed == managed {
			return m
		}
	}
	return nil
}

// isBindingTarget reports whether pk is a PolicyBindingModel: applications
// and flows are, among the simulated objects.
func (st *state) isBindingTarget(pk string) bool {
	_, app := st.applications[pk]
	_, fl := st.flows[pk]
	return app || fl
}

// sortedKeys returns a map's keys in order, so lists and cascades do not
// depend on Go's map iteration order.
func sortedKeys[K interface{ ~string | ~int32 }, V any](m map[K]V) []K {
	return slices.Sorted(maps.Keys(m))
}

// deleteProvider removes a provider the way Django's delete collector does:
// outposts drop it from their many-to-many list, its application's provider
// becomes null (on_delete=SET_DEFAULT), other providers drop it from
// jwt_federation_providers.
func (st *state) deleteProvider(pk int32) {
	delete(st.providers, pk)
	delete(st.oauth2, pk)
	delete(st.ldap, pk)
	delete(st.saml, pk)
	for _, o := range st.outposts {
		o.providers = slices.DeleteFunc(o.providers, func(p int32) bool { return p == pk })
	}
	for _, a := range st.applications {
		if a.provider != nil && *a.provider == pk {
			a.provider = nil
		}
	}
	for _, p := range st.providers {
		p.jwtFederationProviders = slices.DeleteFunc(p.jwtFederationProviders, func(v int32) bool { return v == pk })
	}
	for _, p := range st.oauth2 {
		p.jwtFederationProviders = slices.DeleteFunc(p.jwtFederationProviders, func(v int32) bool { return v == pk })
	}
}

// deleteApplication removes an application with what cascades from it: the
// policy bindings that target it (PolicyBinding.target on_delete=CASCADE)
// and its backchannel providers (Provider.backchannel_application
// on_delete=CASCADE). Its main provider stays.
func (st *state) deleteApplication(pk string) {
	delete(st.applications, pk)
	st.deleteBindingsWhere(func(b *binding) bool { return b.target == pk })
	for _, ppk := range sortedKeys(st.providers) {
		if p := st.providers[ppk]; p.backchannelApplication != nil && *p.backchannelApplication == pk {
			st.deleteProvider(ppk)
		}
	}
}

// deleteFlow removes a flow: providers authorised by it are deleted
// (on_delete=CASCADE), their authentication and invalidation flows are
// cleared (SET_NULL, SET_DEFAULT), and bindings that target the flow go.
func (st *state) deleteFlow(pk string) {
	delete(st.flows, pk)
	for p := range st.everyProvider() {
		if p.authorizationFlow == pk {
			st.deleteProvider(p.pk)
			continue
		}
		if p.authenticationFlow != nil && *p.authenticationFlow == pk {
			p.authenticationFlow = nil
		}
		if p.invalidationFlow != nil && *p.invalidationFlow == pk {
			p.invalidationFlow = nil
		}
	}
	st.deleteBindingsWhere(func(b *binding) bool { return b.target == pk })
}

// providerExists reports whether a provider of any type has the pk.
func (st *state) providerExists(pk int32) bool {
	return st.providers[pk] != nil || st.oauth2[pk] != nil || st.ldap[pk] != nil || st.saml[pk] != nil
}

// deleteGroup removes a group, the bindings that grant it access
// (PolicyBinding.group on_delete=CASCADE), its place as a parent and its
// members' memberships (the rows of the many-to-many Group.users).
func (st *state) deleteGroup(pk string) {
	delete(st.groups, pk)
	st.deleteBindingsWhere(func(b *binding) bool { return b.group != nil && *b.group == pk })
	for _, g := range st.groups {
		g.parents = slices.DeleteFunc(g.parents, func(p string) bool { return p == pk })
	}
	for _, u := range st.users {
		u.groups = slices.DeleteFunc(u.groups, func(g string) bool { return g == pk })
	}
}

// deletePolicy removes a policy and the bindings to it
// (PolicyBinding.policy on_delete=CASCADE, authentik/policies/models.py).
func (st *state) deletePolicy(pk string) {
	delete(st.policies, pk)
	st.deleteBindingsWhere(func(b *binding) bool { return b.policy != nil && *b.policy == pk })
}

func (st *state) deleteBindingsWhere(match func(*binding) bool) {
	for pk, b := range st.bindings {
		if match(b) {
			delete(st.bindings, pk)
		}
	}
}
