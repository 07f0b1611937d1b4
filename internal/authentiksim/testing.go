package authentiksim

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// A Test is a simulator behind an httptest server, for Go tests in any
// package. Test.URL is the base URL, without /api/v3.
type Test struct {
	*httptest.Server
	Sim *Server

	down *atomic.Bool
}

// A TestOption changes the simulator NewTest starts.
type TestOption func(*Options)

// WithAuthentikVersion makes the simulator speak a release line, named as
// in Lines ("2025.10") or by a release of it ("2025.10.4").
func WithAuthentikVersion(version string) TestOption {
	return func(o *Options) { o.AuthentikVersion = version }
}

// NewTest starts a simulator that accepts token, with schema checking on.
// When the test ends it stops the server and fails the test for every
// schema violation the simulator saw, so a test passes only if all of its
// traffic is traffic the real Authentik would accept and produce; and for
// every access decision it could not make (AccessErrors), so no invariant
// passes for want of an answer.
func NewTest(t testing.TB, token string, opts ...TestOption) *Test {
	t.Helper()
	o := Options{Token: token}
	for _, opt := range opts {
		opt(&o)
	}
	sim, err := New(o)
	if err != nil {
		t.Fatalf("cannot start the Authentik simulator: %v", err)
	}
	down := &atomic.Bool{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			dropConnection(w)
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		ts.Close()
		for _, v := range sim.Violations() {
			t.Errorf("Authentik simulator %s: %v", sim.Line().Name, v)
		}
		for _, e := range sim.AccessErrors("", "") {
			t.Errorf("Authentik simulator %s: after write %d, whether %s may use %s: %s", sim.Line().Name, e.FirstWrite, e.User, e.ProviderName, e.Error)
		}
	})
	return &Test{Server: ts, Sim: sim, down: down}
}

// GoDown makes the simulator unreachable: every request's connection is
// closed without an answer. Unlike Close it keeps the port, so another
// test's simulator can never take it over and answer in its place.
func (t *Test) GoDown() { t.down.Store(true) }
