package outpostbinding

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis"
	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
)

// TestPolicyBindingWakesBindings checks that a policy binding made on an
// application wakes the OutpostBindings of that application's provider, so a
// provider kept off its outpost for want of a group's binding is attached
// again without waiting for its poll.
func TestPolicyBindingWakesBindings(t *testing.T) {
	t.Parallel()
	const ns = "closed-pr-app"
	app := func(name string, provider *int32) *v1alpha1.Application {
		a := &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		a.Spec.ForProvider.Provider = provider
		return a
	}
	binding := func(name string, provider int32) *v1alpha1.OutpostBinding {
		b := &v1alpha1.OutpostBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		b.Spec.ForProvider.ProviderID = ptr.To(provider)
		return b
	}
	policyBinding := func(app string) *v1alpha1.PolicyBinding {
		b := &v1alpha1.PolicyBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app-access"}}
		if app != "" {
			b.Spec.ForProvider.ApplicationRef = &xpv2.Reference{Name: app}
		}
		return b
	}
	woken := func(names ...string) []reconcile.Request {
		reqs := make([]reconcile.Request, 0, len(names))
		for _, n := range names {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: n}})
		}
		return reqs
	}
	objects := []client.Object{
		app("app", ptr.To[int32](43)), app("unresolved", nil),
		binding("app", 43), binding("other", 44),
	}
	cases := map[string]struct {
		reason string
		obj    *v1alpha1.PolicyBinding
		want   []reconcile.Request
	}{
		"WakesTheProvidersBinding": {
			reason: "A policy binding on an application wakes the OutpostBinding of the application's provider, and no other.",
			obj:    policyBinding("app"),
			want:   woken("app"),
		},
		"ApplicationWithoutProvider": {
			reason: "An application whose provider is not resolved yet wakes no binding.",
			obj:    policyBinding("unresolved"),
		},
		"ApplicationMissing": {
			reason: "A policy binding naming an application that does not exist wakes no binding.",
			obj:    policyBinding("gone"),
		},
		"NamesNoApplication": {
			reason: "A policy binding naming no application by reference wakes no binding.",
			obj:    policyBinding(""),
		},
	}
	s := runtime.NewScheme()
	if err := apis.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	kube := fake.NewClientBuilder().WithScheme(s).WithObjects(objects...).Build()
	for _, d := range Kind.Dependencies {
		if _, ok := d.Object.(*v1alpha1.PolicyBinding); !ok {
			continue
		}
		referrers := d.Referrers(kube, Kind.List)
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				got := referrers(context.Background(), tc.obj)
				if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
				}
			})
		}
		return
	}
	t.Fatal("OutpostBinding has no PolicyBinding dependency: a binding made on the provider's application does not wake it")
}
