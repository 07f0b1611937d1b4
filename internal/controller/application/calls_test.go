package application

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// TestCalls counts the requests to Authentik an Application costs: its
// create until Ready, and a poll once Ready.
func TestCalls(t *testing.T) {
	cases := map[string]struct {
		reason string
		// poll runs after the resource settled; nil counts the create.
		poll func(env *mrtest.Env)
		want map[string]int
	}{
		"CreateUntilReady": {
			reason: "A create reads the shared list once (which its polls then read) and sends the create: no lookup of the slug before it.",
			want:   map[string]int{"core_applications_list": 1, "core_applications_create": 1},
		},
		"PollWhileListFresh": {
			reason: "A poll reads the shared list, at no request while it is fresh.",
			poll:   func(*mrtest.Env) {},
			want:   map[string]int{},
		},
		"PollRenewingList": {
			reason: "A poll after the read age renews the shared list with one request.",
			poll:   func(env *mrtest.Env) { env.PassReadAge() },
			want:   map[string]int{"core_applications_list": 1},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cr := application()
			env := mrtest.New(t, cr)
			proxyProvider(t, env, providerKind)
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
			got := env.Calls(func() { env.Settle(r, cr) })
			if tc.poll != nil {
				tc.poll(env)
				got = env.Calls(func() {
					if _, err := env.Reconcile(r, keyOf(cr)); err != nil {
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
