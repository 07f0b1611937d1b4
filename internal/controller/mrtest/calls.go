package mrtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// CreateCalls are the requests to Authentik a resource's create costs
// until it is Ready, and why.
type CreateCalls struct {
	Reason string
	Want   map[string]int
}

// RunCalls counts the requests to Authentik a resource costs: its create
// until Ready, and a poll once Ready, which reads its kind's shared list:
// no request while the list is fresh, one (listOp) once the read age has
// passed. setup makes an Env holding the resource and its reconciler.
func RunCalls(t *testing.T, setup func(t *testing.T) (*Env, reconcile.Reconciler, client.Object), create CreateCalls, listOp string) {
	t.Helper()
	cases := map[string]struct {
		reason string
		// poll runs after the resource settled; nil counts the create.
		poll func(env *Env)
		want map[string]int
	}{
		"CreateUntilReady": {reason: create.Reason, want: create.Want},
		"PollWhileListFresh": {
			reason: "A poll reads the shared list, at no request while it is fresh.",
			poll:   func(*Env) {},
			want:   map[string]int{},
		},
		"PollRenewingList": {
			reason: "A poll after the read age renews the shared list with one request.",
			poll:   func(env *Env) { env.PassReadAge() },
			want:   map[string]int{listOp: 1},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env, r, cr := setup(t)
			got := env.Calls(func() { env.Settle(r, cr) })
			if tc.poll != nil {
				tc.poll(env)
				got = env.Calls(func() {
					if _, err := env.Reconcile(r, client.ObjectKeyFromObject(cr)); err != nil {
						t.Fatal(err)
					}
				})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
