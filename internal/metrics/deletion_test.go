package metrics

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
)

func TestDeletionRecorder(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	group := func(name string, deleting time.Duration) *v1alpha1.Group {
		g := &v1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name}}
		if deleting > 0 {
			g.DeletionTimestamp = &metav1.Time{Time: now.Add(-deleting)}
			g.Finalizers = []string{"finalizer.managedresource.crossplane.io"}
		}
		return g
	}
	cases := map[string]struct {
		reason string
		objs   []client.Object
		want   float64
	}{
		"NoneDeleting": {
			reason: "Resources that are not being deleted make the age 0.",
			objs:   []client.Object{group("a", 0)},
			want:   0,
		},
		"OldestDeletion": {
			reason: "The age is that of the oldest deletion still waiting.",
			objs:   []client.Object{group("a", 0), group("b", 2*time.Minute), group("c", 10*time.Minute)},
			want:   600,
		},
		"NoResources": {
			reason: "A kind without resources is reported, at 0.",
			want:   0,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := runtime.NewScheme()
			if err := v1alpha1.SchemeBuilder.AddToScheme(s); err != nil {
				t.Fatal(err)
			}
			kube := fake.NewClientBuilder().WithScheme(s).WithObjects(tc.objs...).Build()
			r := NewDeletionRecorder(kube, "Group", &v1alpha1.GroupList{}, time.Minute)
			r.now = func() time.Time { return now }
			r.Record(context.Background())
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(r)
			got, known := Value(reg, NameDeletionAge, map[string]string{"kind": "Group"}), testutil.CollectAndCount(r, NameDeletionAge)
			if diff := cmp.Diff(tc.want, got); diff != "" || known != 1 {
				t.Errorf("%s\n-want, +got:\n%s\nseries: %d, want 1", tc.reason, diff, known)
			}
		})
	}
}
