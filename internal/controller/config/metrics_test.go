package config

import (
	"context"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

// configMetrics is what the metrics say of the cluster config checked.
type configMetrics struct {
	Reachable, TokenAccepted, TokenRefused, VersionSupported float64
	Version                                                  float64
	UnmanagedProviders, UnmanagedApplications                float64
	// Requests is how many requests the check sent to Authentik.
	Requests int
}

func readConfigMetrics(env *mrtest.Env, release string) configMetrics {
	cond := func(c, s string) float64 {
		return metrics.Value(env.States(), metrics.NameConfigs, map[string]string{"kind": v1alpha1.ClusterProviderConfigKind, "condition": c, "status": s})
	}
	return configMetrics{
		Reachable:             cond(metrics.ConditionReachable, "True"),
		TokenAccepted:         cond(metrics.ConditionTokenAccepted, "True"),
		TokenRefused:          cond(metrics.ConditionTokenAccepted, "False"),
		VersionSupported:      cond(metrics.ConditionVersionSupported, "True"),
		Version:               metrics.Value(env.States(), metrics.NameAuthentikVersion, map[string]string{"version": release}),
		UnmanagedProviders:    metrics.Value(env.States(), metrics.NameUnmanagedObjects, map[string]string{"kind": "ProxyProvider"}),
		UnmanagedApplications: metrics.Value(env.States(), metrics.NameUnmanagedObjects, map[string]string{"kind": "Application"}),
	}
}

// TestHealthMetrics checks what a health check of the cluster config puts
// into the metrics, and that counting unmanaged objects costs two list
// requests per check, whatever the number of managed resources.
func TestHealthMetrics(t *testing.T) {
	t.Parallel()
	line, err := authentiksim.LookupLine(mrtest.ReleaseLine())
	if err != nil {
		t.Fatal(err)
	}
	release := line.Release
	cases := map[string]struct {
		reason string
		setup  func(t *testing.T, env *mrtest.Env)
		want   configMetrics
	}{
		"HealthyNothingUnmanaged": {
			reason: "A healthy config with nothing in Authentik: reachable, token accepted, supported version, nothing unmanaged; one version request, one list per kind and, at this first check, one permission probe per kind the provider creates.",
			setup:  func(*testing.T, *mrtest.Env) {},
			want:   configMetrics{Reachable: 1, TokenAccepted: 1, VersionSupported: 1, Version: 1, Requests: 3 + len(authentik.PermissionProbes)},
		},
		"UnmanagedObjects": {
			reason: "A proxy provider and an application made directly in Authentik are unmanaged; the provider a ProxyProvider resource names by its external name is not, nor are the applications Application resources name, whichever config they use.",
			setup: func(t *testing.T, env *mrtest.Env) {
				owned := createProvider(t, env, "owned")
				createProvider(t, env, "orphan")
				createApplication(t, env, "owned-app")
				createApplication(t, env, "orphan-app")
				env.Create(managedBy(&v1alpha1.ProxyProvider{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "owned"}}, strconv.Itoa(int(owned))))
				env.Create(managedBy(&v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "owned-app"}}, "owned-app"))
				// A resource using another config of the same Authentik owns
				// its object too.
				other := managedBy(&v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "other-app"}}, "other-app")
				other.SetProviderConfigReference(&xpv2.ProviderConfigReference{Kind: v1alpha1.ProviderConfigKind, Name: teamConfig})
				createApplication(t, env, "other-app")
				env.Create(other)
			},
			want: configMetrics{Reachable: 1, TokenAccepted: 1, VersionSupported: 1, Version: 1, UnmanagedProviders: 1, UnmanagedApplications: 1, Requests: 3 + len(authentik.PermissionProbes)},
		},
		"TokenRefused": {
			reason: "A refused token shows as such; nothing is listed and unmanaged objects stay unknown (0).",
			setup: func(t *testing.T, env *mrtest.Env) {
				createProvider(t, env, "orphan")
				env.WriteToken("not-the-token")
			},
			want: configMetrics{Reachable: 1, TokenRefused: 1, Requests: 1},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			r := healthReconciler(env, clusterKind)
			tc.setup(t, env)
			env.Sim.ResetCounts()
			if _, err := env.Reconcile(r, defaultKey); err != nil {
				t.Fatal(err)
			}
			got := readConfigMetrics(env, release)
			got.Requests = countRequests(env.Sim.Server)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestHealthMetricsSharedAuthentik checks two configs reaching one
// Authentik: its unmanaged objects count once, stay counted while one of
// the configs is left, and go with the last; each config counts in the
// health metric until it is deleted.
func TestHealthMetricsSharedAuthentik(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	env.Create(teamSecret(mrtest.Token))
	env.Create(&v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: teamConfig}, Spec: mrtest.LocalConfigSpec(env.Sim.URL, mrtest.SecretName)})
	createProvider(t, env, "orphan")
	cluster, local := healthReconciler(env, clusterKind), healthReconciler(env, localKind)

	type state struct{ Configs, Unmanaged float64 }
	read := func() state {
		return state{
			Configs:   metrics.Value(env.States(), metrics.NameConfigs, map[string]string{"condition": metrics.ConditionReachable}),
			Unmanaged: metrics.Value(env.States(), metrics.NameUnmanagedObjects, map[string]string{"kind": "ProxyProvider"}),
		}
	}
	steps := []struct {
		reason string
		do     func()
		want   state
	}{
		{reason: "Both configs checked: two configs, one unmanaged provider.", do: func() {
			mustReconcile(t, env, cluster, defaultKey)
			mustReconcile(t, env, local, teamKey)
		}, want: state{Configs: 2, Unmanaged: 1}},
		{reason: "The cluster config deleted: the other still reaches the provider.", do: func() {
			pc := &v1alpha1.ClusterProviderConfig{}
			env.Get(withKey(pc, defaultKey))
			env.Delete(pc)
			mustReconcile(t, env, cluster, defaultKey)
		}, want: state{Configs: 1, Unmanaged: 1}},
		{reason: "The last config deleted: nothing is left.", do: func() {
			pc := &v1alpha1.ProviderConfig{}
			env.Get(withKey(pc, teamKey))
			env.Delete(pc)
			mustReconcile(t, env, local, teamKey)
		}, want: state{}},
	}
	for _, s := range steps {
		s.do()
		if diff := cmp.Diff(s.want, read()); diff != "" {
			t.Errorf("%s\n-want, +got:\n%s", s.reason, diff)
		}
	}
}

func mustReconcile(t *testing.T, env *mrtest.Env, r *HealthReconciler, key types.NamespacedName) {
	t.Helper()
	if _, err := env.Reconcile(r, key); err != nil {
		t.Fatal(err)
	}
}

type externallyNamed interface {
	*v1alpha1.ProxyProvider | *v1alpha1.Application
	SetProviderConfigReference(*xpv2.ProviderConfigReference)
	metav1.Object
}

// managedBy makes mg use the default cluster config and own the Authentik
// object named en.
func managedBy[T externallyNamed](mg T, en string) T {
	mg.SetProviderConfigReference(&xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: mrtest.ConfigName})
	meta.SetExternalName(mg, en)
	return mg
}

func createProvider(t *testing.T, env *mrtest.Env, name string) int32 {
	t.Helper()
	ctx := context.Background()
	authz, err := env.Authentik.FlowUUID(ctx, authentik.DefaultAuthorizationFlow)
	if err != nil {
		t.Fatal(err)
	}
	inval, err := env.Authentik.FlowUUID(ctx, authentik.DefaultInvalidationFlow)
	if err != nil {
		t.Fatal(err)
	}
	req := api.NewProxyProviderRequest(name, authz, inval, "https://"+name+".example.com")
	req.Mode = ptr.To(api.PROXYMODE_FORWARD_SINGLE)
	p, resp, err := env.Authentik.API.ProvidersAPI.ProvidersProxyCreate(ctx).ProxyProviderRequest(*req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return p.Pk
}

func createApplication(t *testing.T, env *mrtest.Env, slug string) {
	t.Helper()
	_, resp, err := env.Authentik.API.CoreAPI.CoreApplicationsCreate(context.Background()).ApplicationRequest(*api.NewApplicationRequest(slug, slug)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
}
