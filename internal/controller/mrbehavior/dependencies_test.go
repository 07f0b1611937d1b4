package mrbehavior

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis"
	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
)

func TestProviderDependencies(t *testing.T) {
	t.Parallel()
	app := func(ns, name string, ref *v1alpha1.ProviderReference) *v1alpha1.Application {
		return &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: v1alpha1.ApplicationSpec{ForProvider: v1alpha1.ApplicationParameters{ProviderRef: ref}}}
	}
	ref := func(kind, name string) *v1alpha1.ProviderReference {
		return &v1alpha1.ProviderReference{Kind: kind, Reference: xpv2.Reference{Name: name}}
	}
	provider := func(ns, name, externalName string) *v1alpha1.ProxyProvider {
		p := &v1alpha1.ProxyProvider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		if externalName != "" {
			meta.SetExternalName(p, externalName)
		}
		return p
	}
	apps := []client.Object{
		app("team-a", "by-default-kind", ref("", "grafana")),
		app("team-a", "by-kind", ref(v1alpha1.ProxyProviderKind, "grafana")),
		app("team-a", "other-provider", ref("", "longhorn")),
		app("team-a", "oauth2-of-same-name", ref(v1alpha1.OAuth2ProviderKind, "grafana")),
		app("team-a", "no-reference", nil),
		app("team-b", "other-namespace", ref("", "grafana")),
	}
	req := func(name string) reconcile.Request {
		return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "team-a", Name: name}}
	}
	cases := map[string]struct {
		reason   string
		old, new *v1alpha1.ProxyProvider
		want     []reconcile.Request
	}{
		"Created": {
			reason: "A provider that gets its pk wakes the applications in its namespace that refer to it by name, with or without a kind.",
			old:    provider("team-a", "grafana", ""), new: provider("team-a", "grafana", "17"),
			want: []reconcile.Request{req("by-default-kind"), req("by-kind")},
		},
		"Recreated": {
			reason: "A provider made again under a new pk wakes them too.",
			old:    provider("team-a", "grafana", "17"), new: provider("team-a", "grafana", "18"),
			want: []reconcile.Request{req("by-default-kind"), req("by-kind")},
		},
		"Unchanged": {
			reason: "Any other change, such as a status write, wakes nobody.",
			old:    provider("team-a", "grafana", "17"), new: provider("team-a", "grafana", "17"),
		},
		"Lost": {
			reason: "A provider that has no pk any more has nothing to resolve to.",
			old:    provider("team-a", "grafana", "17"), new: provider("team-a", "grafana", ""),
		},
	}
	s := runtime.NewScheme()
	if err := apis.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	kube := fake.NewClientBuilder().WithScheme(s).WithObjects(apps...).Build()
	d := ProviderDependencies(func(mg resource.Managed) *v1alpha1.ProviderReference {
		return mg.(*v1alpha1.Application).Spec.ForProvider.ProviderRef
	})[0]
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var got []reconcile.Request
			if d.ValueChanged().Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}) {
				got = d.Referrers(kube, &v1alpha1.ApplicationList{})(context.Background(), tc.new)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nrequests (-want, +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestWaitsForDependencies(t *testing.T) {
	t.Parallel()
	provider := func(mods ...func(*v1alpha1.ProxyProvider)) *v1alpha1.ProxyProvider {
		p := &v1alpha1.ProxyProvider{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "grafana"}}
		for _, m := range mods {
			m(p)
		}
		return p
	}
	withPK := func(p *v1alpha1.ProxyProvider) { meta.SetExternalName(p, "17") }
	failing := func(p *v1alpha1.ProxyProvider) { p.SetConditions(xpv2.ReconcileError(errors.New("boom"))) }
	deleting := func(p *v1alpha1.ProxyProvider) {
		p.SetFinalizers([]string{"keep"})
		p.SetDeletionTimestamp(&metav1.Time{Time: time.Now()})
	}
	app := func(mods ...func(*v1alpha1.Application)) *v1alpha1.Application {
		a := &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "grafana"}, Spec: v1alpha1.ApplicationSpec{ForProvider: v1alpha1.ApplicationParameters{
			ProviderRef: &v1alpha1.ProviderReference{Reference: xpv2.Reference{Name: "grafana"}},
		}}}
		for _, m := range mods {
			m(a)
		}
		return a
	}
	cases := map[string]struct {
		reason     string
		objects    []client.Object
		reconciles bool
		// wait is at most the poll, here a minute.
		wait time.Duration
	}{
		"BeingMade": {
			reason:  "A provider that has no pk yet and is not failing holds the application back.",
			objects: []client.Object{app(), provider()},
		},
		"Made": {
			reason:  "A provider with its pk lets the application through.",
			objects: []client.Object{app(), provider(withPK)}, reconciles: true,
		},
		"Missing": {
			reason:  "A provider that does not exist is not waited for: the application says so itself.",
			objects: []client.Object{app(func(a *v1alpha1.Application) { a.CreationTimestamp = metav1.NewTime(time.Now().Add(-time.Minute)) })}, reconciles: true,
		},
		"MissingForANewResource": {
			reason:  "A new application waits for a provider that does not exist yet: the provider may see it before the provider made with it.",
			objects: []client.Object{app(func(a *v1alpha1.Application) { a.CreationTimestamp = metav1.Now() })}, wait: 25 * time.Second,
		},
		"Failing": {
			reason:  "A provider that fails is not waited for either.",
			objects: []client.Object{app(), provider(failing)}, reconciles: true,
		},
		"Deleted": {
			reason:  "Nor is one being deleted.",
			objects: []client.Object{app(), provider(deleting)}, reconciles: true,
		},
		"AlreadyCreated": {
			reason:  "An application Authentik has is never held back.",
			objects: []client.Object{app(func(a *v1alpha1.Application) { meta.SetExternalName(a, "grafana") }), provider()}, reconciles: true,
		},
	}
	s := runtime.NewScheme()
	if err := apis.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	deps := ProviderDependencies(func(mg resource.Managed) *v1alpha1.ProviderReference {
		return mg.(*v1alpha1.Application).Spec.ForProvider.ProviderRef
	})
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			kube := fake.NewClientBuilder().WithScheme(s).WithObjects(tc.objects...).Build()
			reconciled := false
			inner := reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
				reconciled = true
				return reconcile.Result{}, nil
			})
			got, err := WaitsForDependencies(kube, &v1alpha1.Application{}, deps, inner, time.Minute).Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "team-a", Name: "grafana"}})
			if err != nil {
				t.Fatal(err)
			}
			want := reconcile.Result{RequeueAfter: time.Minute}
			switch {
			case tc.reconciles:
				want = reconcile.Result{}
			case tc.wait > 0:
				// What is left of the half minute a new resource waits.
				if got.RequeueAfter > 30*time.Second || got.RequeueAfter < tc.wait {
					t.Errorf("%s\nRequeueAfter %s, want between %s and 30s", tc.reason, got.RequeueAfter, tc.wait)
				}
				want = got
			}
			if diff := cmp.Diff(struct {
				Reconciled bool
				Result     reconcile.Result
			}{tc.reconciles, want}, struct {
				Reconciled bool
				Result     reconcile.Result
			}{reconciled, got}); diff != "" {
				t.Errorf("%s\n(-want, +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDependencyWakes(t *testing.T) {
	t.Parallel()
	binding := func(app string) *v1alpha1.PolicyBinding {
		b := &v1alpha1.PolicyBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "admins"}}
		if app != "" {
			b.Spec.ForProvider.ApplicationRef = &xpv2.Reference{Name: app}
		}
		return b
	}
	d := Dependency{Object: &v1alpha1.PolicyBinding{}, Value: ExternalName, Wakes: func(_ context.Context, _ client.Reader, o client.Object) []string {
		if r := o.(*v1alpha1.PolicyBinding).Spec.ForProvider.ApplicationRef; r != nil {
			return []string{r.Name}
		}
		return nil
	}}
	cases := map[string]struct {
		reason string
		obj    *v1alpha1.PolicyBinding
		want   []reconcile.Request
	}{
		"NamesItsApplication": {
			reason: "A binding wakes the application it names, in its own namespace, without listing applications.",
			obj:    binding("grafana"),
			want:   []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: "team-a", Name: "grafana"}}},
		},
		"NamesNone": {
			reason: "A binding that names no application by reference wakes none.",
			obj:    binding(""),
		},
	}
	s := runtime.NewScheme()
	if err := apis.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	kube := fake.NewClientBuilder().WithScheme(s).Build()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := d.Referrers(kube, &v1alpha1.ApplicationList{})(context.Background(), tc.obj)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
