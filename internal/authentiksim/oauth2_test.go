package authentiksim

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	api "goauthentik.io/api/v3"
)

func (e *env) oauth2Request(name string) *api.OAuth2ProviderRequest {
	return api.NewOAuth2ProviderRequest(name, e.authFlow, e.invFlow, []api.RedirectURIRequest{*api.NewRedirectURIRequest(api.MATCHINGMODEENUM_STRICT, "https://"+name+".example.com/callback")})
}

func (e *env) createOAuth2(t *testing.T, name string) *api.OAuth2Provider {
	t.Helper()
	p, _, err := e.c.ProvidersAPI.ProvidersOauth2Create(e.ctx).OAuth2ProviderRequest(*e.oauth2Request(name)).Execute()
	if err != nil {
		t.Fatalf("create OAuth2 provider %s: %v", name, err)
	}
	return p
}

// TestProviderNamesAcrossTypes: Provider.name is unique over every provider
// type, so a proxy provider cannot take an OAuth2 provider's name nor the
// other way round.
func TestProviderNamesAcrossTypes(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		first  func(t *testing.T, e *env)
		second func(e *env) (*http.Response, error)
		want   outcome
	}{
		"ProxyAfterOAuth2": {
			reason: "A proxy provider named like an OAuth2 provider is refused on name.",
			first:  func(t *testing.T, e *env) { e.createOAuth2(t, "grafana") },
			second: func(e *env) (*http.Response, error) {
				_, resp, err := e.c.ProvidersAPI.ProvidersProxyCreate(e.ctx).ProxyProviderRequest(*e.proxyRequest("grafana")).Execute()
				return resp, err
			},
			want: fieldError("name", "provider with this name already exists."),
		},
		"OAuth2AfterProxy": {
			reason: "An OAuth2 provider named like a proxy provider is refused on name.",
			first:  func(t *testing.T, e *env) { e.createProvider(t, "grafana") },
			second: func(e *env) (*http.Response, error) {
				_, resp, err := e.c.ProvidersAPI.ProvidersOauth2Create(e.ctx).OAuth2ProviderRequest(*e.oauth2Request("grafana")).Execute()
				return resp, err
			},
			want: fieldError("name", "provider with this name already exists."),
		},
		"DifferentNames": {
			reason: "Different names of different types coexist.",
			first:  func(t *testing.T, e *env) { e.createProvider(t, "grafana") },
			second: func(e *env) (*http.Response, error) {
				_, resp, err := e.c.ProvidersAPI.ProvidersOauth2Create(e.ctx).OAuth2ProviderRequest(*e.oauth2Request("grafana-oidc")).Execute()
				return resp, err
			},
			want: outcome{Status: http.StatusCreated},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			tc.first(t, e)
			resp, err := tc.second(e)
			if diff := cmp.Diff(tc.want, outcomeOf(t, resp, err)); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestAllProvidersList: /providers/all/ lists every type, each with the
// component that tells its kind, and searches names.
func TestAllProvidersList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	proxy := e.createProvider(t, "longhorn-proxy")
	oauth := e.createOAuth2(t, "longhorn-oidc")
	e.createProvider(t, "grafana")
	e.createApplication(t, "longhorn", &oauth.Pk)

	type row struct {
		PK        int32
		Name      string
		Component string
		App       string
	}
	list := func(search string) []row {
		l, _, err := e.c.ProvidersAPI.ProvidersAllList(e.ctx).Search(search).Execute()
		if err != nil {
			t.Fatalf("list all providers: %v", err)
		}
		out := []row{}
		for _, p := range l.Results {
			out = append(out, row{PK: p.Pk, Name: p.Name, Component: p.Component, App: p.GetAssignedApplicationSlug()})
		}
		return out
	}
	want := []row{
		{PK: proxy.Pk, Name: "longhorn-proxy", Component: "ak-provider-proxy-form"},
		{PK: oauth.Pk, Name: "longhorn-oidc", Component: "ak-provider-oauth2-form", App: "longhorn"},
	}
	if diff := cmp.Diff(want, list("longhorn")); diff != "" {
		t.Errorf("search longhorn: -want, +got:\n%s", diff)
	}
	got, _, err := e.c.ProvidersAPI.ProvidersAllRetrieve(e.ctx, oauth.Pk).Execute()
	if err != nil {
		t.Fatalf("retrieve: %v", err)
	}
	if diff := cmp.Diff("authentik_providers_oauth2.oauth2provider", got.MetaModelName); diff != "" {
		t.Errorf("retrieve by pk: -want, +got:\n%s", diff)
	}
	if _, err := e.c.ProvidersAPI.ProvidersOauth2Destroy(e.ctx, oauth.Pk).Execute(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if diff := cmp.Diff(want[:1], list("longhorn")); diff != "" {
		t.Errorf("after deleting the OAuth2 provider: -want, +got:\n%s", diff)
	}
}

// TestServiceRecord: the record notices every write after which an outpost
// stopped serving a provider, however soon it served it again.
func TestServiceRecord(t *testing.T) {
	t.Parallel()
	keep := func(t *testing.T, e *env, s *scenario) {
		p := api.NewPatchedOutpostRequest()
		p.SetProviders([]int32{s.provider.Pk})
		if _, _, err := e.c.OutpostsAPI.OutpostsInstancesPartialUpdate(e.ctx, s.outpost).PatchedOutpostRequest(*p).Execute(); err != nil {
			t.Fatalf("write the same list: %v", err)
		}
	}
	deleteApp := func(t *testing.T, e *env, s *scenario) {
		if _, err := e.c.CoreAPI.CoreApplicationsDestroy(e.ctx, s.app.Slug).Execute(); err != nil {
			t.Fatalf("delete application: %v", err)
		}
	}
	cases := map[string]struct {
		reason string
		steps  []step
		// want is the interruptions, numbered from the first step's write.
		want    []int
		serving bool
	}{
		"ServedThroughout": {
			reason:  "Writing the outpost's list with the provider still on it is no interruption.",
			steps:   []step{createProviderStep, createAppStep, attachStep, keep, keep},
			want:    []int{},
			serving: true,
		},
		"DetachedAndAttachedAgain": {
			reason:  "Taking the provider off and putting it back is one interruption, at the detaching write.",
			steps:   []step{createProviderStep, createAppStep, attachStep, detachStep, attachStep},
			want:    []int{4},
			serving: true,
		},
		"ApplicationRemade": {
			reason:  "Deleting the application stops the service although the provider stays on the list.",
			steps:   []step{createProviderStep, createAppStep, attachStep, deleteApp, createAppStep},
			want:    []int{4},
			serving: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			s := &scenario{outpost: e.embeddedOutpost(t).Pk}
			base := e.Sim.Writes()
			for _, st := range tc.steps {
				st(t, e, s)
			}
			r := e.Sim.ServiceRecord("svc")
			if len(r) != 1 {
				t.Fatalf("ServiceRecord(svc): want one outpost, got %+v", r)
			}
			got := []int{}
			for _, w := range r[0].Interruptions {
				got = append(got, w-base)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\ninterruptions: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.serving, r[0].Serving); diff != "" {
				t.Errorf("%s\nserving now: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// oauth2RequestWith is oauth2Request with the given redirect URIs.
func (e *env) oauth2RequestWith(name string, uris ...api.RedirectURIRequest) *api.OAuth2ProviderRequest {
	return api.NewOAuth2ProviderRequest(name, e.authFlow, e.invFlow, uris)
}

func (e *env) createOAuth2From(t *testing.T, r *api.OAuth2ProviderRequest) *api.OAuth2Provider {
	t.Helper()
	p, _, err := e.c.ProvidersAPI.ProvidersOauth2Create(e.ctx).OAuth2ProviderRequest(*r).Execute()
	if err != nil {
		t.Fatalf("create OAuth2 provider %s: %v", r.Name, err)
	}
	return p
}

func TestOAuth2ProviderDefaults(t *testing.T) {
	t.Parallel()
	// What a provider created with only the required fields holds, at
	// every line: OAuth2Provider's model defaults.
	type defaults struct {
		ClientType, AccessCode, AccessToken, RefreshToken, SubMode, IssuerMode string
		IncludeClaims                                                          bool
		ClientIDLength, SecretLength, Mappings                                 int
		RedirectURIs                                                           []api.RedirectURI
	}
	want := defaults{
		ClientType: "confidential", AccessCode: "minutes=1", AccessToken: "hours=1", RefreshToken: "days=30",
		SubMode: "hashed_user_id", IssuerMode: "per_provider", IncludeClaims: true,
		ClientIDLength: 40, SecretLength: 128,
		RedirectURIs: []api.RedirectURI{{MatchingMode: api.MATCHINGMODEENUM_STRICT, Url: "https://wiki.example.com/callback", RedirectUriType: ptr(api.REDIRECTURITYPEENUM_AUTHORIZATION)}},
	}
	for _, l := range LineNames() {
		t.Run(l, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.testServer = newTest(t, Options{Token: testToken, AuthentikVersion: l})
			e.c = newClient(e.URL, testToken)
			// Older lines' flows do not decode with the strict client.
			fx := e.Sim.Fixtures()
			e.authFlow, e.invFlow = fx.Flows[slugImplicitConsent], fx.Flows[slugProviderLogout]
			p := e.createOAuth2From(t, e.oauth2Request("wiki"))
			got := defaults{
				ClientType: string(p.GetClientType()), AccessCode: p.GetAccessCodeValidity(), AccessToken: p.GetAccessTokenValidity(),
				RefreshToken: p.GetRefreshTokenValidity(), SubMode: string(p.GetSubMode()), IssuerMode: string(p.GetIssuerMode()),
				IncludeClaims: p.GetIncludeClaimsInIdToken(), ClientIDLength: len(p.GetClientId()), SecretLength: len(p.GetClientSecret()),
				Mappings: len(p.PropertyMappings), RedirectURIs: p.RedirectUris,
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("a new OAuth2 provider (-want, +got):\n%s", diff)
			}
		})
	}
}

func TestOAuth2ProviderRules(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		setup  func(t *testing.T, e *env)
		req    func(e *env) *api.OAuth2ProviderRequest
		want   outcome
	}{
		"Valid": {
			reason: "A provider with every managed field set is created.",
			req: func(e *env) *api.OAuth2ProviderRequest {
				r := e.oauth2RequestWith("wiki", *api.NewRedirectURIRequest(api.MATCHINGMODEENUM_REGEX, `https://wiki\.example\.com/.*`))
				r.SetClientType(api.CLIENTTYPEENUM_PUBLIC)
				r.SetClientId("wiki")
				r.SetClientSecret("s3cret")
				r.SetSigningKey(e.Sim.Fixtures().Certificate)
				r.PropertyMappings = []string{e.Sim.Fixtures().ScopeMappings["goauthentik.io/providers/oauth2/scope-openid"]}
				r.SetSubMode(api.SUBMODEENUM_USER_EMAIL)
				r.SetIssuerMode(api.ISSUERMODEENUM_GLOBAL)
				r.SetAccessTokenValidity("minutes=5")
				return r
			},
			want: outcome{Status: http.StatusCreated},
		},
		"BadRegex": {
			reason: "validate_redirect_uris compiles regex-mode URIs (authentik/providers/oauth2/api/providers.py).",
			req: func(e *env) *api.OAuth2ProviderRequest {
				return e.oauth2RequestWith("wiki", *api.NewRedirectURIRequest(api.MATCHINGMODEENUM_REGEX, "https://(wiki"))
			},
			want: fieldError("redirect_uris", "Invalid Regex Pattern: https://(wiki"),
		},
		"StrictURIIsNotARegex": {
			reason: "Strict URIs are not compiled.",
			req: func(e *env) *api.OAuth2ProviderRequest {
				return e.oauth2RequestWith("wiki", *api.NewRedirectURIRequest(api.MATCHINGMODEENUM_STRICT, "https://(wiki"))
			},
			want: outcome{Status: http.StatusCreated},
		},
		"ClientIDTaken": {
			reason: "OAuth2Provider.client_id is unique.",
			setup: func(t *testing.T, e *env) {
				r := e.oauth2Request("first")
				r.SetClientId("wiki")
				e.createOAuth2From(t, r)
			},
			req: func(e *env) *api.OAuth2ProviderRequest {
				r := e.oauth2Request("wiki")
				r.SetClientId("wiki")
				return r
			},
			want: fieldError("client_id", msgClientIDTaken),
		},
		"BadValidity": {
			reason: "Token validities are timedelta strings (authentik/lib/utils/time.py).",
			req: func(e *env) *api.OAuth2ProviderRequest {
				r := e.oauth2Request("wiki")
				r.SetRefreshTokenValidity("forever")
				return r
			},
			want: fieldError("refresh_token_validity", fmt.Sprintf(msgBadTimedelta, "forever")),
		},
		"UnknownSigningKey": {
			reason: "signing_key must name a key pair.",
			req: func(e *env) *api.OAuth2ProviderRequest {
				r := e.oauth2Request("wiki")
				r.SetSigningKey("00000000-0000-4000-8000-000000000000")
				return r
			},
			want: fieldError("signing_key", fmt.Sprintf(msgNoObject, "00000000-0000-4000-8000-000000000000")),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			if tc.setup != nil {
				tc.setup(t, e)
			}
			_, resp, err := e.c.ProvidersAPI.ProvidersOauth2Create(e.ctx).OAuth2ProviderRequest(*tc.req(e)).Execute()
			if diff := cmp.Diff(tc.want, outcomeOf(t, resp, err)); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestOAuth2ProviderInApplication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.createOAuth2From(t, e.oauth2RequestWith("grafana", *api.NewRedirectURIRequest(api.MATCHINGMODEENUM_STRICT, "https://grafana.example.com/login/generic_oauth?x=1")))
	a := e.createApplication(t, "grafana", &p.Pk)
	got, _, err := e.c.ProvidersAPI.ProvidersOauth2Retrieve(e.ctx, p.Pk).Execute()
	if err != nil {
		t.Fatal(err)
	}
	type view struct{ Component, LaunchURL, AssignedSlug string }
	want := view{Component: "ak-provider-oauth2-form", LaunchURL: "https://grafana.example.com?x=1", AssignedSlug: "grafana"}
	if diff := cmp.Diff(want, view{Component: a.ProviderObj.Get().Component, LaunchURL: a.GetLaunchUrl(), AssignedSlug: got.GetAssignedApplicationSlug()}); diff != "" {
		t.Errorf("an application of an OAuth2 provider (-want, +got):\n%s", diff)
	}

	// Deleting the authorization flow deletes its providers (CASCADE).
	f := e.createFlowForTest(t, "oauth-authz")
	r := e.oauth2Request("cascade")
	r.AuthorizationFlow = f
	c := e.createOAuth2From(t, r)
	if _, err := e.c.FlowsAPI.FlowsInstancesDestroy(e.ctx, "oauth-authz").Execute(); err != nil {
		t.Fatal(err)
	}
	if _, resp, _ := e.c.ProvidersAPI.ProvidersOauth2Retrieve(e.ctx, c.Pk).Execute(); resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("the OAuth2 provider of a deleted authorization flow is still there")
	}
}

func (e *env) createFlowForTest(t *testing.T, slug string) string {
	t.Helper()
	f, _, err := e.c.FlowsAPI.FlowsInstancesCreate(e.ctx).FlowRequest(*api.NewFlowRequest(slug, slug, slug, api.FLOWDESIGNATIONENUM_AUTHORIZATION)).Execute()
	if err != nil {
		t.Fatal(err)
	}
	return f.Pk
}

func TestCatalogLists(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fx := e.Sim.Fixtures()
	l, _, err := e.c.PropertymappingsAPI.PropertymappingsProviderScopeList(e.ctx).
		Managed([]string{"goauthentik.io/providers/oauth2/scope-openid", "goauthentik.io/providers/oauth2/scope-email"}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	var scopes []string
	for _, m := range l.Results {
		scopes = append(scopes, m.ScopeName+"="+m.Pk)
	}
	want := []string{"email=" + fx.ScopeMappings["goauthentik.io/providers/oauth2/scope-email"], "openid=" + fx.ScopeMappings["goauthentik.io/providers/oauth2/scope-openid"]}
	if diff := cmp.Diff(want, scopes); diff != "" {
		t.Errorf("scope mappings by managed key (-want, +got):\n%s", diff)
	}
	k, _, err := e.c.CryptoAPI.CryptoCertificatekeypairsList(e.ctx).Name(seededCertificateName).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Results) != 1 || k.Results[0].Pk != fx.Certificate {
		t.Errorf("key pairs named %q: %+v, want the seeded one", seededCertificateName, k.Results)
	}
}
