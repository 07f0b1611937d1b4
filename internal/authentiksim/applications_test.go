package authentiksim

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
)

func TestApplicationCreate(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		req    func(t *testing.T, e *env) *api.ApplicationRequest
		want   outcome
	}{
		"WithProvider": {
			reason: "An application with a free provider is valid.",
			req: func(t *testing.T, e *env) *api.ApplicationRequest {
				r := api.NewApplicationRequest("App", "app")
				r.SetProvider(e.createProvider(t, "p").Pk)
				return r
			},
			want: outcome{Status: http.StatusCreated},
		},
		"ReservedSlug": {
			reason: "Slugs that clash with OAuth2 endpoints are reserved.",
			req: func(*testing.T, *env) *api.ApplicationRequest {
				return api.NewApplicationRequest("App", "authorize")
			},
			want: fieldError("slug", "The slug 'authorize' is reserved and cannot be used for applications."),
		},
		"DuplicateSlug": {
			reason: "Slugs are unique.",
			req: func(t *testing.T, e *env) *api.ApplicationRequest {
				e.createApplication(t, "app", nil)
				return api.NewApplicationRequest("Other", "app")
			},
			want: fieldError("slug", "Application with this slug already exists."),
		},
		"DuplicateNameIsFine": {
			reason: "Application names are not unique.",
			req: func(t *testing.T, e *env) *api.ApplicationRequest {
				e.createApplication(t, "first", nil)
				return api.NewApplicationRequest("App first", "second")
			},
			want: outcome{Status: http.StatusCreated},
		},
		"ProviderTaken": {
			reason: "One application per provider.",
			req: func(t *testing.T, e *env) *api.ApplicationRequest {
				p := e.createProvider(t, "p")
				e.createApplication(t, "first", &p.Pk)
				r := api.NewApplicationRequest("Second", "second")
				r.SetProvider(p.Pk)
				return r
			},
			want: fieldError("provider", "Application with this provider already exists."),
		},
		"MissingProvider": {
			reason: "The provider must exist.",
			req: func(*testing.T, *env) *api.ApplicationRequest {
				r := api.NewApplicationRequest("App", "app")
				r.SetProvider(42)
				return r
			},
			want: fieldError("provider", `Invalid pk "42" - object does not exist.`),
		},
		"NonHTTPLaunchURL": {
			reason: "meta_launch_url takes any absolute URL, with %(field)s placeholders.",
			req: func(*testing.T, *env) *api.ApplicationRequest {
				r := api.NewApplicationRequest("App", "app")
				r.SetMetaLaunchUrl("ssh://%(username)s@host.example.com")
				return r
			},
			want: outcome{Status: http.StatusCreated},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			_, resp, err := e.c.CoreAPI.CoreApplicationsCreate(e.ctx).ApplicationRequest(*tc.req(t, e)).Execute()
			if diff := cmp.Diff(tc.want, outcomeOf(t, resp, err)); diff != "" {
				t.Errorf("%s\nCoreApplicationsCreate(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestApplicationUpdate(t *testing.T) {
	t.Parallel()
	type result struct {
		Slug      string
		Provider  *int32
		LaunchURL *string
	}
	cases := map[string]struct {
		reason string
		call   func(e *env, provider int32) (*api.Application, *http.Response, error)
		want   result
	}{
		"PutWithoutProviderKeepsIt": {
			reason: "DRF updates only the fields in the body, for PUT as for PATCH.",
			call: func(e *env, _ int32) (*api.Application, *http.Response, error) {
				return e.c.CoreAPI.CoreApplicationsUpdate(e.ctx, "app").ApplicationRequest(*api.NewApplicationRequest("App", "app")).Execute()
			},
			want: result{Slug: "app", Provider: ptr(int32(1)), LaunchURL: ptr("https://p.example.com")},
		},
		"PatchNullProviderDetaches": {
			reason: "Sending null detaches the provider.",
			call: func(e *env, _ int32) (*api.Application, *http.Response, error) {
				p := api.NewPatchedApplicationRequest()
				p.SetProviderNil()
				return e.c.CoreAPI.CoreApplicationsPartialUpdate(e.ctx, "app").PatchedApplicationRequest(*p).Execute()
			},
			want: result{Slug: "app"},
		},
		"PatchSlug": {
			reason: "The slug can change; the application is then found under the new one.",
			call: func(e *env, _ int32) (*api.Application, *http.Response, error) {
				p := api.NewPatchedApplicationRequest()
				p.SetSlug("renamed")
				p.SetMetaLaunchUrl("https://launch.example.com")
				return e.c.CoreAPI.CoreApplicationsPartialUpdate(e.ctx, "app").PatchedApplicationRequest(*p).Execute()
			},
			want: result{Slug: "renamed", Provider: ptr(int32(1)), LaunchURL: ptr("https://launch.example.com")},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			p := e.createProvider(t, "p")
			e.createApplication(t, "app", &p.Pk)
			a, _, err := tc.call(e, p.Pk)
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			got := result{Slug: a.Slug, Provider: a.Provider.Get(), LaunchURL: a.LaunchUrl.Get()}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			if _, _, err := e.c.CoreAPI.CoreApplicationsRetrieve(e.ctx, tc.want.Slug).Execute(); err != nil {
				t.Errorf("retrieve by slug %q: %v", tc.want.Slug, err)
			}
		})
	}
}

func TestApplicationDestroyCascades(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.createProvider(t, "p")
	app := e.createApplication(t, "app", &p.Pk)
	other := e.createApplication(t, "other", nil)
	g := e.createGroup(t, "admins")
	gone := e.bindGroup(t, app.Pk, g.Pk, 0)
	kept := e.bindGroup(t, other.Pk, g.Pk, 0)

	if _, err := e.c.CoreAPI.CoreApplicationsDestroy(e.ctx, "app").Execute(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	_, resp, err := e.c.PoliciesAPI.PoliciesBindingsRetrieve(e.ctx, gone.Pk).Execute()
	if diff := cmp.Diff(detailError(http.StatusNotFound, "Not found."), outcomeOf(t, resp, err)); diff != "" {
		t.Errorf("the deleted application's binding: -want, +got:\n%s", diff)
	}
	if _, _, err := e.c.PoliciesAPI.PoliciesBindingsRetrieve(e.ctx, kept.Pk).Execute(); err != nil {
		t.Errorf("another application's binding: %v", err)
	}
	got, _, err := e.c.ProvidersAPI.ProvidersProxyRetrieve(e.ctx, p.Pk).Execute()
	if err != nil {
		t.Fatalf("the provider outlives its application: %v", err)
	}
	if got.AssignedApplicationSlug.Get() != nil {
		t.Errorf("assigned_application_slug %q after the application is gone; want null", *got.AssignedApplicationSlug.Get())
	}
}

func TestApplicationListIsFilteredByAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	open := e.createApplication(t, "open", nil)
	restricted := e.createApplication(t, "restricted", nil)
	negated := e.createApplication(t, "negated", nil)
	g := e.createGroup(t, "staff")
	e.bindGroup(t, restricted.Pk, g.Pk, 0)
	r := api.NewPolicyBindingRequest(negated.Pk, 0)
	r.SetGroup(g.Pk)
	r.SetNegate(true)
	if _, _, err := e.c.PoliciesAPI.PoliciesBindingsCreate(e.ctx).PolicyBindingRequest(*r).Execute(); err != nil {
		t.Fatalf("bind: %v", err)
	}
	_ = open

	cases := map[string]struct {
		reason string
		full   *bool
		want   []string
	}{
		"Default": {
			reason: "The token's user is in no group, so an application bound to a group is hidden from the list.",
			want:   []string{"negated", "open"},
		},
		"SuperuserFullList": {
			reason: "A superuser asking for the full list sees every application.",
			full:   ptr(true),
			want:   []string{"negated", "open", "restricted"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := e.c.CoreAPI.CoreApplicationsList(e.ctx)
			if tc.full != nil {
				req = req.SuperuserFullList(*tc.full)
			}
			l, _, err := req.Execute()
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			got := []string{}
			for _, a := range l.Results {
				got = append(got, a.Slug)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
	if _, _, err := e.c.CoreAPI.CoreApplicationsRetrieve(e.ctx, "restricted").Execute(); err != nil {
		t.Errorf("retrieve by slug finds what the list hides: %v", err)
	}
}

func TestApplicationBackchannelProviders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	main := e.createProvider(t, "main")
	side := e.createProvider(t, "side")
	r := api.NewApplicationRequest("App", "app")
	r.SetProvider(main.Pk)
	r.SetBackchannelProviders([]int32{side.Pk})
	a, _, err := e.c.CoreAPI.CoreApplicationsCreate(e.ctx).ApplicationRequest(*r).Execute()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if diff := cmp.Diff([]int32{side.Pk}, a.BackchannelProviders); diff != "" {
		t.Errorf("backchannel_providers: -want, +got:\n%s", diff)
	}
	got, _, err := e.c.ProvidersAPI.ProvidersProxyRetrieve(e.ctx, side.Pk).Execute()
	if err != nil {
		t.Fatalf("retrieve: %v", err)
	}
	if diff := cmp.Diff(ptr("app"), got.AssignedBackchannelApplicationSlug.Get()); diff != "" {
		t.Errorf("assigned_backchannel_application_slug: -want, +got:\n%s", diff)
	}
	// Provider.backchannel_application is on_delete=CASCADE.
	if _, err := e.c.CoreAPI.CoreApplicationsDestroy(e.ctx, "app").Execute(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	_, resp, err := e.c.ProvidersAPI.ProvidersProxyRetrieve(e.ctx, side.Pk).Execute()
	if diff := cmp.Diff(detailError(http.StatusNotFound, "Not found."), outcomeOf(t, resp, err)); diff != "" {
		t.Errorf("a backchannel provider goes with its application: -want, +got:\n%s", diff)
	}
	if _, _, err := e.c.ProvidersAPI.ProvidersProxyRetrieve(e.ctx, main.Pk).Execute(); err != nil {
		t.Errorf("the main provider stays: %v", err)
	}
}
