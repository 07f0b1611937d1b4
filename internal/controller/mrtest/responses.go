package mrtest

import (
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// A ResponseCase alters what Authentik answers a kind's controller, as a
// release the simulator does not speak might, and says what the resource
// then shows.
type ResponseCase struct {
	Reason string
	// Operations are the operation ids whose responses are altered.
	Operations []string
	// Edit changes each object of those responses (each result of a list).
	Edit func(obj map[string]any)
	// WantSynced is "" when the resource must become Ready and Synced;
	// otherwise its Synced condition must be False with a message that
	// holds every line of it.
	WantSynced string
}

// CheckResponses reconciles cr, which the Env must already hold, until it
// settles while Authentik answers as c says, and checks its conditions.
// A case that must fail is settled again once the shared lists are past
// their read age: until then a resource may read its create's own answer,
// which c need not alter.
func (e *Env) CheckResponses(r reconcile.Reconciler, cr resource.Managed, c ResponseCase) {
	e.T.Helper()
	for _, op := range c.Operations {
		e.Sim.SetFault(op, authentiksim.Fault{Rewrite: authentiksim.RewriteObjects(c.Edit)})
	}
	e.Settle(r, cr)
	if c.WantSynced != "" {
		e.PassReadAge()
		e.Settle(r, cr)
	}
	synced, ready := cr.GetCondition(xpv2.TypeSynced), cr.GetCondition(xpv2.TypeReady)
	if c.WantSynced == "" {
		if synced.Status != "True" || ready.Status != "True" {
			e.T.Errorf("%s\nat Authentik %s: Synced %s (%s), Ready %s (%s); want both True", c.Reason, ReleaseLine(), synced.Status, synced.Message, ready.Status, ready.Message)
		}
		return
	}
	if synced.Status != "False" || !containsAll(synced.Message, c.WantSynced) {
		e.T.Errorf("%s\nat Authentik %s: Synced %s with message\n%s\nwant False with\n%s", c.Reason, ReleaseLine(), synced.Status, synced.Message, c.WantSynced)
	}
}

func containsAll(msg, want string) bool {
	for _, w := range strings.Split(want, "\n") {
		if !strings.Contains(msg, w) {
			return false
		}
	}
	return true
}

// UnreadableCreate is the Synced message of a create whose 201 response was
// cut in half: the operation, the status and the decode error.
func UnreadableCreate(path string) string {
	return "cannot read Authentik's answer to POST /api/v3" + path + " (201): unexpected end of JSON input"
}

// CheckUnreadableCreate answers the first create of cr, which the Env must
// already hold, with a 201 whose body is cut in half: the object is made
// but the response cannot be read. The resource must say so in Synced
// (wantSynced), and after the next reconciles Authentik must hold exactly
// one object for it, as count tells, and the resource must be Ready.
func (e *Env) CheckUnreadableCreate(r reconcile.Reconciler, cr resource.Managed, createOp, wantSynced string, count func() int) {
	e.T.Helper()
	e.Sim.ResetCounts()
	e.Sim.SetFault(createOp, authentiksim.Fault{Times: 1, Rewrite: func(b []byte) []byte { return b[:len(b)/2] }})
	key := client.ObjectKeyFromObject(cr)
	for range maxIterations {
		if _, err := e.Reconcile(r, key); err != nil {
			e.T.Fatalf("reconcile %s: %v", key, err)
		}
		e.Get(cr)
		if e.Sim.Counts()[createOp] > 0 {
			break
		}
	}
	if synced := cr.GetCondition(xpv2.TypeSynced); synced.Status != "False" || !strings.Contains(synced.Message, wantSynced) {
		e.T.Errorf("at Authentik %s: after the unreadable create Synced is %s with message\n%s\nwant False with\n%s", ReleaseLine(), synced.Status, synced.Message, wantSynced)
	}
	e.Settle(r, cr)
	if n := count(); n != 1 {
		e.T.Errorf("at Authentik %s: after the unreadable create Authentik holds %d objects for %s, want 1", ReleaseLine(), n, key)
	}
	if ready := cr.GetCondition(xpv2.TypeReady); ready.Status != "True" {
		e.T.Errorf("at Authentik %s: after the unreadable create Ready is %s (%s), want True", ReleaseLine(), ready.Status, ready.Message)
	}
	if n := e.Sim.Counts()[createOp]; n != 1 {
		e.T.Errorf("at Authentik %s: %d creates sent for %s, want 1", ReleaseLine(), n, key)
	}
}

// CheckNeeded fails the test for each Authentik field a kind maps to a spec
// field (the keys of its field paths) that the Authentik client would
// tolerate missing or unknown: the client's table of what each kind manages
// must not drift from the kind.
func CheckNeeded(t testing.TB, kind string, fieldPaths map[string]string) {
	t.Helper()
	for key, path := range fieldPaths {
		if !authentik.Needs(kind, key) {
			t.Errorf("%s manages %s (%s), but the Authentik client does not count it as needed for %s", kind, key, path, kind)
		}
	}
}

// Keys describes what a kind reads of Authentik's answers, for the
// response cases every kind has.
type Keys struct {
	// Read are the operation ids whose answers the kind reads.
	Read []string
	// Added are keys a newer Authentik may add, with a value.
	Added map[string]any
	// Unneeded are required keys the kind does not read.
	Unneeded []string
	// Needed is a key the kind compares, NeededPath the spec field it
	// holds, and NeededRead the reads (a retrieve and a list) of it.
	Needed     string
	NeededPath string
	NeededRead []string
}

// KeyCases are the cases of an answer with keys added, unneeded keys
// missing, and a needed key missing, which the resource reports on the
// spec field and the read at path (the kind's collection below /api/v3).
func (k Keys) KeyCases(path string) map[string]ResponseCase {
	return map[string]ResponseCase{
		"UnknownKey": {
			Reason:     "Keys a newer Authentik adds are ignored.",
			Operations: k.Read,
			Edit: func(o map[string]any) {
				for key, v := range k.Added {
					o[key] = v
				}
			},
		},
		"MissingUnneededKey": {
			Reason:     "Required keys the provider does not use may be missing.",
			Operations: k.Read,
			Edit: func(o map[string]any) {
				for _, key := range k.Unneeded {
					delete(o, key)
				}
			},
		},
		"MissingNeededKey": {
			Reason:     "A key the provider compares may not be missing.",
			Operations: k.NeededRead,
			Edit:       func(o map[string]any) { delete(o, k.Needed) },
			WantSynced: k.NeededPath + " (" + k.Needed + "): Authentik's answer lacks it\n" +
				"cannot read Authentik's answer to GET /api/v3" + path,
		},
	}
}
