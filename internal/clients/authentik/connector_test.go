package authentik_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	"github.com/crossplane/crossplane-runtime/v2/pkg/test"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// TestClientForInTerminatingNamespace drives the real ProviderConfigUsage
// tracker against an API server that behaves like one deleting the
// resource's namespace: the usage is gone and creating it is refused.
func TestClientForInTerminatingNamespace(t *testing.T) {
	t.Parallel()
	const url = "https://authentik.example.com"
	terminating := kerrors.NewForbidden(schema.GroupResource{Group: v1alpha1.SchemeGroupVersion.Group, Resource: "providerconfigusages"}, "uid",
		errors.New("unable to create new content in namespace team-a because it is being terminated"))
	usageGone := kerrors.NewNotFound(schema.GroupResource{Group: v1alpha1.SchemeGroupVersion.Group, Resource: "providerconfigusages"}, "uid")

	kube := func(createErr error, creates *int) *test.MockClient {
		return &test.MockClient{
			MockGet: func(_ context.Context, key client.ObjectKey, obj client.Object) error {
				switch o := obj.(type) {
				case *v1alpha1.ProviderConfigUsage:
					return usageGone
				case *v1alpha1.ClusterProviderConfig:
					o.Spec = mrtest.ConfigSpec(url)
				case *corev1.Secret:
					o.Data = map[string][]byte{mrtest.SecretKey: []byte("s3cret")}
				default:
					return errors.Errorf("unexpected get of %T %s", obj, key)
				}
				return nil
			},
			MockCreate: func(context.Context, client.Object, ...client.CreateOption) error {
				*creates++
				return createErr
			},
		}
	}
	deleted := metav1.NewTime(time.Now())

	type want struct {
		err     error
		creates int
		cfg     *authentik.Config
	}
	cases := map[string]struct {
		reason    string
		deletedAt *metav1.Time
		createErr error
		want      want
	}{
		"LiveResourceRecordsUse": {
			reason: "A resource that is not being deleted records its use before connecting.",
			want:   want{creates: 1, cfg: &authentik.Config{URL: url, Token: "s3cret", Kind: "ProxyProvider"}},
		},
		"LiveResourceCannotRecordUse": {
			reason:    "A resource that is not being deleted does not connect without recording its use.",
			createErr: terminating,
			want:      want{err: terminating, creates: 1},
		},
		"DeletedResourceInTerminatingNamespace": {
			reason:    "A resource being deleted in a terminating namespace connects, so its finalizer can go and the namespace with it.",
			deletedAt: &deleted,
			createErr: terminating,
			want:      want{creates: 0, cfg: &authentik.Config{URL: url, Token: "s3cret", Kind: "ProxyProvider"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			creates := 0
			kc := kube(tc.createErr, &creates)
			var built *authentik.Config
			c := &authentik.Connector{
				Kube:  kc,
				Usage: resource.NewProviderConfigUsageTracker(kc, &v1alpha1.ProviderConfigUsage{}),
				NewClient: func(cfg authentik.Config) (*authentik.Client, error) {
					built = &cfg
					return authentik.New(cfg, nil)
				},
			}
			mg := &v1alpha1.ProxyProvider{ObjectMeta: metav1.ObjectMeta{
				Namespace: mrtest.Namespace, Name: "p", UID: "uid",
				DeletionTimestamp: tc.deletedAt, Finalizers: []string{"finalizer.managedresource.crossplane.io"},
			}}
			mg.SetProviderConfigReference(&xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: "default"})

			_, err := c.ClientFor(context.Background(), mg)
			if diff := cmp.Diff(tc.want.err, errors.Cause(err), test.EquateErrors()); diff != "" {
				t.Errorf("%s\nClientFor error (-want, +got):\n%s", tc.reason, diff)
			}
			if creates != tc.want.creates {
				t.Errorf("%s\nProviderConfigUsage creates: got %d, want %d", tc.reason, creates, tc.want.creates)
			}
			if diff := cmp.Diff(tc.want.cfg, built); diff != "" {
				t.Errorf("%s\nclient built for (-want, +got):\n%s", tc.reason, diff)
			}
		})
	}
}
