package mrsetup_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// kindExternal stands in for a kind's external client, holding the
// Authentik client it was made with.
type kindExternal struct {
	managed.TypedExternalClientFns[*v1alpha1.Group]
	client *authentik.Client
}

func TestConnectorConnect(t *testing.T) {
	t.Parallel()
	type want struct {
		external bool
		err      bool
	}
	cases := map[string]struct {
		reason string
		config string
		want   want
	}{
		"KnownConfig": {
			reason: "A resource whose provider config exists gets the kind's external client, made with a client for that config.",
			config: mrtest.ConfigName,
			want:   want{external: true},
		},
		"MissingConfig": {
			reason: "A resource whose provider config is missing gets the error and no external client: a nil interface, not a nil pointer in one.",
			config: "missing",
			want:   want{err: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			c := mrsetup.NewConnector[*v1alpha1.Group](env.Connector, func(ac *authentik.Client) *kindExternal {
				return &kindExternal{client: ac}
			})
			cr := &v1alpha1.Group{
				ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "longhorn-users", UID: "6d1f2c3a-0000-4000-8000-000000000099"},
				Spec: v1alpha1.GroupSpec{ManagedResourceSpec: xpv2.ManagedResourceSpec{
					ProviderConfigReference: &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: tc.config},
				}},
			}
			ext, err := c.Connect(context.Background(), cr)
			got := want{external: ext != nil, err: err != nil}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nConnect (-want, +got):\n%s\nerror: %v", tc.reason, diff, err)
			}
			if ke, ok := ext.(*kindExternal); ok && ke != nil && ke.client == nil {
				t.Errorf("%s\nthe external client holds no Authentik client", tc.reason)
			}
		})
	}
}
