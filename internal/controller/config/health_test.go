package config

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/providerconfig"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	resourcefake "github.com/crossplane/crossplane-runtime/v2/pkg/resource/fake"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/group"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

const (
	poll       = 7 * time.Minute
	teamConfig = "team"
)

var (
	clusterKind = Kinds[1]
	localKind   = Kinds[0]
	defaultKey  = types.NamespacedName{Name: mrtest.ConfigName}
	teamKey     = types.NamespacedName{Namespace: mrtest.Namespace, Name: teamConfig}
)

// health is what a check recorded on a config, reduced to what a user reads.
type health struct {
	Ready, Reachable, Token, Version, Permitted corev1.ConditionStatus
	Reason                                      xpv2.ConditionReason
	// Message is a part of Ready's message the case expects, or all of it.
	Message          string
	AuthentikVersion string
	Requeue          time.Duration
}

func healthOf(pc checkedConfig, res reconcile.Result, messageHas string) health {
	ready := pc.GetCondition(xpv2.TypeReady)
	h := health{
		Ready:            ready.Status,
		Reachable:        pc.GetCondition(v1alpha1.TypeAuthentikReachable).Status,
		Token:            pc.GetCondition(v1alpha1.TypeTokenAccepted).Status,
		Version:          pc.GetCondition(v1alpha1.TypeVersionSupported).Status,
		Permitted:        pc.GetCondition(v1alpha1.TypeTokenPermitted).Status,
		Reason:           ready.Reason,
		Message:          ready.Message,
		AuthentikVersion: pc.GetAuthentikVersion(),
		Requeue:          res.RequeueAfter,
	}
	if messageHas != "" && strings.Contains(h.Message, messageHas) {
		h.Message = messageHas
	}
	return h
}

func healthReconciler(env *mrtest.Env, k Kind) *HealthReconciler {
	return newHealthReconciler(env.Kube, env.Connector, k.New, poll, logging.NewNopLogger())
}

func teamSecret(token string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: mrtest.SecretName},
		Data:       map[string][]byte{mrtest.SecretKey: []byte(token)},
	}
}

// TestHealth runs the health reconciler against the simulator over HTTP
// and reads back what it recorded on the config.
func TestHealth(t *testing.T) {
	t.Parallel()
	line, err := authentiksim.LookupLine(mrtest.ReleaseLine())
	if err != nil {
		t.Fatal(err)
	}
	release := line.Release
	cases := map[string]struct {
		reason string
		kind   Kind
		// setup changes the world before the check; it returns the
		// namespaced config to check, if any.
		setup func(t *testing.T, env *mrtest.Env)
		want  health
		// requests is whether the check may reach the simulator at all.
		requests bool
	}{
		"Healthy": {
			reason:   "Authentik answers, accepts the token and runs a supported version: Ready, with the version.",
			kind:     clusterKind,
			setup:    func(*testing.T, *mrtest.Env) {},
			want:     health{Ready: "True", Reachable: "True", Token: "True", Version: "True", Permitted: "True", Reason: xpv2.ReasonAvailable, Message: "Authentik " + release + " at ", AuthentikVersion: release, Requeue: poll},
			requests: true,
		},
		"HealthyNamespaced": {
			reason: "A ProviderConfig with a token Secret in its own namespace is checked the same way.",
			kind:   localKind,
			setup: func(t *testing.T, env *mrtest.Env) {
				env.Create(teamSecret(mrtest.Token))
				env.Create(&v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: teamConfig}, Spec: mrtest.LocalConfigSpec(env.Sim.URL, mrtest.SecretName)})
			},
			want:     health{Ready: "True", Reachable: "True", Token: "True", Version: "True", Permitted: "True", Reason: xpv2.ReasonAvailable, Message: "accepts the token", AuthentikVersion: release, Requeue: poll},
			requests: true,
		},
		"TokenRefused": {
			reason:   "A token Authentik does not know: not Ready, saying the token was refused and why.",
			kind:     clusterKind,
			setup:    func(_ *testing.T, env *mrtest.Env) { env.WriteToken("not-the-token") },
			want:     health{Ready: "False", Reachable: "True", Token: "False", Version: "Unknown", Permitted: "Unknown", Reason: v1alpha1.ReasonTokenRefused, Message: "refused the token: Token invalid/expired", Requeue: poll},
			requests: true,
		},
		"Unreachable": {
			reason: "Nothing listens at the URL: not Ready, saying Authentik is unreachable.",
			kind:   clusterKind,
			setup:  func(_ *testing.T, env *mrtest.Env) { env.Sim.GoDown() },
			want:   health{Ready: "False", Reachable: "False", Token: "Unknown", Version: "Unknown", Permitted: "Unknown", Reason: v1alpha1.ReasonUnreachable, Message: "is unreachable", Requeue: poll},
		},
		"ServerFailing": {
			reason: "Authentik answers only 503 (after the client's retries): unreachable, with the answer.",
			kind:   clusterKind,
			setup: func(_ *testing.T, env *mrtest.Env) {
				env.Sim.SetFault("admin_version_retrieve", authentiksim.Fault{Status: http.StatusServiceUnavailable})
			},
			want:     health{Ready: "False", Reachable: "False", Token: "Unknown", Version: "Unknown", Permitted: "Unknown", Reason: v1alpha1.ReasonUnreachable, Message: "is unreachable: Authentik answered 503", Requeue: poll},
			requests: true,
		},
		"NoAuthentikAtURL": {
			reason: "A URL where no Authentik API answers (404): unreachable.",
			kind:   clusterKind,
			setup: func(t *testing.T, env *mrtest.Env) {
				pc := &v1alpha1.ClusterProviderConfig{}
				if err := env.Kube.Get(context.Background(), defaultKey, pc); err != nil {
					t.Fatal(err)
				}
				pc.Spec.URL = env.Sim.URL + "/not-authentik"
				if err := env.Kube.Update(context.Background(), pc); err != nil {
					t.Fatal(err)
				}
			},
			want: health{Ready: "False", Reachable: "False", Token: "Unknown", Version: "Unknown", Permitted: "Unknown", Reason: v1alpha1.ReasonUnreachable, Message: "is unreachable: Authentik answered 404", Requeue: poll},
		},
		"VersionNotShown": {
			reason: "A 403 that is not an authentication failure comes after the token was accepted (a token without rights to the view): Ready, version unknown, never 'refused'.",
			kind:   clusterKind,
			setup: func(_ *testing.T, env *mrtest.Env) {
				env.Sim.SetFault("admin_version_retrieve", authentiksim.Fault{Status: http.StatusForbidden})
			},
			want:     health{Ready: "True", Reachable: "True", Token: "True", Version: "Unknown", Permitted: "True", Reason: xpv2.ReasonAvailable, Message: "its version is unknown", Requeue: poll},
			requests: true,
		},
		"PermissionMissing": {
			reason: "A token whose user may not create groups or proxy providers: not Ready, naming both permissions as Authentik's RBAC does.",
			kind:   clusterKind,
			setup: func(_ *testing.T, env *mrtest.Env) {
				env.Sim.WithholdPermissions("authentik_core.add_group", "authentik_providers_proxy.add_proxyprovider", "authentik_core.delete_group")
			},
			want: health{Ready: "False", Reachable: "True", Token: "True", Version: "True", Permitted: "False", Reason: v1alpha1.ReasonPermissionMissing,
				Message:          "Authentik refuses the token's user authentik_providers_proxy.add_proxyprovider, authentik_core.add_group (403 to a create)",
				AuthentikVersion: release, Requeue: poll},
			requests: true,
		},
		"PermissionProbeFails": {
			reason: "A probe answered neither 403 nor 415 cannot tell: Ready stays as the token check found it, TokenPermitted Unknown.",
			kind:   clusterKind,
			setup: func(_ *testing.T, env *mrtest.Env) {
				env.Sim.SetFault("core_groups_create", authentiksim.Fault{Status: http.StatusServiceUnavailable})
			},
			want:     health{Ready: "True", Reachable: "True", Token: "True", Version: "True", Permitted: "Unknown", Reason: xpv2.ReasonAvailable, Message: "accepts the token", AuthentikVersion: release, Requeue: poll},
			requests: true,
		},
		"BorrowedSecret": {
			reason: "A ProviderConfig naming the platform team's Secret is not usable, says which field, and Authentik is not asked.",
			kind:   localKind,
			setup: func(_ *testing.T, env *mrtest.Env) {
				spec := mrtest.LocalConfigSpec(env.Sim.URL, mrtest.SecretName)
				spec.Credentials.SecretRef.Namespace = mrtest.SecretNS
				env.Create(&v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: teamConfig}, Spec: spec})
			},
			want: health{Ready: "False", Reachable: "Unknown", Token: "Unknown", Version: "Unknown", Permitted: "Unknown", Reason: v1alpha1.ReasonConfigInvalid, Message: "spec.credentials.secretRef.namespace", Requeue: poll},
		},
		"MissingSecret": {
			reason: "A token Secret that does not exist: not usable, and Authentik is not asked.",
			kind:   localKind,
			setup: func(_ *testing.T, env *mrtest.Env) {
				env.Create(&v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: teamConfig}, Spec: mrtest.LocalConfigSpec(env.Sim.URL, "absent")})
			},
			want: health{Ready: "False", Reachable: "Unknown", Token: "Unknown", Version: "Unknown", Permitted: "Unknown", Reason: v1alpha1.ReasonConfigInvalid, Message: "cannot read the Authentik API token", Requeue: poll},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			tc.setup(t, env)
			key := defaultKey
			if tc.kind.Namespaced {
				key = teamKey
			}
			res, err := env.Reconcile(healthReconciler(env, tc.kind), key)
			if err != nil {
				t.Fatal(err)
			}
			pc := tc.kind.New()
			env.Get(withKey(pc, key))
			if diff := cmp.Diff(tc.want, healthOf(pc, res, tc.want.Message)); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			if got := countRequests(env.Sim.Server) > 0; got != tc.requests {
				t.Errorf("%s\nrequests reached the simulator: %v, want %v", tc.reason, got, tc.requests)
			}
		})
	}
}

// TestHealthConditions covers what the simulator cannot answer: versions
// outside the supported range, and ones that cannot be read.
func TestHealthConditions(t *testing.T) {
	t.Parallel()
	type want struct {
		version  string
		ready    corev1.ConditionStatus
		reason   xpv2.ConditionReason
		message  string
		supports corev1.ConditionStatus
	}
	cases := map[string]struct {
		reason string
		health authentik.Health
		want   want
	}{
		"Oldest": {
			reason: "The oldest supported line, at any patch release.",
			health: authentik.Health{URL: "https://a", Version: "2024.12.0"},
			want:   want{version: "2024.12.0", ready: "True", reason: xpv2.ReasonAvailable, message: "Authentik 2024.12.0 at https://a accepts the token", supports: "True"},
		},
		"Newest": {
			reason: "The newest supported line, release candidates included.",
			health: authentik.Health{URL: "https://a", Version: "2026.8.0-rc1"},
			want:   want{version: "2026.8.0-rc1", ready: "True", reason: xpv2.ReasonAvailable, message: "Authentik 2026.8.0-rc1 at https://a accepts the token", supports: "True"},
		},
		"TooOld": {
			reason: "A release before the range is named in Ready with the range.",
			health: authentik.Health{URL: "https://a", Version: "2024.10.5"},
			want:   want{version: "2024.10.5", ready: "False", reason: v1alpha1.ReasonUnsupportedVersion, message: "Authentik 2024.10.5 is outside the supported range 2024.12 to 2026.8", supports: "False"},
		},
		"TooNew": {
			reason: "A release after the range is named in Ready with the range.",
			health: authentik.Health{URL: "https://a", Version: "2026.11.1"},
			want:   want{version: "2026.11.1", ready: "False", reason: v1alpha1.ReasonUnsupportedVersion, message: "Authentik 2026.11.1 is outside the supported range 2024.12 to 2026.8", supports: "False"},
		},
		"NextYear": {
			reason: "A minor number below the oldest's does not make a later year older.",
			health: authentik.Health{URL: "https://a", Version: "2025.2.1"},
			want:   want{version: "2025.2.1", ready: "True", reason: xpv2.ReasonAvailable, message: "Authentik 2025.2.1 at https://a accepts the token", supports: "True"},
		},
		"Unreadable": {
			reason: "A version the provider cannot read is reported with the range.",
			health: authentik.Health{URL: "https://a", Version: "main-abc123"},
			want:   want{version: "main-abc123", ready: "False", reason: v1alpha1.ReasonUnsupportedVersion, message: `cannot read the Authentik version "main-abc123"; the provider supports 2024.12 to 2026.8`, supports: "False"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			version, conds := healthConditions(tc.health, permissions{}, nil)
			s := xpv2.ConditionedStatus{}
			s.SetConditions(conds...)
			ready := s.GetCondition(xpv2.TypeReady)
			got := want{version: version, ready: ready.Status, reason: ready.Reason, message: ready.Message, supports: s.GetCondition(v1alpha1.TypeVersionSupported).Status}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestHealthKeepsUsageCount runs crossplane-runtime's usage reconciler and
// the health reconciler on one config: each keeps what the other wrote.
func TestHealthKeepsUsageCount(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	cr := &v1alpha1.Group{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "g", UID: "6d1f2c3a-0000-4000-8000-0000000000bb"},
		Spec: v1alpha1.GroupSpec{
			ManagedResourceSpec: xpv2.ManagedResourceSpec{ProviderConfigReference: &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: mrtest.ConfigName}},
			ForProvider:         v1alpha1.GroupParameters{Name: ptr.To("g")},
		},
	}
	env.Create(cr)
	if err := env.Connector.Usage.Track(context.Background(), cr); err != nil {
		t.Fatal(err)
	}
	usage := providerconfig.NewReconciler(&resourcefake.Manager{Client: kindSetting{env.Kube}, Scheme: env.Kube.Scheme()}, resource.ProviderConfigKinds{
		Config:    clusterKind.GroupVersionKind,
		Usage:     v1alpha1.ProviderConfigUsageGroupVersionKind,
		UsageList: v1alpha1.ProviderConfigUsageListGroupVersionKind,
	})
	for _, r := range []reconcile.Reconciler{usage, healthReconciler(env, clusterKind), usage} {
		if _, err := env.Reconcile(r, defaultKey); err != nil {
			t.Fatal(err)
		}
	}
	pc := &v1alpha1.ClusterProviderConfig{}
	env.Get(withKey(pc, defaultKey))
	type want struct {
		Users   int64
		Ready   corev1.ConditionStatus
		Version string
	}
	got := want{Users: pc.GetUsers(), Ready: pc.GetCondition(xpv2.TypeReady).Status, Version: pc.GetAuthentikVersion()}
	if diff := cmp.Diff(want{Users: 1, Ready: "True", Version: env.Sim.Line().Release}, got); diff != "" {
		t.Errorf("usage count and health must both survive the other's writes (-want, +got):\n%s", diff)
	}
}

// TestUnhealthyConfigInSynced drives a managed resource's real reconciler
// (every kind connects through the same Connector) after the health check
// recorded an unhealthy config: Synced names the config's kind and name.
// A status that is out of date does not hold the resource back.
func TestUnhealthyConfigInSynced(t *testing.T) {
	t.Parallel()
	type want struct {
		synced  corev1.ConditionStatus
		message string
	}
	cases := map[string]struct {
		reason string
		// before breaks things before the health check, after changes them
		// between the check and the resource's reconcile.
		before, after func(env *mrtest.Env)
		want          want
	}{
		"TokenRefused": {
			reason: "The config's token is refused: the resource says which config and why.",
			before: func(env *mrtest.Env) { env.WriteToken("not-the-token") },
			after:  func(*mrtest.Env) {},
			want:   want{synced: "False", message: "ClusterProviderConfig default is not ready: Authentik at "},
		},
		"Unreachable": {
			reason: "Authentik is gone: the resource says which config cannot reach it.",
			before: func(env *mrtest.Env) { env.Sim.GoDown() },
			after:  func(*mrtest.Env) {},
			want:   want{synced: "False", message: "ClusterProviderConfig default is not ready: Authentik at "},
		},
		"RecoveredSinceCheck": {
			reason: "The token was fixed after the last check: the resource proceeds at once.",
			before: func(env *mrtest.Env) { env.WriteToken("not-the-token") },
			after:  func(env *mrtest.Env) { env.WriteToken(mrtest.Token) },
			want:   want{synced: "True"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			tc.before(env)
			if _, err := env.Reconcile(healthReconciler(env, clusterKind), defaultKey); err != nil {
				t.Fatal(err)
			}
			tc.after(env)
			cr := &v1alpha1.Group{
				ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "g", UID: "6d1f2c3a-0000-4000-8000-0000000000cc"},
				Spec: v1alpha1.GroupSpec{
					ManagedResourceSpec: xpv2.ManagedResourceSpec{
						ProviderConfigReference: &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: mrtest.ConfigName},
						ManagementPolicies:      xpv2.ManagementPolicies{xpv2.ManagementActionAll},
					},
					ForProvider: v1alpha1.GroupParameters{Name: ptr.To("g")},
				},
			}
			env.Create(cr)
			r := env.Reconciler(group.Kind, group.ReconcilerOptions(env.Kube, env.Connector)...)
			if _, err := env.Reconcile(r, client.ObjectKeyFromObject(cr)); err != nil {
				t.Fatal(err)
			}
			env.Get(cr)
			synced := cr.GetCondition(xpv2.TypeSynced)
			got := want{synced: synced.Status}
			if tc.want.message != "" && strings.Contains(synced.Message, tc.want.message) {
				got.message = tc.want.message
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nSynced: %s\n-want, +got:\n%s", tc.reason, synced.Message, diff)
			}
		})
	}
}

// TestConfigsUsingSecret maps a changed Secret to the configs that read it.
func TestConfigsUsingSecret(t *testing.T) {
	t.Parallel()
	other := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.SecretNS, Name: "other"}}
	tokenInTeam := teamSecret(mrtest.Token)
	tokenInSystem := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.SecretNS, Name: mrtest.SecretName}}
	caOnly := mrtest.ConfigSpec("https://a")
	caOnly.Credentials.SecretRef.Name = "unrelated"
	caOnly.TLS = &v1alpha1.TLSConfig{CABundleSecretRef: &xpv2.SecretKeySelector{SecretReference: xpv2.SecretReference{Namespace: mrtest.SecretNS, Name: "other"}, Key: "ca.crt"}}
	// Objects of their own for each parallel case: the fake client sets
	// their resource version.
	objs := func() []client.Object {
		return []client.Object{
			&v1alpha1.ClusterProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: "with-ca"}, Spec: *caOnly.DeepCopy()},
			&v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: teamConfig}, Spec: mrtest.LocalConfigSpec("https://a", mrtest.SecretName)},
		}
	}
	cases := map[string]struct {
		reason string
		kind   Kind
		secret client.Object
		want   []reconcile.Request
	}{
		"ClusterToken": {
			reason: "The default config reads the token Secret in crossplane-system.",
			kind:   clusterKind, secret: tokenInSystem,
			want: []reconcile.Request{{NamespacedName: defaultKey}},
		},
		"ClusterCABundle": {
			reason: "A CA bundle Secret counts as much as the token's.",
			kind:   clusterKind, secret: other,
			want: []reconcile.Request{{NamespacedName: types.NamespacedName{Name: "with-ca"}}},
		},
		"NamespacedOwnSecret": {
			reason: "A ProviderConfig reads the Secret of that name in its own namespace.",
			kind:   localKind, secret: tokenInTeam,
			want: []reconcile.Request{{NamespacedName: teamKey}},
		},
		"NamespacedNotElsewhere": {
			reason: "A Secret of the same name in another namespace is not a ProviderConfig's.",
			kind:   localKind, secret: tokenInSystem,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t, objs()...)
			got, err := configsUsingSecret(context.Background(), env.Kube, tc.kind, tc.secret)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// kindSetting sets the kind of the objects it reads, as the manager's cache
// does and the fake client does not: crossplane-runtime's usage reconciler
// selects usages by the kind of the config it read.
type kindSetting struct{ client.Client }

func (c kindSetting) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if err := c.Client.Get(ctx, key, obj, opts...); err != nil {
		return err
	}
	gvk, err := apiutil.GVKForObject(obj, c.Scheme())
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return err
}

func withKey(pc checkedConfig, key types.NamespacedName) checkedConfig {
	pc.SetNamespace(key.Namespace)
	pc.SetName(key.Name)
	return pc
}

func countRequests(s *authentiksim.Server) int {
	n := 0
	for _, c := range s.Counts() {
		n += c
	}
	return n
}

// TestPermissionsAskedAgain checks when a config's permissions are asked:
// at the first check, not at the next one with the same URL and token (a
// healthy config's poll stays at three requests), and again once the token
// changes, so a new token's missing permission shows at once.
func TestPermissionsAskedAgain(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	r := healthReconciler(env, clusterKind)
	probes := len(authentik.PermissionProbes)
	steps := []struct {
		reason    string
		change    func()
		requests  int
		permitted corev1.ConditionStatus
	}{
		{reason: "The first check asks every permission.", change: func() {}, requests: 3 + probes, permitted: "True"},
		{reason: "The same URL and token are not asked again within the hour, even if Authentik changed.", change: func() {
			env.Sim.WithholdPermissions("authentik_core.add_group")
		}, requests: 3, permitted: "True"},
		{reason: "A new token is asked at once.", change: func() { env.AcceptOnlyToken("rotated"); env.WriteToken("rotated") }, requests: 3 + probes, permitted: "False"},
	}
	for _, s := range steps {
		s.change()
		env.Sim.ResetCounts()
		if _, err := env.Reconcile(r, defaultKey); err != nil {
			t.Fatal(err)
		}
		pc := &v1alpha1.ClusterProviderConfig{}
		env.Get(withKey(pc, defaultKey))
		got := []any{countRequests(env.Sim.Server), pc.GetCondition(v1alpha1.TypeTokenPermitted).Status}
		if diff := cmp.Diff([]any{s.requests, s.permitted}, got); diff != "" {
			t.Errorf("%s\nrequests and TokenPermitted, -want +got:\n%s", s.reason, diff)
		}
	}
}
