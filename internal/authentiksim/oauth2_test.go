package authentiksim

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
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
