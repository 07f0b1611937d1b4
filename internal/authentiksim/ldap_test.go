package authentiksim

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
)

func (e *env) createLDAP(t *testing.T, name string) *api.LDAPProvider {
	t.Helper()
	p, _, err := e.c.ProvidersAPI.ProvidersLdapCreate(e.ctx).LDAPProviderRequest(*api.NewLDAPProviderRequest(name, e.authFlow, e.invFlow)).Execute()
	if err != nil {
		t.Fatalf("create LDAP provider %s: %v", name, err)
	}
	return p
}

func TestLDAPProviderRules(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		call   func(e *env, pk int32) (*api.LDAPProvider, *http.Response, error)
		want   outcome
		// check looks at a successful answer.
		check func(t *testing.T, got *api.LDAPProvider)
	}{
		"CreateHasModelDefaults": {
			reason: "A provider created with only the required fields has LDAPProvider's defaults (authentik/providers/ldap/models.py).",
			call: func(e *env, _ int32) (*api.LDAPProvider, *http.Response, error) {
				return e.c.ProvidersAPI.ProvidersLdapCreate(e.ctx).LDAPProviderRequest(*api.NewLDAPProviderRequest("gitea", e.authFlow, e.invFlow)).Execute()
			},
			want: outcome{Status: http.StatusCreated},
			check: func(t *testing.T, got *api.LDAPProvider) {
				type view struct {
					BaseDN, TLSServerName, SearchMode, BindMode, Component, Model string
					UID, GID                                                      int32
					MFA                                                           bool
					Outposts                                                      []string
				}
				want := view{BaseDN: ldapDefaultBaseDN, SearchMode: "direct", BindMode: "direct", Component: "ak-provider-ldap-form",
					Model: "authentik_providers_ldap.ldapprovider", UID: 2000, GID: 4000, MFA: true, Outposts: []string{}}
				g := view{BaseDN: got.GetBaseDn(), TLSServerName: got.GetTlsServerName(), SearchMode: string(got.GetSearchMode()), BindMode: string(got.GetBindMode()),
					Component: got.Component, Model: got.MetaModelName, UID: got.GetUidStartNumber(), GID: got.GetGidStartNumber(), MFA: got.GetMfaSupport(), Outposts: got.OutpostSet}
				if diff := cmp.Diff(want, g); diff != "" {
					t.Errorf("created provider: -want, +got:\n%s", diff)
				}
			},
		},
		"NameTakenByAnotherType": {
			reason: "Provider.name is unique across every provider type (authentik/core/models.py).",
			call: func(e *env, _ int32) (*api.LDAPProvider, *http.Response, error) {
				return e.c.ProvidersAPI.ProvidersLdapCreate(e.ctx).LDAPProviderRequest(*api.NewLDAPProviderRequest("proxied", e.authFlow, e.invFlow)).Execute()
			},
			want: fieldError("name", "provider with this name already exists."),
		},
		"BlankBaseDN": {
			reason: "base_dn is a TextField without blank=True.",
			call: func(e *env, _ int32) (*api.LDAPProvider, *http.Response, error) {
				r := api.NewLDAPProviderRequest("blank", e.authFlow, e.invFlow)
				r.SetBaseDn(" ")
				return e.c.ProvidersAPI.ProvidersLdapCreate(e.ctx).LDAPProviderRequest(*r).Execute()
			},
			want: fieldError("base_dn", msgBlank),
		},
		"MissingCertificate": {
			reason: "certificate is a key pair that must exist.",
			call: func(e *env, _ int32) (*api.LDAPProvider, *http.Response, error) {
				r := api.NewLDAPProviderRequest("tls", e.authFlow, e.invFlow)
				r.SetCertificate("00000000-0000-4000-8000-000000000000")
				return e.c.ProvidersAPI.ProvidersLdapCreate(e.ctx).LDAPProviderRequest(*r).Execute()
			},
			want: fieldError("certificate", `Invalid pk "00000000-0000-4000-8000-000000000000" - object does not exist.`),
		},
		"PatchChangesOnlyWhatItSends": {
			reason: "A PATCH of the modes and numbers keeps base_dn and the flows.",
			call: func(e *env, pk int32) (*api.LDAPProvider, *http.Response, error) {
				p := api.NewPatchedLDAPProviderRequest()
				p.SetBindMode(api.LDAPAPIACCESSMODE_CACHED)
				p.SetSearchMode(api.LDAPAPIACCESSMODE_CACHED)
				p.SetUidStartNumber(10000)
				p.SetMfaSupport(false)
				return e.c.ProvidersAPI.ProvidersLdapPartialUpdate(e.ctx, pk).PatchedLDAPProviderRequest(*p).Execute()
			},
			want: outcome{Status: http.StatusOK},
			check: func(t *testing.T, got *api.LDAPProvider) {
				if got.GetBindMode() != api.LDAPAPIACCESSMODE_CACHED || got.GetSearchMode() != api.LDAPAPIACCESSMODE_CACHED ||
					got.GetUidStartNumber() != 10000 || got.GetMfaSupport() || got.GetBaseDn() != ldapDefaultBaseDN || got.GetGidStartNumber() != 4000 {
					t.Errorf("after PATCH: %+v", got)
				}
			},
		},
		"PutReplaces": {
			reason: "A PUT with the required fields and a base DN changes them.",
			call: func(e *env, pk int32) (*api.LDAPProvider, *http.Response, error) {
				r := api.NewLDAPProviderRequest("nas-renamed", e.authFlow, e.invFlow)
				r.SetBaseDn("DC=home,DC=example,DC=com")
				r.SetTlsServerName("ldap.example.com")
				return e.c.ProvidersAPI.ProvidersLdapUpdate(e.ctx, pk).LDAPProviderRequest(*r).Execute()
			},
			want: outcome{Status: http.StatusOK},
			check: func(t *testing.T, got *api.LDAPProvider) {
				if got.Name != "nas-renamed" || got.GetBaseDn() != "DC=home,DC=example,DC=com" || got.GetTlsServerName() != "ldap.example.com" {
					t.Errorf("after PUT: %+v", got)
				}
			},
		},
		"RetrieveMissing": {
			reason: "An unknown pk is 404.",
			call: func(e *env, _ int32) (*api.LDAPProvider, *http.Response, error) {
				return e.c.ProvidersAPI.ProvidersLdapRetrieve(e.ctx, 9999).Execute()
			},
			want: detailError(http.StatusNotFound, "Not found."),
		},
		"ProxyPKIsNoLDAPProvider": {
			reason: "The LDAP endpoint serves only LDAP providers; a proxy provider's pk is 404 there.",
			call: func(e *env, pk int32) (*api.LDAPProvider, *http.Response, error) {
				return e.c.ProvidersAPI.ProvidersLdapRetrieve(e.ctx, pk-1).Execute()
			},
			want: detailError(http.StatusNotFound, "Not found."),
		},
	}
	for _, line := range LineNames() {
		for name, tc := range cases {
			t.Run(line+"/"+name, func(t *testing.T) {
				e := newEnvAt(t, line)
				e.createProvider(t, "proxied")
				pk := e.createLDAP(t, "nas").Pk
				got, resp, err := tc.call(e, pk)
				if diff := cmp.Diff(tc.want, outcomeOf(t, resp, err)); diff != "" {
					t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
				}
				if tc.check != nil && err == nil {
					tc.check(t, got)
				}
			})
		}
	}
}

// TestLDAPOutpost: an outpost of type ldap takes LDAP providers only
// (OutpostSerializer.validate_providers), and serves those that belong to
// an application (LDAPOutpostConfigViewSet).
func TestLDAPOutpost(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		kind   api.OutpostTypeEnum
		ldap   bool
		want   outcome
	}{
		"LDAPOutpostLDAPProvider": {reason: "An LDAP outpost takes an LDAP provider.", kind: api.OUTPOSTTYPEENUM_LDAP, ldap: true, want: outcome{Status: http.StatusCreated}},
		"ProxyOutpostLDAPProvider": {
			reason: "A proxy outpost refuses an LDAP provider, naming its class.",
			kind:   api.OUTPOSTTYPEENUM_PROXY, ldap: true,
			want: fieldError("providers", "Outpost type proxy can't be used with LDAPProvider providers."),
		},
		"LDAPOutpostProxyProvider": {
			reason: "An LDAP outpost refuses a proxy provider.",
			kind:   api.OUTPOSTTYPEENUM_LDAP,
			want:   fieldError("providers", "Outpost type ldap can't be used with ProxyProvider providers."),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			pk := e.createProvider(t, "proxied").Pk
			if tc.ldap {
				pk = e.createLDAP(t, "nas").Pk
			}
			_, resp, err := e.c.OutpostsAPI.OutpostsInstancesCreate(e.ctx).OutpostRequest(*api.NewOutpostRequest("o", tc.kind, []int32{pk}, map[string]any{})).Execute()
			if diff := cmp.Diff(tc.want, outcomeOf(t, resp, err)); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}

	t.Run("ServedOnceItHasAnApplication", func(t *testing.T) {
		e := newEnv(t)
		p := e.createLDAP(t, "nas")
		o, _, err := e.c.OutpostsAPI.OutpostsInstancesCreate(e.ctx).OutpostRequest(*api.NewOutpostRequest("ldap", api.OUTPOSTTYPEENUM_LDAP, []int32{p.Pk}, map[string]any{})).Execute()
		if err != nil {
			t.Fatalf("create LDAP outpost: %v", err)
		}
		if r := e.Sim.ServiceRecord("nas"); len(r) != 0 {
			t.Errorf("served without an application: %+v", r)
		}
		e.createApplication(t, "nas", &p.Pk)
		want := []Service{{Outpost: o.Pk, OutpostName: "ldap", Provider: p.Pk, ProviderName: "nas", Since: 3, Serving: true, Interruptions: []int{}}}
		if diff := cmp.Diff(want, e.Sim.ServiceRecord("nas")); diff != "" {
			t.Errorf("service record: -want, +got:\n%s", diff)
		}
		got, _, err := e.c.ProvidersAPI.ProvidersLdapRetrieve(e.ctx, p.Pk).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"Outpost ldap"}, got.OutpostSet); diff != "" {
			t.Errorf("outpost_set: -want, +got:\n%s", diff)
		}
		if _, err := e.c.ProvidersAPI.ProvidersLdapDestroy(e.ctx, p.Pk).Execute(); err != nil {
			t.Fatal(err)
		}
		o2, _, err := e.c.OutpostsAPI.OutpostsInstancesRetrieve(e.ctx, o.Pk).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if len(o2.Providers) != 0 {
			t.Errorf("a deleted provider stays on the outpost: %v", o2.Providers)
		}
	})
}
