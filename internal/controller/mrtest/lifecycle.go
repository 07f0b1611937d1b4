package mrtest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

// A Case drives a kind's controller and Authentik through Steps, after
// which what the kind's test observes must be Want.
type Case[T resource.Managed, O any] struct {
	Reason string
	CR     T
	// Objects are what the Env holds besides CR.
	Objects []client.Object
	Steps   func(t *testing.T, env *Env, r *managed.Reconciler, cr T)
	// MessageHas is what the Synced condition must say, if anything.
	MessageHas string
	Want       O
}

// A Lifecycle describes a kind whose external name is Authentik's key for
// the cases every such kind shares: create, drift, deletion through the
// resource and behind its back, a name taken before the create, and
// creates whose outcome was never confirmed. O is what the kind's test
// observes after a case.
type Lifecycle[T resource.Managed, O any] struct {
	// Noun names the kind's object in reasons ("scope mapping").
	Noun string
	// Resource is a new resource of the kind, changed by mods.
	Resource func(mods ...func(T)) T
	// Objects are what the Env holds besides the resource.
	Objects func() []client.Object
	// Settled is what is observed of a resource in step with Authentik.
	Settled O
	// Created, if set, checks more of a resource its create settled.
	Created func(t *testing.T, cr T)
	// Drift changes the object in Authentik behind the resource's back
	// and checks what Observe reports of it.
	Drift func(t *testing.T, env *Env, cr T)
	// Path is the kind's collection below /api/v3, with a slash at each
	// end.
	Path string
	// Destroy deletes the object in Authentik and Retrieve reads it.
	Destroy  func(env *Env, id string) error
	Retrieve func(env *Env, id string) error
	// Made makes in Authentik what the resource's create would, as a
	// create whose response never came back did.
	Made func(t *testing.T, env *Env, cr T)
	// Taken makes an object with the resource's name before the resource
	// is created, and TakenOutcome is what is observed after.
	Taken        func(t *testing.T, env *Env)
	TakenOutcome O
	// Foreign makes an object with the resource's name that differs from
	// the spec, and ForeignOutcome is what is observed after an
	// unconfirmed create met it.
	Foreign        func(t *testing.T, env *Env)
	ForeignOutcome O
	// CreateOp is the operation id of the kind's create.
	CreateOp string
}

// Cases are the cases every kind keyed by Authentik shares, for the kind's
// own table.
func (l Lifecycle[T, O]) Cases() map[string]Case[T, O] {
	pending := func(cr T) { meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute)) }
	objects := func() []client.Object {
		if l.Objects == nil {
			return nil
		}
		return l.Objects()
	}
	c := func(reason string, cr T, steps func(t *testing.T, env *Env, r *managed.Reconciler, cr T)) Case[T, O] {
		return Case[T, O]{Reason: reason, CR: cr, Objects: objects(), Steps: steps, Want: l.Settled}
	}
	settle := func(_ *testing.T, env *Env, r *managed.Reconciler, cr T) { env.Settle(r, cr) }

	cases := map[string]Case[T, O]{
		"CreateRecordsID": c("A new resource makes a "+l.Noun+" whose key becomes the external name.", l.Resource(),
			func(t *testing.T, env *Env, r *managed.Reconciler, cr T) {
				env.Settle(r, cr)
				if l.Created != nil {
					l.Created(t, cr)
				}
			}),
		"DriftIsReverted": c("A "+l.Noun+" changed in Authentik is reported as drift and restored.", l.Resource(),
			func(t *testing.T, env *Env, r *managed.Reconciler, cr T) {
				env.Settle(r, cr)
				l.Drift(t, env, cr)
				env.Settle(r, cr)
			}),
		"DeletedBehindBackIsRecreated": c("A "+l.Noun+" deleted in Authentik is made again and the new key recorded.", l.Resource(),
			func(t *testing.T, env *Env, r *managed.Reconciler, cr T) {
				env.Settle(r, cr)
				old := meta.GetExternalName(cr)
				if err := l.Destroy(env, old); err != nil {
					t.Fatal(err)
				}
				env.BackdateCreate(cr)
				env.Settle(r, cr)
				if meta.GetExternalName(cr) == old {
					t.Errorf("external name still names the deleted %s %s", l.Noun, old)
				}
			}),
		"CrashAfterCreateAdopts": c("A create that succeeded before the key was recorded is adopted, not duplicated and not stuck.", l.Resource(pending),
			func(t *testing.T, env *Env, r *managed.Reconciler, cr T) {
				l.Made(t, env, cr)
				env.Settle(r, cr)
			}),
		"CrashBeforeCreateCreates": c("A create that never reached Authentik runs again.", l.Resource(pending), settle),
		"LostCreateResponseAdopts": c("A create whose response was lost after Authentik made the "+l.Noun+" is adopted on the next reconcile.", l.Resource(),
			func(_ *testing.T, env *Env, r *managed.Reconciler, cr T) {
				env.CheckLostCreateAdopted(r, cr, l.CreateOp)
			}),
	}

	deleted := c("Deleting the resource deletes the "+l.Noun+" in Authentik, then the resource.", l.Resource(),
		func(t *testing.T, env *Env, r *managed.Reconciler, cr T) {
			env.Settle(r, cr)
			id := meta.GetExternalName(cr)
			env.BackdateCreate(cr)
			env.Delete(cr)
			env.SettleDeletion(r, cr)
			if err := l.Retrieve(env, id); !authentik.IsNotFound(err) {
				t.Errorf("%s %s after delete: want not found, got %v", l.Noun, id, err)
			}
		})
	var nothing O
	deleted.Want = nothing
	cases["DeleteRemovesObject"] = deleted

	gone := c("A resource whose "+l.Noun+" was deleted outside the provider, before the shared list shows it, is deleted: Authentik's 404 counts as deleted.", l.Resource(),
		func(t *testing.T, env *Env, r *managed.Reconciler, cr T) {
			env.Settle(r, cr)
			env.BackdateCreate(cr)
			env.DeleteOutside(t, l.Path+meta.GetExternalName(cr)+"/")
			env.Delete(cr)
			if _, err := env.Reconcile(r, client.ObjectKeyFromObject(cr)); err != nil {
				t.Fatal(err)
			}
			env.Get(cr)
			if c := cr.GetCondition(xpv2.TypeSynced); c.Status == corev1.ConditionFalse {
				t.Errorf("the delete of a %s that was gone failed: %s", l.Noun, c.Message)
			}
			env.SettleDeletion(r, cr)
		})
	gone.Want = nothing
	cases["DeleteOfDeletedObject"] = gone

	taken := c("A resource that never sent a create does not take over an existing "+l.Noun+" of the same name, and says how to consent.", l.Resource(),
		func(t *testing.T, env *Env, r *managed.Reconciler, cr T) {
			l.Taken(t, env)
			for range 3 {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			}
		})
	taken.MessageHas, taken.Want = RefusedTakeover, l.TakenOutcome
	cases["NameTakenIsRefused"] = taken

	foreign := c("After a crash, a "+l.Noun+" of the same name that differs from the spec is neither adopted nor changed.", l.Resource(pending),
		func(t *testing.T, env *Env, r *managed.Reconciler, cr T) {
			l.Foreign(t, env)
			_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
		})
	foreign.MessageHas, foreign.Want = "differs from this resource", l.ForeignOutcome
	cases["CrashWithForeignObjectRefuses"] = foreign
	return cases
}

// Said records every log line and event of a reconciler, for tests that
// show what is never in one (an expression, a private key).
type Said struct {
	mu    sync.Mutex
	lines []string
}

func (s *Said) add(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, line)
}

// Event records an event.
func (s *Said) Event(_ runtime.Object, e event.Event) {
	s.add(fmt.Sprintf("event %s %s: %s", e.Type, e.Reason, e.Message))
}

// WithAnnotations returns s: annotations are not recorded.
func (s *Said) WithAnnotations(...string) event.Recorder { return s }

// Options make a reconciler log and record its events to s, debug lines
// included.
func (s *Said) Options() []managed.ReconcilerOption {
	log := logging.NewLogrLogger(funcr.New(func(prefix, args string) { s.add(prefix + " " + args) }, funcr.Options{Verbosity: 1}))
	return []managed.ReconcilerOption{managed.WithLogger(log), managed.WithRecorder(s)}
}

// Lines are every line recorded, and texts, that hold a marker.
func (s *Said) Lines(texts []string, markers ...string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lines) == 0 {
		return []string{"the reconciler said nothing: a check of what it said would pass for want of lines"}
	}
	var out []string
	for _, l := range append(append([]string{}, s.lines...), texts...) {
		for _, m := range markers {
			if strings.Contains(l, m) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// A Runner runs a kind's table of Cases.
type Runner[T resource.Managed, O any] struct {
	Kind    mrsetup.Kind
	Options func(e *Env) []managed.ReconcilerOption
	// Observe summarises the resource and Authentik after a case's steps.
	Observe func(t *testing.T, env *Env, cr T, messageHas string) O
	// Message is where O holds the Synced message a case expects.
	Message func(o *O) *string
	// Said, if set, checks what the reconciler logged and recorded.
	Said func(t *testing.T, s *Said, cr T, reason string)
}

// Run runs each case in a new Env holding its resource and objects, and
// fails it unless what Observe summarises is the case's Want.
func (r Runner[T, O]) Run(t *testing.T, cases map[string]Case[T, O]) {
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := New(t, append([]client.Object{tc.CR}, tc.Objects...)...)
			s := &Said{}
			opts := r.Options(env)
			if r.Said != nil {
				opts = append(opts, s.Options()...)
			}
			rec := env.Reconciler(r.Kind, opts...)
			cr := tc.CR.DeepCopyObject().(T)
			tc.Steps(t, env, rec, cr)
			want := tc.Want
			*r.Message(&want) = tc.MessageHas
			if diff := cmp.Diff(want, r.Observe(t, env, cr, tc.MessageHas)); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.Reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
			if r.Said != nil {
				r.Said(t, s, cr, tc.Reason)
			}
		})
	}
}
