package simtest

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
)

const testToken = "simtest-token"

// recordingTB stands in for the testing.T that New reports to, so this test
// can check that a violation fails the test that caused it.
type recordingTB struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (r *recordingTB) Helper()                   {}
func (r *recordingTB) Cleanup(f func())          { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) Error(a ...any)            { r.errors = append(r.errors, fmt.Sprint(a...)) }
func (r *recordingTB) Errorf(f string, a ...any) { r.errors = append(r.errors, fmt.Sprintf(f, a...)) }
func (r *recordingTB) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

func TestNewFailsOnViolation(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason     string
		badRequest bool
		wantErrors int
	}{
		"Clean": {
			reason:     "A test whose traffic fits the schema passes.",
			wantErrors: 0,
		},
		"Violation": {
			reason:     "A test that sent a request the real API would refuse fails at cleanup.",
			badRequest: true,
			wantErrors: 1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := &recordingTB{}
			sim := New(rec, testToken)
			cfg := api.NewConfiguration()
			cfg.Servers = api.ServerConfigurations{{URL: sim.URL + "/api/v3"}}
			cfg.AddDefaultHeader("Authorization", "Bearer "+testToken)
			id := "my-outpost"
			if !tc.badRequest {
				id = sim.Fixtures().EmbeddedOutpost
			}
			_, _, _ = api.NewAPIClient(cfg).OutpostsAPI.OutpostsInstancesRetrieve(t.Context(), id).Execute()
			for i := len(rec.cleanups) - 1; i >= 0; i-- {
				rec.cleanups[i]()
			}
			if diff := cmp.Diff(tc.wantErrors, len(rec.errors)); diff != "" {
				t.Errorf("%s\nerrors reported %v: -want, +got:\n%s", tc.reason, rec.errors, diff)
			}
		})
	}
}
