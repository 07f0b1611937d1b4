package mrsetup

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func TestErrorBackoff(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason   string
		poll     time.Duration
		failures int
		want     time.Duration
	}{
		"FirstFailure": {
			reason: "The first failure retries after a second.",
			poll:   time.Minute, failures: 1, want: time.Second,
		},
		"Doubles": {
			reason: "Each further failure doubles the wait.",
			poll:   time.Minute, failures: 4, want: 8 * time.Second,
		},
		"CappedAtPoll": {
			reason: "A resource failing for minutes (Authentik unreachable) waits at most one poll interval.",
			poll:   5 * time.Second, failures: 200, want: 5 * time.Second,
		},
		"ShortPoll": {
			reason: "A poll interval under a second still waits a second.",
			poll:   100 * time.Millisecond, failures: 10, want: time.Second,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rl := errorBackoff(tc.poll)
			req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "r"}}
			var got time.Duration
			for range tc.failures {
				got = rl.When(req)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nwait after %d failures (-want, +got):\n%s", tc.reason, tc.failures, diff)
			}
		})
	}
}
