package authentiksim

import (
	"net/http/httptest"
	"testing"
)

// A Test is a simulator behind an httptest server, for Go tests in any
// package. Test.URL is the base URL, without /api/v3.
type Test struct {
	*httptest.Server
	Sim *Server
}

// NewTest starts a simulator that accepts token, with schema checking on.
// When the test ends it stops the server and fails the test for every
// schema violation the simulator saw, so a test passes only if all of its
// traffic is traffic the real Authentik would accept and produce.
func NewTest(t testing.TB, token string) *Test {
	t.Helper()
	sim, err := New(Options{Token: token})
	if err != nil {
		t.Fatalf("cannot start the Authentik simulator: %v", err)
	}
	ts := httptest.NewServer(sim)
	t.Cleanup(func() {
		ts.Close()
		for _, v := range sim.Violations() {
			t.Errorf("Authentik simulator: %v", v)
		}
	})
	return &Test{Server: ts, Sim: sim}
}
