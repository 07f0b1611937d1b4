package mrbehavior

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/test"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
)

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
