package mrbehavior

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis"
	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
)

func TestSkipsUnchangedStatus(t *testing.T) {
	t.Parallel()
	type want struct {
		Sent     int
		Conflict bool
		Status   v1alpha1.ApplicationObservation
	}
	cases := map[string]struct {
		reason string
		// change is what the reconcile does to the object it read.
		change func(*v1alpha1.Application)
		// meanwhile is a write by someone else after the reconcile read.
		meanwhile bool
		want      want
	}{
		"Unchanged": {
			reason: "A status that is already stored is not sent: the API server would store nothing.",
			change: func(*v1alpha1.Application) {},
			want:   want{Sent: 0, Status: v1alpha1.ApplicationObservation{PK: ptr.To("a1")}},
		},
		"UnchangedConditions": {
			reason: "Conditions set again as they are change nothing either.",
			change: func(a *v1alpha1.Application) { a.SetConditions(xpv2.Available()) },
			want:   want{Sent: 0, Status: v1alpha1.ApplicationObservation{PK: ptr.To("a1")}},
		},
		"Changed": {
			reason: "A status that differs is sent.",
			change: func(a *v1alpha1.Application) { a.Status.AtProvider.PK = ptr.To("a2") },
			want:   want{Sent: 1, Status: v1alpha1.ApplicationObservation{PK: ptr.To("a2")}},
		},
		"ReadAnOlderVersion": {
			reason: "An update of an older version than the stored one is sent, so that the API server refuses it as it would without this.",
			change: func(*v1alpha1.Application) {}, meanwhile: true,
			want: want{Sent: 1, Conflict: true, Status: v1alpha1.ApplicationObservation{PK: ptr.To("a1")}},
		},
	}
	s := runtime.NewScheme()
	if err := apis.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			stored := &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "grafana"}}
			stored.Status.AtProvider.PK = ptr.To("a1")
			stored.SetConditions(xpv2.Available())
			sent := 0
			kube := interceptor.NewClient(fake.NewClientBuilder().WithScheme(s).WithObjects(stored).WithStatusSubresource(stored).Build(), interceptor.Funcs{
				SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
					sent++
					return c.SubResource(sub).Update(ctx, obj, opts...)
				},
			})
			c := SkipsUnchangedStatus(kube)

			read := &v1alpha1.Application{}
			if err := c.Get(ctx, client.ObjectKeyFromObject(stored), read); err != nil {
				t.Fatal(err)
			}
			if tc.meanwhile {
				other := read.DeepCopy()
				other.Labels = map[string]string{"someone": "else"}
				if err := kube.Update(ctx, other); err != nil {
					t.Fatal(err)
				}
			}
			tc.change(read)
			err := c.Status().Update(ctx, read)
			if kerrors.IsConflict(err) != tc.want.Conflict {
				t.Errorf("%s\nUpdate(): %v, want a conflict: %t", tc.reason, err, tc.want.Conflict)
			}
			got := &v1alpha1.Application{}
			if err := kube.Get(ctx, client.ObjectKeyFromObject(stored), got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, want{Sent: sent, Conflict: tc.want.Conflict, Status: got.Status.AtProvider}); diff != "" {
				t.Errorf("%s\n(-want, +got):\n%s", tc.reason, diff)
			}
		})
	}
}
