package authentiksim

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	api "goauthentik.io/api/v3"
)

func TestProxyProviderCreate(t *testing.T) {
	t.Parallel()
	missingFlow := "00000000-0000-4000-8000-000000000000"
	cases := map[string]struct {
		reason string
		setup  func(t *testing.T, e *env)
		req    func(e *env) *api.ProxyProviderRequest
		want   outcome
	}{
		"ProxyModeWithInternalHost": {
			reason: "A provider in the default proxy mode with an internal host is valid.",
			req:    func(e *env) *api.ProxyProviderRequest { return e.proxyRequest("app") },
			want:   outcome{Status: http.StatusCreated},
		},
		"ProxyModeWithoutInternalHost": {
			reason: "Mode proxy, the default, needs an internal host.",
			req: func(e *env) *api.ProxyProviderRequest {
				return api.NewProxyProviderRequest("app", e.authFlow, e.invFlow, "https://app.example.com")
			},
			want: fieldError("internal_host", msgInternalHostEmpty),
		},
		"ForwardAuthWithoutInternalHost": {
			reason: "Forward auth modes need no internal host.",
			req: func(e *env) *api.ProxyProviderRequest {
				r := api.NewProxyProviderRequest("app", e.authFlow, e.invFlow, "https://app.example.com")
				r.SetMode(api.PROXYMODE_FORWARD_SINGLE)
				return r
			},
			want: outcome{Status: http.StatusCreated},
		},
		"BasicAuthWithoutAttributes": {
			reason: "Basic auth needs both attribute names in the same request.",
			req: func(e *env) *api.ProxyProviderRequest {
				r := e.proxyRequest("app")
				r.SetBasicAuthEnabled(true)
				r.SetBasicAuthUserAttribute("user")
				return r
			},
			want: fieldError("basic_auth_enabled", msgBasicAuthAttrs),
		},
		"BasicAuthWithAttributes": {
			reason: "Basic auth with both attribute names is valid.",
			req: func(e *env) *api.ProxyProviderRequest {
				r := e.proxyRequest("app")
				r.SetBasicAuthEnabled(true)
				r.SetBasicAuthUserAttribute("user")
				r.SetBasicAuthPasswordAttribute("password")
				return r
			},
			want: outcome{Status: http.StatusCreated},
		},
		"NonHTTPExternalHost": {
			reason: "Hosts must be http or https URLs, although the schema's uri format allows any scheme.",
			req: func(e *env) *api.ProxyProviderRequest {
				r := e.proxyRequest("app")
				r.SetExternalHost("ftp://app.example.com")
				return r
			},
			want: fieldError("external_host", msgBadURL),
		},
		"HostsWithoutTLDIPAndPort": {
			reason: "Hosts without a top-level domain, IP addresses and ports are fine.",
			req: func(e *env) *api.ProxyProviderRequest {
				r := api.NewProxyProviderRequest("app", e.authFlow, e.invFlow, "http://app")
				r.SetInternalHost("http://10.0.0.7:8080")
				return r
			},
			want: outcome{Status: http.StatusCreated},
		},
		"DuplicateName": {
			reason: "Provider names are unique, with DRF's wording for the model Provider.",
			setup:  func(t *testing.T, e *env) { e.createProvider(t, "app") },
			req:    func(e *env) *api.ProxyProviderRequest { return e.proxyRequest("app") },
			want:   fieldError("name", "provider with this name already exists."),
		},
		"UnknownAuthorizationFlow": {
			reason: "Flows are foreign keys that must exist.",
			req: func(e *env) *api.ProxyProviderRequest {
				r := e.proxyRequest("app")
				r.SetAuthorizationFlow(missingFlow)
				return r
			},
			want: fieldError("authorization_flow", `Invalid pk "`+missingFlow+`" - object does not exist.`),
		},
		"BadTokenValidity": {
			reason: "Validities use Authentik's duration syntax.",
			req: func(e *env) *api.ProxyProviderRequest {
				r := e.proxyRequest("app")
				r.SetAccessTokenValidity("soon")
				return r
			},
			want: fieldError("access_token_validity", "soon is not in the correct format of 'hours=3;minutes=1'."),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			if tc.setup != nil {
				tc.setup(t, e)
			}
			_, resp, err := e.c.ProvidersAPI.ProvidersProxyCreate(e.ctx).ProxyProviderRequest(*tc.req(e)).Execute()
			if diff := cmp.Diff(tc.want, outcomeOf(t, resp, err)); diff != "" {
				t.Errorf("%s\nProvidersProxyCreate(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestProxyProviderServerRewrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fx := e.Sim.Fixtures()
	offline := fx.ScopeMappings["goauthentik.io/providers/oauth2/scope-offline_access"]
	wantDefaults := fx.DefaultScopeMappings
	if len(wantDefaults) != 5 || offline == "" {
		t.Fatalf("seeded scope mappings: %v", fx.ScopeMappings)
	}

	r := e.proxyRequest("app")
	r.SetPropertyMappings([]string{offline})
	created, _, err := e.c.ProvidersAPI.ProvidersProxyCreate(e.ctx).ProxyProviderRequest(*r).Execute()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	asSet := cmpopts.SortSlices(func(a, b string) bool { return a < b })
	if diff := cmp.Diff(append([]string{offline}, wantDefaults...), created.PropertyMappings, asSet); diff != "" {
		t.Errorf("create adds the default scope mappings to the user's: -want, +got:\n%s", diff)
	}
	if len(created.ClientId) != 40 {
		t.Errorf("client_id %q: want 40 characters", created.ClientId)
	}

	put := e.proxyRequest("app")
	put.SetExternalHost("https://moved.example.com/sub/")
	put.SetPropertyMappings([]string{})
	updated, _, err := e.c.ProvidersAPI.ProvidersProxyUpdate(e.ctx, created.Pk).ProxyProviderRequest(*put).Execute()
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if diff := cmp.Diff(wantDefaults, updated.PropertyMappings, asSet); diff != "" {
		t.Errorf("an update that clears the mappings gets the defaults back: -want, +got:\n%s", diff)
	}
	gotURIs := []string{}
	for _, u := range updated.RedirectUris {
		gotURIs = append(gotURIs, string(u.MatchingMode)+" "+u.Url)
	}
	wantURIs := []string{
		"strict https://moved.example.com/sub/outpost.goauthentik.io/callback?X-authentik-auth-callback=true",
		"strict https://moved.example.com/sub/?X-authentik-auth-callback=true",
	}
	if diff := cmp.Diff(wantURIs, gotURIs); diff != "" {
		t.Errorf("redirect_uris follow external_host on every save: -want, +got:\n%s", diff)
	}
}

func TestProxyProviderUpdate(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		put    func(e *env) *api.ProxyProviderRequest
		patch  func() *api.PatchedProxyProviderRequest
		id     func(stored int32) int32
		want   outcome
	}{
		"PatchWithoutModeOrInternalHost": {
			reason: "The mode check reads the request body only, so a PATCH of the name alone fails on a valid provider.",
			patch: func() *api.PatchedProxyProviderRequest {
				p := api.NewPatchedProxyProviderRequest()
				p.SetName("renamed")
				return p
			},
			want: fieldError("internal_host", msgInternalHostEmpty),
		},
		"PatchWithForwardMode": {
			reason: "A PATCH that carries a forward mode passes the mode check.",
			patch: func() *api.PatchedProxyProviderRequest {
				p := api.NewPatchedProxyProviderRequest()
				p.SetName("renamed")
				p.SetMode(api.PROXYMODE_FORWARD_DOMAIN)
				return p
			},
			want: outcome{Status: http.StatusOK},
		},
		"PatchWithInternalHost": {
			reason: "A PATCH that carries the internal host passes the mode check.",
			patch: func() *api.PatchedProxyProviderRequest {
				p := api.NewPatchedProxyProviderRequest()
				p.SetInternalHost("http://other:80")
				return p
			},
			want: outcome{Status: http.StatusOK},
		},
		"PatchBasicAuthWithStoredAttributes": {
			reason: "The basic-auth check reads the request body, not the stored attributes.",
			patch: func() *api.PatchedProxyProviderRequest {
				p := api.NewPatchedProxyProviderRequest()
				p.SetInternalHost("http://app:8080")
				p.SetBasicAuthEnabled(true)
				return p
			},
			want: fieldError("basic_auth_enabled", msgBasicAuthAttrs),
		},
		"PutFullObject": {
			reason: "A PUT with the full object is how clients should update.",
			put:    func(e *env) *api.ProxyProviderRequest { return e.proxyRequest("app") },
			want:   outcome{Status: http.StatusOK},
		},
		"PutTakenName": {
			reason: "Renaming to another provider's name is refused.",
			put:    func(e *env) *api.ProxyProviderRequest { return e.proxyRequest("other") },
			want:   fieldError("name", "provider with this name already exists."),
		},
		"PutMissingProvider": {
			reason: "Updating a provider that does not exist is a 404.",
			put:    func(e *env) *api.ProxyProviderRequest { return e.proxyRequest("app") },
			id:     func(stored int32) int32 { return stored + 100 },
			want:   detailError(http.StatusNotFound, "Not found."),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			r := e.proxyRequest("app")
			r.SetBasicAuthUserAttribute("user")
			r.SetBasicAuthPasswordAttribute("password")
			stored, _, err := e.c.ProvidersAPI.ProvidersProxyCreate(e.ctx).ProxyProviderRequest(*r).Execute()
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			e.createProvider(t, "other")
			id := stored.Pk
			if tc.id != nil {
				id = tc.id(id)
			}
			var got outcome
			if tc.put != nil {
				_, resp, err := e.c.ProvidersAPI.ProvidersProxyUpdate(e.ctx, id).ProxyProviderRequest(*tc.put(e)).Execute()
				got = outcomeOf(t, resp, err)
			} else {
				_, resp, err := e.c.ProvidersAPI.ProvidersProxyPartialUpdate(e.ctx, id).PatchedProxyProviderRequest(*tc.patch()).Execute()
				got = outcomeOf(t, resp, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestProxyProviderListRetrieveDestroy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bound := e.createProvider(t, "Bound")
	free := e.createProvider(t, "free")
	e.createApplication(t, "bound", &bound.Pk)

	cases := map[string]struct {
		reason string
		list   func(r api.ApiProvidersProxyListRequest) api.ApiProvidersProxyListRequest
		want   []string
	}{
		"All": {
			reason: "Providers are listed by name.",
			list:   func(r api.ApiProvidersProxyListRequest) api.ApiProvidersProxyListRequest { return r },
			want:   []string{"Bound", "free"},
		},
		"NameIexact": {
			reason: "name__iexact ignores case.",
			list: func(r api.ApiProvidersProxyListRequest) api.ApiProvidersProxyListRequest {
				return r.NameIexact("bound")
			},
			want: []string{"Bound"},
		},
		"WithoutApplication": {
			reason: "application__isnull finds providers no application uses.",
			list: func(r api.ApiProvidersProxyListRequest) api.ApiProvidersProxyListRequest {
				return r.ApplicationIsnull(true)
			},
			want: []string{"free"},
		},
		"Search": {
			reason: "search matches part of the name.",
			list: func(r api.ApiProvidersProxyListRequest) api.ApiProvidersProxyListRequest {
				return r.Search("fre")
			},
			want: []string{"free"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l, _, err := tc.list(e.c.ProvidersAPI.ProvidersProxyList(e.ctx)).Execute()
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			got := []string{}
			for _, p := range l.Results {
				got = append(got, p.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}

	got, _, err := e.c.ProvidersAPI.ProvidersProxyRetrieve(e.ctx, bound.Pk).Execute()
	if err != nil {
		t.Fatalf("retrieve: %v", err)
	}
	if diff := cmp.Diff(ptr("bound"), got.AssignedApplicationSlug.Get()); diff != "" {
		t.Errorf("assigned_application_slug: -want, +got:\n%s", diff)
	}
	if resp, err := e.c.ProvidersAPI.ProvidersProxyDestroy(e.ctx, free.Pk).Execute(); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("destroy: %v", err)
	}
	_, resp, err := e.c.ProvidersAPI.ProvidersProxyRetrieve(e.ctx, free.Pk).Execute()
	if diff := cmp.Diff(detailError(http.StatusNotFound, "Not found."), outcomeOf(t, resp, err)); diff != "" {
		t.Errorf("retrieve after destroy: -want, +got:\n%s", diff)
	}
}

func TestProxyProviderDestroyCascades(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	gone := e.createProvider(t, "gone")
	kept := e.createProvider(t, "kept")
	app := e.createApplication(t, "app", &gone.Pk)
	outpost := e.createOutpost(t, "outpost", gone.Pk, kept.Pk)

	if _, err := e.c.ProvidersAPI.ProvidersProxyDestroy(e.ctx, gone.Pk).Execute(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	o, _, err := e.c.OutpostsAPI.OutpostsInstancesRetrieve(e.ctx, outpost.Pk).Execute()
	if err != nil {
		t.Fatalf("retrieve outpost: %v", err)
	}
	if diff := cmp.Diff([]int32{kept.Pk}, o.Providers); diff != "" {
		t.Errorf("a deleted provider leaves every outpost's list: -want, +got:\n%s", diff)
	}
	a, _, err := e.c.CoreAPI.CoreApplicationsRetrieve(e.ctx, app.Slug).Execute()
	if err != nil {
		t.Fatalf("retrieve application: %v", err)
	}
	if a.Provider.Get() != nil || a.ProviderObj.Get() != nil {
		t.Errorf("a deleted provider's application keeps provider %v; want null", a.Provider.Get())
	}
}
