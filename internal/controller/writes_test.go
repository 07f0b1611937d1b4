package controller_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/application"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/outpostbinding"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/policybinding"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/proxyprovider"
)

const service = "grafana"

func spec() xpv2.ManagedResourceSpec {
	return xpv2.ManagedResourceSpec{
		ProviderConfigReference: &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: mrtest.ConfigName},
		ManagementPolicies:      xpv2.ManagementPolicies{xpv2.ManagementActionAll},
	}
}

func objectMeta(name string) metav1.ObjectMeta {
	// The usage tracker names each resource's ProviderConfigUsage by its
	// UID, which the fake API server does not assign.
	return metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: name, UID: types.UID("uid-" + name)}
}

// composed are the resources the Composition makes of a ProxyConfig named
// service, with allowedGroups groups.
func composed(groups []string) []resource.Managed {
	ref := &v1alpha1.ProviderReference{Reference: xpv2.Reference{Name: service}}
	mrs := []resource.Managed{
		&v1alpha1.Application{ObjectMeta: objectMeta(service), Spec: v1alpha1.ApplicationSpec{ManagedResourceSpec: spec(), ForProvider: v1alpha1.ApplicationParameters{
			Name: ptr.To(service), Slug: ptr.To(service), ProviderRef: ref,
		}}},
	}
	for i, g := range groups {
		mrs = append(mrs, &v1alpha1.PolicyBinding{ObjectMeta: objectMeta(service + "-" + g), Spec: v1alpha1.PolicyBindingSpec{ManagedResourceSpec: spec(), ForProvider: v1alpha1.PolicyBindingParameters{
			ApplicationRef: &xpv2.Reference{Name: service}, GroupName: ptr.To(g), Order: ptr.To(int32(i)),
		}}})
	}
	return append(mrs,
		&v1alpha1.OutpostBinding{ObjectMeta: objectMeta(service), Spec: v1alpha1.OutpostBindingSpec{ManagedResourceSpec: spec(), ForProvider: v1alpha1.OutpostBindingParameters{
			ProviderRef: ref, RequiredGroups: groups,
		}}},
		&v1alpha1.ProxyProvider{ObjectMeta: objectMeta(service), Spec: v1alpha1.ProxyProviderSpec{ManagedResourceSpec: spec(), ForProvider: v1alpha1.ProxyProviderParameters{
			Name: ptr.To(service), Mode: ptr.To(v1alpha1.ProxyModeForwardSingle), ExternalHost: ptr.To("https://" + service + ".example.com"),
		}}},
	)
}

// TestCreateWrites counts the writes that change each composed resource
// from its creation until it is Ready. Crossplane reconciles the
// composite on each of them, applying every composed resource again, so
// on a busy API server they set how fast ProxyConfigs become Ready. The
// resources are reconciled in the worst order, each before what it
// refers to exists in Authentik.
func TestCreateWrites(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		groups []string
		// want: writes per resource, by kind. A managed resource needs
		// four: the finalizer, resolved references and create-pending
		// annotation; the external name with the late-initialized spec;
		// the Creating status; the Available status with what Authentik
		// reports. An outpost binding also records its intent to attach.
		// Reconciles before what a resource refers to has its value
		// write nothing.
		want map[string]int
	}{
		"Plain": {
			reason: "A ProxyConfig without allowedGroups: provider, application, outpost binding.",
			want:   map[string]int{"ProxyProvider": 4, "Application": 4, "OutpostBinding": 5},
		},
		"AllowedGroups": {
			reason: "With allowedGroups, a policy binding per group, which waits for the application.",
			groups: []string{"admins"},
			want:   map[string]int{"ProxyProvider": 4, "Application": 4, "PolicyBinding": 4, "OutpostBinding": 5},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			for _, g := range tc.groups {
				if _, resp, err := env.Authentik.API.CoreAPI.CoreGroupsCreate(context.Background()).GroupRequest(*api.NewGroupRequest(g)).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
			}
			// As the provider runs them: held back while what they refer
			// to is being made.
			reconcilers := map[string]reconcile.Reconciler{
				"ProxyProvider":  env.Reconciler(proxyprovider.Kind, proxyprovider.ReconcilerOptions(env.Kube, env.Connector)...),
				"Application":    mrbehavior.WaitsForDependencies(env.Kube, application.Kind.Object, application.Kind.Dependencies, env.Reconciler(application.Kind, application.ReconcilerOptions(env.Kube, env.Connector)...), time.Minute),
				"PolicyBinding":  mrbehavior.WaitsForDependencies(env.Kube, policybinding.Kind.Object, policybinding.Kind.Dependencies, env.Reconciler(policybinding.Kind, policybinding.ReconcilerOptions(env.Kube, env.Connector)...), time.Minute),
				"OutpostBinding": mrbehavior.WaitsForDependencies(env.Kube, outpostbinding.Kind.Object, outpostbinding.Kind.Dependencies, env.Reconciler(outpostbinding.Kind, outpostbinding.ReconcilerOptions(env.Kube, env.Connector, authentik.NewOutpostLists(authentik.SerializePerOutpost))...), time.Minute),
			}
			mrs := composed(tc.groups)
			for _, mr := range mrs {
				env.Create(mr)
			}
			// Each resource is reconciled once before what it refers to
			// exists, then settled in the order references need.
			for _, mr := range mrs {
				if _, err := env.Reconcile(reconcilers[kind(mr)], client.ObjectKeyFromObject(mr)); err != nil {
					t.Fatalf("reconcile %s: %v", kind(mr), err)
				}
			}
			for _, mr := range append(mrs[len(mrs)-1:], mrs[:len(mrs)-1]...) {
				env.Settle(reconcilers[kind(mr)], mr)
			}

			got := map[string]int{}
			for _, mr := range mrs {
				env.Get(mr)
				if c := mr.GetCondition(xpv2.TypeReady); c.Status != "True" {
					t.Fatalf("%s is not Ready: %s %s", kind(mr), c.Reason, c.Message)
				}
				// Whatever is made in Authentik is deleted with the resource.
				if !meta.FinalizerExists(mr, managed.FinalizerName) {
					t.Errorf("%s exists in Authentik (external name %q) but has no finalizer", kind(mr), meta.GetExternalName(mr))
				}
				got[kind(mr)] = max(got[kind(mr)], env.Changes(mr))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nwrites that changed each resource until Ready (-want, +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func kind(mr resource.Managed) string {
	switch mr.(type) {
	case *v1alpha1.ProxyProvider:
		return "ProxyProvider"
	case *v1alpha1.Application:
		return "Application"
	case *v1alpha1.PolicyBinding:
		return "PolicyBinding"
	default:
		return "OutpostBinding"
	}
}

// TestFinalizerBeforeCreate stops the provider right after each kind's
// create in Authentik, before it records the external name: the finalizer
// must already be stored, or deleting the resource then would leave what
// it made in Authentik.
func TestFinalizerBeforeCreate(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	mrs := composed(nil)
	for _, mr := range mrs {
		env.Create(mr)
	}
	pp := mrs[len(mrs)-1]
	env.Settle(env.Reconciler(proxyprovider.Kind, proxyprovider.ReconcilerOptions(env.Kube, env.Connector)...), pp)

	cases := map[string]struct {
		mr resource.Managed
		r  reconcile.Reconciler
	}{
		"Application": {
			mr: mrs[0],
			r:  env.CrashingReconciler(application.Kind, application.ReconcilerOptions(env.Kube, env.Connector)...),
		},
		"OutpostBinding": {
			mr: mrs[1],
			r:  env.CrashingReconciler(outpostbinding.Kind, outpostbinding.ReconcilerOptions(env.Kube, env.Connector, authentik.NewOutpostLists(authentik.SerializePerOutpost))...),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			writes := env.Sim.WriteCounts()
			_, _ = env.Reconcile(tc.r, client.ObjectKeyFromObject(tc.mr))
			if cmp.Equal(writes, env.Sim.WriteCounts()) {
				t.Fatalf("%s made nothing in Authentik", name)
			}
			env.Get(tc.mr)
			if !meta.FinalizerExists(tc.mr, managed.FinalizerName) {
				t.Errorf("%s: created in Authentik, external name not recorded, and no finalizer stored: %v", name, tc.mr.GetFinalizers())
			}
		})
	}
}
