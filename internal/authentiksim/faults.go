package authentiksim

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"time"
)

// A Fault makes the simulator misbehave on one operation, for reliability
// tests. Latency applies first; then Drop or Status, if set, replaces the
// answer.
type Fault struct {
	// Status answers with this HTTP status (for example 500, 502, 503)
	// instead of the operation's result.
	Status int
	// Latency delays the answer.
	Latency time.Duration
	// Drop closes the connection without any answer.
	Drop bool
	// Probability is the chance that a call is hit; 0 hits every call.
	Probability float64
	// Times is how many calls are hit before the fault clears itself; 0
	// keeps it until ClearFaults.
	Times int
	// AfterHandler lets the request take effect before Status or Drop
	// answers it: a create that succeeded but whose answer was lost.
	AfterHandler bool
	// Rewrite changes the body of a 2xx answer after the request took effect
	// and after the schema check, to answer as a server the schema does not
	// describe would: a newer release, a broken proxy. RewriteObjects
	// builds one that edits decoded objects.
	Rewrite func(body []byte) []byte
}

// RewriteObjects returns a Rewrite that applies edit to the answer's JSON
// object and, in a list, to each of its results. A body that is not a JSON
// object is left as it is.
func RewriteObjects(edit func(obj map[string]any)) func([]byte) []byte {
	return func(body []byte) []byte {
		var obj map[string]any
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		if err := d.Decode(&obj); err != nil || obj == nil {
			return body
		}
		if results, ok := obj["results"].([]any); ok {
			for _, r := range results {
				if o, ok := r.(map[string]any); ok {
					edit(o)
				}
			}
		} else {
			edit(obj)
		}
		out, err := json.Marshal(obj)
		if err != nil {
			return body
		}
		return out
	}
}

func (f *Fault) replacesResponse() bool { return f != nil && (f.Drop || f.Status != 0) }

func (f *Fault) firesBefore() bool { return f.replacesResponse() && !f.AfterHandler }

func (f *Fault) firesAfter() bool { return f.replacesResponse() && f.AfterHandler }

// faultTable holds the faults set per operation id and draws from its own
// seeded generator, so a test that sets a seed sees the same calls hit on
// every run.
type faultTable struct {
	mu     sync.Mutex
	rng    *rand.Rand
	faults map[string]*armedFault
}

type armedFault struct {
	fault Fault
	left  int // calls still to hit when fault.Times > 0
}

func newFaultTable(seed int64) *faultTable {
	return &faultTable{
		rng:    rand.New(rand.NewPCG(uint64(seed), faultStream)), //nolint:gosec // test traffic, not security
		faults: map[string]*armedFault{},
	}
}

// Separate generator streams keep fault draws from shifting generated ids.
const (
	idStream    = 1
	faultStream = 2
)

func (t *faultTable) set(op string, f Fault) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults[op] = &armedFault{fault: f, left: f.Times}
}

func (t *faultTable) clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults = map[string]*armedFault{}
}

// draw decides whether this call of op is hit and returns the fault if so.
func (t *faultTable) draw(op string) *Fault {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.faults[op]
	if !ok {
		return nil
	}
	if a.fault.Probability > 0 && t.rng.Float64() >= a.fault.Probability {
		return nil
	}
	if a.fault.Times > 0 {
		a.left--
		if a.left <= 0 {
			delete(t.faults, op)
		}
	}
	f := a.fault
	return &f
}

// SetFault injects f into every later call of the operation with the given
// id (as in the schema, for example providers_proxy_update), replacing any
// fault set before for it.
func (s *Server) SetFault(operationID string, f Fault) { s.faults.set(operationID, f) }

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() { s.faults.clear() }
