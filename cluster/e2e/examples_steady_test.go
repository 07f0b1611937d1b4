//go:build e2e

package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// steadyPolls is how many polls noWriteLoop watches.
const steadyPolls = 3

// simWrites reads the simulator's writes per operation.
func simWrites(t *testing.T) map[string]int {
	t.Helper()
	resp, err := http.Get(simURL() + "/_sim/writes")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]int{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// noWriteLoop waits until every managed resource is Ready and Synced, then
// watches steadyPolls polls and fails on any write to Authentik in them: a
// provider that updates on every poll leaves every condition True, so only
// the simulator's counters show such a loop.
func (e *env) noWriteLoop(t *testing.T) {
	t.Helper()
	e.mustKubectl(t, "", "wait", "--for=condition=Ready", "--all", "managed", "-A", "--timeout=60s")
	e.mustKubectl(t, "", "wait", "--for=condition=Synced", "--all", "managed", "-A", "--timeout=30s")
	// A resource that just turned Ready may still have its own write in
	// flight; one poll lets it land before counting.
	time.Sleep(poll)
	before := simWrites(t)
	time.Sleep(steadyPolls * poll)
	after := simWrites(t)
	for op, n := range after {
		if n != before[op] {
			t.Errorf("every managed resource is Ready, yet in %d polls (%s each) the provider called %s %d times (a write loop)", steadyPolls, poll, op, n-before[op])
		}
	}
}

// TestNoWriteLoopOverExamples watches the examples, all Ready, for write
// loops.
func TestNoWriteLoopOverExamples(t *testing.T) {
	setup(t).noWriteLoop(t)
}
