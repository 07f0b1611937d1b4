package authentiksim

import (
	"math"
	"slices"
	"sort"
	"strconv"
)

// LDAP provider choices and defaults, from authentik/providers/ldap/models.py
// (APIAccessMode and the LDAPProvider field defaults).
const (
	ldapAccessDirect = "direct"
	ldapAccessCached = "cached"

	ldapDefaultBaseDN   = "DC=ldap,DC=goauthentik,DC=io"
	ldapDefaultUIDStart = 2000
	ldapDefaultGIDStart = 4000
)

// ldapProvider is an LDAPProvider row (with its Provider base).
type ldapProvider struct {
	providerBase
	baseDN        string
	certificate   *string
	tlsServerName string
	uidStart      int64
	gidStart      int64
	searchMode    string
	bindMode      string
	mfaSupport    bool
}

type ldapProviderJSON struct {
	providerJSON
	BaseDN         string   `json:"base_dn"`
	Certificate    *string  `json:"certificate"`
	TLSServerName  string   `json:"tls_server_name"`
	UIDStartNumber int64    `json:"uid_start_number"`
	GIDStartNumber int64    `json:"gid_start_number"`
	OutpostSet     []string `json:"outpost_set"`
	SearchMode     string   `json:"search_mode"`
	BindMode       string   `json:"bind_mode"`
	MFASupport     bool     `json:"mfa_support"`
}

// newLDAPProvider has the model defaults of LDAPProvider.
func newLDAPProvider() *ldapProvider {
	return &ldapProvider{
		providerBase: providerBase{propertyMappings: []string{}},
		baseDN:       ldapDefaultBaseDN,
		uidStart:     ldapDefaultUIDStart,
		gidStart:     ldapDefaultGIDStart,
		searchMode:   ldapAccessDirect,
		bindMode:     ldapAccessDirect,
		mfaSupport:   true,
	}
}

// renderLDAPBase is the generic ProviderSerializer view of an LDAP
// provider, as applications and outposts show it.
func (st *state) renderLDAPBase(p *ldapProvider) providerJSON {
	return st.renderProviderBase(&p.providerBase, providerJSON{
		Component:         "ak-provider-ldap-form",
		VerboseName:       "LDAP Provider",
		VerboseNamePlural: "LDAP Providers",
		MetaModelName:     "authentik_providers_ldap.ldapprovider",
	})
}

// renderLDAP is LDAPProviderSerializer (authentik/providers/ldap/api.py).
func (st *state) renderLDAP(p *ldapProvider) ldapProviderJSON {
	return ldapProviderJSON{
		providerJSON:   st.renderLDAPBase(p),
		BaseDN:         p.baseDN,
		Certificate:    p.certificate,
		TLSServerName:  p.tlsServerName,
		UIDStartNumber: p.uidStart,
		GIDStartNumber: p.gidStart,
		OutpostSet:     st.outpostSet(p.pk),
		SearchMode:     p.searchMode,
		BindMode:       p.bindMode,
		MFASupport:     p.mfaSupport,
	}
}

// outpostSet is a provider's outpost_set: str(outpost) of each outpost
// that lists it ("Outpost <name>", authentik/outposts/models.py).
func (st *state) outpostSet(pk int32) []string {
	out := []string{}
	for _, o := range st.outposts {
		if slices.Contains(o.providers, pk) {
			out = append(out, "Outpost "+o.name)
		}
	}
	sort.Strings(out)
	return out
}

// bindLDAP applies the fields present in a request body to p, validating
// them as LDAPProviderSerializer does (ProviderSerializer's fields, then
// the model fields: base_dn a non-blank TextField, tls_server_name
// blank=True, the start numbers IntegerFields, the modes TextFields with
// APIAccessMode choices); errors go to f.errs.
func (st *state) bindLDAP(f *form, p *ldapProvider) {
	st.bindProviderBase(f, &p.providerBase)
	if v, ok := f.str("base_dn", false, false); ok {
		p.baseDN = v
	}
	if v, ok := f.uuidRef("certificate", false, true, func(pk string) bool { return st.certificates[pk] != nil }); ok {
		p.certificate = v
	}
	if v, ok := f.str("tls_server_name", false, true); ok {
		p.tlsServerName = v
	}
	if v, ok := f.integer("uid_start_number", false, math.MinInt32, math.MaxInt32); ok {
		p.uidStart = v
	}
	if v, ok := f.integer("gid_start_number", false, math.MinInt32, math.MaxInt32); ok {
		p.gidStart = v
	}
	if v, ok := f.choice("search_mode", ldapAccessDirect, ldapAccessCached); ok {
		p.searchMode = v
	}
	if v, ok := f.choice("bind_mode", ldapAccessDirect, ldapAccessCached); ok {
		p.bindMode = v
	}
	if v, ok := f.boolean("mfa_support"); ok {
		p.mfaSupport = v
	}
}

// listLDAPProviders filters on LDAPProviderFilter's fields
// (authentik/providers/ldap/api.py), searches names and orders by name.
func listLDAPProviders(st *state, c *call) reply {
	q := c.query
	items := []ldapProviderJSON{}
	for _, pk := range sortedKeys(st.ldap) {
		p := st.ldap[pk]
		flowSlug, certificate := "", ""
		if fl := st.flows[p.authorizationFlow]; fl != nil {
			flowSlug = fl.slug
		}
		if p.certificate != nil {
			certificate = *p.certificate
		}
		if !iexact(q, "name__iexact", p.name) ||
			!iexact(q, "authorization_flow__slug__iexact", flowSlug) ||
			!iexact(q, "base_dn__iexact", p.baseDN) ||
			!iexact(q, "certificate__kp_uuid__iexact", certificate) ||
			!iexact(q, "tls_server_name__iexact", p.tlsServerName) ||
			!iexact(q, "uid_start_number__iexact", strconv.FormatInt(p.uidStart, 10)) ||
			!iexact(q, "gid_start_number__iexact", strconv.FormatInt(p.gidStart, 10)) ||
			!boolMatches(q, "application__isnull", st.applicationOf(p.pk) == nil) ||
			!search(q, p.name) {
			continue
		}
		items = append(items, st.renderLDAP(p))
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return paginate(q, items)
}

// ldapProviders is LDAPProviderViewSet.
var ldapProviders = providerType[ldapProvider]{
	store:  func(st *state) map[int32]*ldapProvider { return st.ldap },
	base:   func(p *ldapProvider) *providerBase { return &p.providerBase },
	fresh:  newLDAPProvider,
	bind:   (*state).bindLDAP,
	render: func(st *state, p *ldapProvider, _ string) any { return st.renderLDAP(p) },
}
