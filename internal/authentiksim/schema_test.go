package authentiksim

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
)

// newCheckedServer is a simulator with schema checking whose violations the
// test inspects itself, instead of newTest failing the test for them.
func newCheckedServer(t *testing.T) (*Server, *api.APIClient, *env) {
	t.Helper()
	sim, err := New(Options{Token: testToken})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := serve(t, sim)
	e := &env{testServer: ts, c: newClient(ts.URL, testToken)}
	e.ctx = t.Context()
	e.authFlow = e.flowPK(t, slugImplicitConsent)
	e.invFlow = e.flowPK(t, slugProviderLogout)
	return sim, e.c, e
}

// violation is the part of a *Violation a test compares.
type violation struct {
	Operation string
	Response  bool
	Mentions  bool // the error names the offending field
}

func TestSchemaViolations(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		// prepare may change the server, e.g. break a handler.
		prepare func(s *Server)
		call    func(e *env) (*http.Response, error)
		field   string
		want    outcome
		wantV   violation
	}{
		"RequestWrongEnum": {
			reason: "A mode outside the ProxyMode enum breaks the request schema.",
			call: func(e *env) (*http.Response, error) {
				r := e.proxyRequest("app")
				r.SetMode(api.ProxyMode("reverse"))
				_, resp, err := e.c.ProvidersAPI.ProvidersProxyCreate(e.ctx).ProxyProviderRequest(*r).Execute()
				return resp, err
			},
			field: "mode",
			want:  outcome{Status: http.StatusBadRequest},
			wantV: violation{Operation: "providers_proxy_create", Mentions: true},
		},
		"RequestMalformedUUIDInBody": {
			reason: "A flow reference that is not a uuid breaks the request schema.",
			call: func(e *env) (*http.Response, error) {
				r := e.proxyRequest("app")
				r.SetAuthorizationFlow("default-provider-authorization-implicit-consent")
				_, resp, err := e.c.ProvidersAPI.ProvidersProxyCreate(e.ctx).ProxyProviderRequest(*r).Execute()
				return resp, err
			},
			field: "authorization_flow",
			want:  outcome{Status: http.StatusBadRequest},
			wantV: violation{Operation: "providers_proxy_create", Mentions: true},
		},
		"RequestMalformedUUIDInPath": {
			reason: "An outpost looked up by name instead of uuid breaks the path parameter's format.",
			call: func(e *env) (*http.Response, error) {
				_, resp, err := e.c.OutpostsAPI.OutpostsInstancesRetrieve(e.ctx, "my-outpost").Execute()
				return resp, err
			},
			field: "uuid",
			want:  outcome{Status: http.StatusBadRequest},
			wantV: violation{Operation: "outposts_instances_retrieve", Mentions: true},
		},
		"RequestBlankRequiredField": {
			reason: "A blank name breaks minLength; Authentik would answer 'may not be blank'.",
			call: func(e *env) (*http.Response, error) {
				_, resp, err := e.c.CoreAPI.CoreGroupsCreate(e.ctx).GroupRequest(*api.NewGroupRequest("")).Execute()
				return resp, err
			},
			field: "name",
			want:  outcome{Status: http.StatusBadRequest},
			wantV: violation{Operation: "core_groups_create", Mentions: true},
		},
		"ResponseMissingRequiredKey": {
			reason: "A response without a key the schema requires is the simulator's bug; it is answered with 500.",
			prepare: func(s *Server) {
				for _, rt := range s.routes {
					if rt.operationID != "flows_instances_retrieve" {
						continue
					}
					rt.handle = func(st *state, c *call) reply {
						r := retrieveFlow(st, c)
						f := r.body.(flowJSON)
						return reply{status: r.status, body: map[string]any{"pk": f.PK, "name": f.Name, "slug": f.Slug}}
					}
				}
			},
			call: func(e *env) (*http.Response, error) {
				_, resp, err := e.c.FlowsAPI.FlowsInstancesRetrieve(e.ctx, slugProviderLogout).Execute()
				return resp, err
			},
			field: "title",
			want:  outcome{Status: http.StatusInternalServerError},
			wantV: violation{Operation: "flows_instances_retrieve", Response: true, Mentions: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sim, _, e := newCheckedServer(t)
			if tc.prepare != nil {
				tc.prepare(sim)
			}
			resp, err := tc.call(e)
			got := outcomeOf(t, resp, err)
			got.Body = nil
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nstatus: -want, +got:\n%s", tc.reason, diff)
			}
			vs := sim.Violations()
			if len(vs) != 1 {
				t.Fatalf("%s\nViolations(): got %d, want 1: %v", tc.reason, len(vs), vs)
			}
			var v *Violation
			if !errors.As(vs[0], &v) {
				t.Fatalf("Violations()[0] is %T, want *Violation", vs[0])
			}
			gotV := violation{Operation: v.Operation, Response: v.Response, Mentions: strings.Contains(v.Error(), tc.field)}
			if diff := cmp.Diff(tc.wantV, gotV); diff != "" {
				t.Errorf("%s\nviolation %v: -want, +got:\n%s", tc.reason, v, diff)
			}
		})
	}
}

// TestRefusedRequestChangesNothing checks that a request breaking the
// schema is refused before it reaches the simulated state.
func TestRefusedRequestChangesNothing(t *testing.T) {
	t.Parallel()
	sim, c, e := newCheckedServer(t)
	r := e.proxyRequest("app")
	r.SetMode(api.ProxyMode("reverse"))
	if _, _, err := c.ProvidersAPI.ProvidersProxyCreate(e.ctx).ProxyProviderRequest(*r).Execute(); err == nil {
		t.Fatal("create with a bad mode succeeded")
	}
	l, _, err := c.ProvidersAPI.ProvidersProxyList(e.ctx).Execute()
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(l.Results) != 0 {
		t.Errorf("a refused create left %d providers", len(l.Results))
	}
	if len(sim.Violations()) != 1 {
		t.Errorf("Violations(): %v, want the one refused create", sim.Violations())
	}
}

func TestRoutesMatchSchema(t *testing.T) {
	t.Parallel()
	path, err := SchemaPath()
	if err != nil {
		t.Fatalf("SchemaPath: %v", err)
	}
	if !strings.HasSuffix(path, "api/openapi.yaml") {
		t.Errorf("SchemaPath() = %q, want the module's api/openapi.yaml", path)
	}
	if _, err := New(Options{Token: testToken, SchemaPath: path}); err != nil {
		t.Errorf("every simulated route must be in the schema under its operation id: %v", err)
	}
	if _, err := New(Options{Token: testToken, SchemaPath: "/nonexistent/openapi.yaml"}); err == nil {
		t.Error("New with a missing schema succeeded")
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New without a token succeeded")
	}
}
