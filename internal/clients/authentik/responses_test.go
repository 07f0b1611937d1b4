package authentik_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"

	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim/simtest"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// TestReadsEveryLine reads what the controllers read from a simulator of
// each release line: every answer decodes, although older lines leave out
// keys the generated client requires.
func TestReadsEveryLine(t *testing.T) {
	t.Parallel()
	for _, line := range authentiksim.Lines {
		t.Run(line.Name, func(t *testing.T) {
			t.Parallel()
			sim := simtest.New(t, mrtest.Token, simtest.WithAuthentikVersion(line.Name))
			c, err := authentik.New(authentik.Config{URL: sim.URL, Token: mrtest.Token}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			calls := map[string]func() (*http.Response, error){
				"flow": func() (*http.Response, error) {
					_, resp, err := c.API.FlowsAPI.FlowsInstancesRetrieve(ctx, authentik.DefaultInvalidationFlow).Execute()
					return resp, err
				},
				"flows": func() (*http.Response, error) {
					_, resp, err := c.API.FlowsAPI.FlowsInstancesList(ctx).Execute()
					return resp, err
				},
				"group create": func() (*http.Response, error) {
					_, resp, err := c.API.CoreAPI.CoreGroupsCreate(ctx).GroupRequest(*api.NewGroupRequest("ops")).Execute()
					return resp, err
				},
				"groups": func() (*http.Response, error) {
					_, resp, err := c.API.CoreAPI.CoreGroupsList(ctx).Execute()
					return resp, err
				},
				"application create": func() (*http.Response, error) {
					_, resp, err := c.API.CoreAPI.CoreApplicationsCreate(ctx).ApplicationRequest(*api.NewApplicationRequest("Wiki", "wiki")).Execute()
					return resp, err
				},
				"applications": func() (*http.Response, error) {
					_, resp, err := c.API.CoreAPI.CoreApplicationsList(ctx).Execute()
					return resp, err
				},
				"outposts": func() (*http.Response, error) {
					_, resp, err := c.API.OutpostsAPI.OutpostsInstancesList(ctx).Execute()
					return resp, err
				},
				"version": func() (*http.Response, error) {
					_, resp, err := c.API.AdminAPI.AdminVersionRetrieve(ctx).Execute()
					return resp, err
				},
			}
			for _, name := range []string{"flow", "flows", "group create", "groups", "application create", "applications", "outposts", "version"} {
				if err := authentik.Classify(calls[name]()); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
		})
	}
}

func TestTolerantReads(t *testing.T) {
	t.Parallel()
	type want struct {
		err        string
		unreadable bool
		fields     map[string]string
	}
	cases := map[string]struct {
		reason string
		op     string
		fault  authentiksim.Fault
		call   func(ctx context.Context, c *authentik.Client, proxyPK int32) (*http.Response, error)
		paths  map[string]string
		// kind is the kind of resource the client works for.
		kind string
		want want
	}{
		"UnknownKey": {
			reason: "A key the client does not know is kept aside, not refused.",
			op:     "providers_proxy_retrieve",
			fault:  authentiksim.Fault{Rewrite: authentiksim.RewriteObjects(func(o map[string]any) { o["shiny_new_feature"] = map[string]any{"on": true} })},
			call:   getProxy,
		},
		"MissingUnneededKey": {
			reason: "A required key the provider does not use may be missing.",
			op:     "providers_proxy_retrieve",
			fault:  authentiksim.Fault{Rewrite: authentiksim.RewriteObjects(func(o map[string]any) { delete(o, "client_id"); delete(o, "redirect_uris") })},
			call:   getProxy,
		},
		"UnknownEnumInUnmanagedField": {
			reason: "An enum value the client does not know, in a field the provider does not manage, is no error.",
			op:     "flows_instances_list",
			fault:  authentiksim.Fault{Rewrite: authentiksim.RewriteObjects(func(o map[string]any) { o["layout"] = "hologram"; o["designation"] = "teleportation" })},
			call: func(ctx context.Context, c *authentik.Client, _ int32) (*http.Response, error) {
				_, resp, err := c.API.FlowsAPI.FlowsInstancesList(ctx).Execute()
				return resp, err
			},
		},
		"UnknownEnumInNestedUnmanagedField": {
			reason: "The same holds inside nested objects.",
			op:     "providers_proxy_retrieve",
			fault: authentiksim.Fault{Rewrite: authentiksim.RewriteObjects(func(o map[string]any) {
				o["redirect_uris"] = []any{map[string]any{"matching_mode": "fuzzy", "url": "https://x.example.com"}}
			})},
			call: getProxy,
		},
		"UnknownEnumInManagedField": {
			reason: "An unknown mode fails, naming the field by the resource's path and the value.",
			op:     "providers_proxy_retrieve",
			fault:  authentiksim.Fault{Rewrite: authentiksim.RewriteObjects(func(o map[string]any) { o["mode"] = "sideways" })},
			call:   getProxy,
			paths:  map[string]string{"mode": "spec.forProvider.mode"},
			want: want{
				unreadable: true,
				fields:     map[string]string{"mode": `Authentik answered "sideways", which this provider does not know (it knows proxy, forward_single, forward_domain)`},
				err:        `spec.forProvider.mode (mode): Authentik answered "sideways", which this provider does not know (it knows proxy, forward_single, forward_domain); cannot read Authentik's answer to GET /api/v3/providers/proxy/1/ (200): sideways is not a valid ProxyMode`,
			},
		},
		"UnknownEnumInAnotherModelsField": {
			reason: "A PolicyBinding's client reads applications but manages none of their fields.",
			op:     "core_applications_list",
			kind:   "PolicyBinding",
			fault:  authentiksim.Fault{Rewrite: authentiksim.RewriteObjects(func(o map[string]any) { o["policy_engine_mode"] = "most" })},
			call:   listApplications,
		},
		"UnknownEnumInOwnModelsField": {
			reason: "An Application's client manages the policy engine mode.",
			op:     "core_applications_list",
			kind:   "Application",
			fault:  authentiksim.Fault{Rewrite: authentiksim.RewriteObjects(func(o map[string]any) { o["policy_engine_mode"] = "most" })},
			call:   listApplications,
			want: want{
				unreadable: true,
				fields:     map[string]string{"policy_engine_mode": `Authentik answered "most", which this provider does not know (it knows all, any)`},
				err:        `policy_engine_mode: Authentik answered "most", which this provider does not know (it knows all, any); cannot read Authentik's answer to GET /api/v3/core/applications/ (200): most is not a valid PolicyEngineMode`,
			},
		},
		"MissingNeededKey": {
			reason: "A key the provider needs may not be missing.",
			op:     "providers_proxy_retrieve",
			fault:  authentiksim.Fault{Rewrite: authentiksim.RewriteObjects(func(o map[string]any) { delete(o, "external_host") })},
			call:   getProxy,
			want: want{
				unreadable: true,
				fields:     map[string]string{"external_host": "Authentik's answer lacks it"},
				err:        `external_host: Authentik's answer lacks it; cannot read Authentik's answer to GET /api/v3/providers/proxy/1/ (200): no value given for required property external_host`,
			},
		},
		"UndecodableCreate": {
			reason: "A 201 that cannot be read reports the decode error and the operation, not field errors.",
			op:     "core_groups_create",
			fault:  authentiksim.Fault{Rewrite: func(b []byte) []byte { return b[:len(b)/2] }},
			call: func(ctx context.Context, c *authentik.Client, _ int32) (*http.Response, error) {
				_, resp, err := c.API.CoreAPI.CoreGroupsCreate(ctx).GroupRequest(*api.NewGroupRequest("ops")).Execute()
				return resp, err
			},
			want: want{
				unreadable: true,
				err:        "cannot read Authentik's answer to POST /api/v3/core/groups/ (201): unexpected end of JSON input",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sim := simtest.New(t, mrtest.Token)
			c, err := authentik.New(authentik.Config{URL: sim.URL, Token: mrtest.Token, Kind: tc.kind}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			p := newProxy(t, sim, c)
			if _, _, err := c.API.CoreAPI.CoreApplicationsCreate(ctx).ApplicationRequest(*api.NewApplicationRequest("Wiki", "wiki")).Execute(); err != nil {
				t.Fatal(err)
			}
			sim.SetFault(tc.op, tc.fault)
			err = authentik.WithFieldPaths(authentik.Classify(tc.call(ctx, c, p)), tc.paths)
			got := want{unreadable: authentik.IsUnreadableResponse(err)}
			if err != nil {
				got.err = err.Error()
			}
			var de *authentik.DecodeError
			if errors.As(err, &de) {
				got.fields = de.Fields
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			if got.unreadable != authentik.CreateMayHaveSucceeded(err) {
				t.Errorf("%s\nan unreadable 2xx must count as a create that may have succeeded", tc.reason)
			}
		})
	}
}

func listApplications(ctx context.Context, c *authentik.Client, _ int32) (*http.Response, error) {
	_, resp, err := c.API.CoreAPI.CoreApplicationsList(ctx).Execute()
	return resp, err
}

func getProxy(ctx context.Context, c *authentik.Client, pk int32) (*http.Response, error) {
	_, resp, err := c.API.ProvidersAPI.ProvidersProxyRetrieve(ctx, pk).Execute()
	return resp, err
}

func newProxy(t *testing.T, sim *simtest.Server, c *authentik.Client) int32 {
	t.Helper()
	fx := sim.Fixtures()
	r := api.NewProxyProviderRequest("wiki", fx.Flows[authentik.DefaultAuthorizationFlow], fx.Flows[authentik.DefaultInvalidationFlow], "https://wiki.example.com")
	r.SetInternalHost("http://wiki:8080")
	p, _, err := c.API.ProvidersAPI.ProvidersProxyCreate(context.Background()).ProxyProviderRequest(*r).Execute()
	if err != nil {
		t.Fatal(err)
	}
	return p.Pk
}
