package authentiksim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	api "goauthentik.io/api/v3"
)

const testToken = "simulator-test-token"

// Slugs of flows every fresh install has.
const (
	slugImplicitConsent = "default-provider-authorization-implicit-consent"
	slugExplicitConsent = "default-provider-authorization-explicit-consent"
	slugProviderLogout  = "default-provider-invalidation-flow"
)

// env is a simulator with schema checking on, a client for it, and the ids
// tests need most.
type env struct {
	*testServer
	c        *api.APIClient
	ctx      context.Context
	authFlow string // pk of the implicit-consent authorization flow
	invFlow  string // pk of the provider invalidation flow
}

// A testServer is a simulator behind an httptest server: simtest.Server for
// this package's own tests, which cannot import simtest (it imports this
// package).
type testServer struct {
	*httptest.Server
	Sim *Server
}

// serve puts sim behind an httptest server until the test ends.
func serve(t testing.TB, sim *Server) *testServer {
	ts := &testServer{Server: httptest.NewServer(sim), Sim: sim}
	t.Cleanup(ts.Close)
	return ts
}

// newTest starts a simulator and, as simtest.New does, fails t for each of
// its Problems when the test ends.
func newTest(t testing.TB, o Options) *testServer {
	t.Helper()
	sim, err := New(o)
	if err != nil {
		t.Fatalf("cannot start the Authentik simulator: %v", err)
	}
	t.Cleanup(func() {
		for _, p := range sim.Problems() {
			t.Error(p)
		}
	})
	return serve(t, sim)
}

func newClient(base, token string) *api.APIClient {
	cfg := api.NewConfiguration()
	cfg.Servers = api.ServerConfigurations{{URL: base + "/api/v3"}}
	cfg.AddDefaultHeader("Authorization", "Bearer "+token)
	return api.NewAPIClient(cfg)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{testServer: newTest(t, Options{Token: testToken}), ctx: context.Background()}
	e.c = newClient(e.URL, testToken)
	e.authFlow = e.flowPK(t, slugImplicitConsent)
	e.invFlow = e.flowPK(t, slugProviderLogout)
	return e
}

// newEnvAt is newEnv speaking the given release line. It reads the flows'
// pks from the fixtures: older lines' flows lack keys the client needs.
func newEnvAt(t *testing.T, line string) *env {
	t.Helper()
	e := &env{testServer: newTest(t, Options{Token: testToken, AuthentikVersion: line}), ctx: context.Background()}
	e.c = newClient(e.URL, testToken)
	flows := e.Sim.Fixtures().Flows
	e.authFlow, e.invFlow = flows[slugImplicitConsent], flows[slugProviderLogout]
	return e
}

func (e *env) flowPK(t *testing.T, slug string) string {
	t.Helper()
	f, _, err := e.c.FlowsAPI.FlowsInstancesRetrieve(e.ctx, slug).Execute()
	if err != nil {
		t.Fatalf("retrieve flow %s: %v", slug, err)
	}
	return f.Pk
}

// proxyRequest is a valid proxy provider in proxy mode.
func (e *env) proxyRequest(name string) *api.ProxyProviderRequest {
	r := api.NewProxyProviderRequest(name, e.authFlow, e.invFlow, "https://"+name+".example.com")
	r.SetInternalHost("http://" + name + ":8080")
	return r
}

func (e *env) createProvider(t *testing.T, name string) *api.ProxyProvider {
	t.Helper()
	p, _, err := e.c.ProvidersAPI.ProvidersProxyCreate(e.ctx).ProxyProviderRequest(*e.proxyRequest(name)).Execute()
	if err != nil {
		t.Fatalf("create provider %s: %v", name, err)
	}
	return p
}

func (e *env) createApplication(t *testing.T, slug string, provider *int32) *api.Application {
	t.Helper()
	r := api.NewApplicationRequest("App "+slug, slug)
	if provider != nil {
		r.SetProvider(*provider)
	}
	a, _, err := e.c.CoreAPI.CoreApplicationsCreate(e.ctx).ApplicationRequest(*r).Execute()
	if err != nil {
		t.Fatalf("create application %s: %v", slug, err)
	}
	return a
}

func (e *env) createOutpost(t *testing.T, name string, providers ...int32) *api.Outpost {
	t.Helper()
	r := api.NewOutpostRequest(name, api.OUTPOSTTYPEENUM_PROXY, providers, map[string]interface{}{"log_level": "info"})
	o, _, err := e.c.OutpostsAPI.OutpostsInstancesCreate(e.ctx).OutpostRequest(*r).Execute()
	if err != nil {
		t.Fatalf("create outpost %s: %v", name, err)
	}
	return o
}

func (e *env) createGroup(t *testing.T, name string) *api.Group {
	t.Helper()
	g, _, err := e.c.CoreAPI.CoreGroupsCreate(e.ctx).GroupRequest(*api.NewGroupRequest(name)).Execute()
	if err != nil {
		t.Fatalf("create group %s: %v", name, err)
	}
	return g
}

func (e *env) bindGroup(t *testing.T, target, group string, order int32) *api.PolicyBinding {
	t.Helper()
	r := api.NewPolicyBindingRequest(target, order)
	r.SetGroup(group)
	b, _, err := e.c.PoliciesAPI.PoliciesBindingsCreate(e.ctx).PolicyBindingRequest(*r).Execute()
	if err != nil {
		t.Fatalf("bind group %s to %s: %v", group, target, err)
	}
	return b
}

func (e *env) embeddedOutpost(t *testing.T) *api.Outpost {
	t.Helper()
	l, _, err := e.c.OutpostsAPI.OutpostsInstancesList(e.ctx).ManagedIexact(embeddedOutpostManaged).Execute()
	if err != nil || len(l.Results) != 1 {
		t.Fatalf("find embedded outpost: %v (%d results)", err, len(l.Results))
	}
	return &l.Results[0]
}

// outcome is what a call looked like on the wire: its status and, for an
// error, the decoded body.
type outcome struct {
	Status int
	Body   map[string]any
}

func outcomeOf(t *testing.T, resp *http.Response, err error) outcome {
	t.Helper()
	if resp == nil {
		t.Fatalf("no response: %v", err)
	}
	o := outcome{Status: resp.StatusCode}
	var apiErr *api.GenericOpenAPIError
	if errors.As(err, &apiErr) {
		if jerr := json.Unmarshal(apiErr.Body(), &o.Body); jerr != nil {
			t.Fatalf("decode error body %q: %v", apiErr.Body(), jerr)
		}
	}
	return o
}

// fieldError is a DRF 400 body with one message on one field.
func fieldError(field, msg string) outcome {
	return outcome{Status: http.StatusBadRequest, Body: map[string]any{field: []any{msg}}}
}

func detailError(status int, msg string) outcome {
	return outcome{Status: status, Body: map[string]any{"detail": msg}}
}

func ptr[T any](v T) *T { return &v }
