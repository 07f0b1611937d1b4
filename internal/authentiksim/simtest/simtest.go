// Package simtest starts the Authentik simulator for Go tests in any
// package, behind an httptest server, and fails the test for what the
// simulator saw that the real Authentik would not accept or produce. It is
// a package of its own so that package testing stays out of the simulator's
// binary.
//
//	sim := simtest.New(t, "token")
//	old := simtest.New(t, "token", simtest.WithAuthentikVersion("2024.12"))
//	cfg := api.NewConfiguration()
//	cfg.Servers = api.ServerConfigurations{{URL: sim.URL + "/api/v3"}}
//	cfg.AddDefaultHeader("Authorization", "Bearer token")
//	sim.SetFault("providers_proxy_update", authentiksim.Fault{Status: 503, Times: 1})
package simtest

import (
	"net/http/httptest"
	"testing"

	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
)

// A Server is a simulator behind an httptest server.
type Server struct {
	*authentiksim.Server
	// HTTP serves the simulator.
	HTTP *httptest.Server
	// URL is the base URL, without /api/v3.
	URL string
}

// An Option changes the simulator New starts.
type Option func(*authentiksim.Options)

// WithAuthentikVersion makes the simulator speak a release line, named as
// in authentiksim.Lines ("2025.10") or by a release of it ("2025.10.4").
func WithAuthentikVersion(version string) Option {
	return func(o *authentiksim.Options) { o.AuthentikVersion = version }
}

// New starts a simulator that accepts token, with schema checking on. When
// the test ends it stops the server and fails the test for every problem
// the simulator reports (authentiksim.Server.Problems), so a test passes
// only if all of its traffic is traffic the real Authentik would accept and
// produce, and no access invariant passes for want of an answer.
func New(t testing.TB, token string, opts ...Option) *Server {
	t.Helper()
	o := authentiksim.Options{Token: token}
	for _, opt := range opts {
		opt(&o)
	}
	sim, err := authentiksim.New(o)
	if err != nil {
		t.Fatalf("cannot start the Authentik simulator: %v", err)
	}
	hs := httptest.NewServer(sim)
	s := &Server{Server: sim, HTTP: hs, URL: hs.URL}
	t.Cleanup(func() {
		hs.Close()
		for _, p := range sim.Problems() {
			t.Error(p)
		}
	})
	return s
}
