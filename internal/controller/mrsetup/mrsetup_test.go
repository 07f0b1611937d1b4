package mrsetup

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/test"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
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
			rl := ErrorBackoff(tc.poll)
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

func TestCacheLister(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		opts   []client.ListOption
		want   []client.ListOption
	}{
		"NoOptions": {
			reason: "A list asks the cache for its own objects, not copies.",
			want:   []client.ListOption{client.UnsafeDisableDeepCopy},
		},
		"KeepsOptions": {
			reason: "The caller's options are kept.",
			opts:   []client.ListOption{client.InNamespace("team")},
			want:   []client.ListOption{client.InNamespace("team"), client.UnsafeDisableDeepCopy},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var got []client.ListOption
			c := CacheLister{&test.MockClient{MockList: func(_ context.Context, _ client.ObjectList, opts ...client.ListOption) error {
				got = opts
				return nil
			}}}
			if err := c.List(context.Background(), &v1alpha1.GroupList{}, tc.opts...); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nlist options (-want, +got):\n%s", tc.reason, diff)
			}
		})
	}
}
