package authentik_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/group"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

const (
	configURL   = "https://authentik.example.com"
	teamSecret  = "team-token"
	teamToken   = "team-s3cret"
	adminToken  = "admin-s3cret"
	tokenEnvVar = "AUTHENTIK_TEST_TOKEN" //nolint:gosec // The name of a variable, not a token.
)

// tokenSecret holds token and a CA bundle under the names the configs in
// these tests use.
func tokenSecret(ns, token string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: teamSecret},
		Data:       map[string][]byte{mrtest.SecretKey: []byte(token + "\n"), "ca.crt": []byte("PEM " + ns)},
	}
}

func localConfig(mods ...func(*v1alpha1.ProviderConfigSpec)) *v1alpha1.ProviderConfig {
	pc := &v1alpha1.ProviderConfig{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "team"},
		Spec:       mrtest.LocalConfigSpec(configURL, teamSecret),
	}
	for _, m := range mods {
		m(&pc.Spec)
	}
	return pc
}

func clusterConfig(mods ...func(*v1alpha1.ClusterProviderConfigSpec)) *v1alpha1.ClusterProviderConfig {
	pc := &v1alpha1.ClusterProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: "shared"}, Spec: mrtest.ConfigSpec(configURL)}
	pc.Spec.Credentials.SecretRef.Name = teamSecret
	for _, m := range mods {
		m(&pc.Spec)
	}
	return pc
}

func TestResolve(t *testing.T) {
	// The Secrets the provider can read: the team's own, and the platform
	// team's admin token in crossplane-system, in the environment and in a
	// file. A namespaced config must reach only the first.
	t.Setenv(tokenEnvVar, adminToken)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(adminToken), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := []client.Object{tokenSecret(mrtest.Namespace, teamToken), tokenSecret(mrtest.SecretNS, adminToken)}
	local := &xpv2.ProviderConfigReference{Kind: v1alpha1.ProviderConfigKind, Name: "team"}
	cluster := &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: "shared"}

	type want struct {
		cfg authentik.Config
		// err is a part of the error's message, "" for no error.
		err string
	}
	cases := map[string]struct {
		reason string
		ref    *xpv2.ProviderConfigReference
		config client.Object
		want   want
	}{
		"NamespacedConfig": {
			reason: "A ProviderConfig is read from the resource's namespace, with its token from a Secret there, trimmed.",
			ref:    local,
			config: localConfig(),
			want:   want{cfg: authentik.Config{URL: configURL, Token: teamToken}},
		},
		"NamespacedConfigElsewhere": {
			reason: "A ProviderConfig in another namespace is not used.",
			ref:    local,
			config: func() client.Object { pc := localConfig(); pc.Namespace = "other"; return pc }(),
			want:   want{err: "cannot get ProviderConfig team-a/team"},
		},
		"NamespacedSecretOwnNamespaceNamed": {
			reason: "A Secret namespace equal to the config's own, as stored before the CRD refused the field, is harmless.",
			ref:    local,
			config: localConfig(func(s *v1alpha1.ProviderConfigSpec) { s.Credentials.SecretRef.Namespace = mrtest.Namespace }),
			want:   want{cfg: authentik.Config{URL: configURL, Token: teamToken}},
		},
		"NamespacedSecretInOtherNamespace": {
			reason: "A ProviderConfig may not read the token Secret of another namespace.",
			ref:    local,
			config: localConfig(func(s *v1alpha1.ProviderConfigSpec) { s.Credentials.SecretRef.Namespace = mrtest.SecretNS }),
			want:   want{err: `cannot use ProviderConfig team-a/team: spec.credentials.secretRef.namespace is "crossplane-system": a ProviderConfig reads Secrets only from its own namespace, "team-a"`},
		},
		"NamespacedEnvironment": {
			reason: "A ProviderConfig may not read the provider's environment.",
			ref:    local,
			config: localConfig(func(s *v1alpha1.ProviderConfigSpec) { s.Credentials.Source = xpv2.CredentialsSourceEnvironment }),
			want:   want{err: `cannot use ProviderConfig team-a/team: spec.credentials.source must be Secret in a ProviderConfig: only a ClusterProviderConfig may read the provider's environment or files, not "Environment"`},
		},
		"NamespacedFilesystem": {
			reason: "A ProviderConfig may not read the provider's files.",
			ref:    local,
			config: localConfig(func(s *v1alpha1.ProviderConfigSpec) { s.Credentials.Source = xpv2.CredentialsSourceFilesystem }),
			want:   want{err: `spec.credentials.source must be Secret in a ProviderConfig: only a ClusterProviderConfig may read the provider's environment or files, not "Filesystem"`},
		},
		"NamespacedCABundle": {
			reason: "A ProviderConfig's CA bundle is read from its own namespace.",
			ref:    local,
			config: localConfig(func(s *v1alpha1.ProviderConfigSpec) {
				s.TLS = &v1alpha1.LocalTLSConfig{CABundleSecretRef: &v1alpha1.LocalSecretKeySelector{Name: teamSecret, Key: "ca.crt"}}
			}),
			want: want{cfg: authentik.Config{URL: configURL, Token: teamToken, CABundle: []byte("PEM team-a")}},
		},
		"NamespacedCABundleInOtherNamespace": {
			reason: "A ProviderConfig may not read the CA bundle Secret of another namespace.",
			ref:    local,
			config: localConfig(func(s *v1alpha1.ProviderConfigSpec) {
				s.TLS = &v1alpha1.LocalTLSConfig{CABundleSecretRef: &v1alpha1.LocalSecretKeySelector{Namespace: mrtest.SecretNS, Name: teamSecret, Key: "ca.crt"}}
			}),
			want: want{err: `spec.tls.caBundleSecretRef.namespace is "crossplane-system": a ProviderConfig reads Secrets only from its own namespace, "team-a"`},
		},
		"ClusterConfigWithTLS": {
			reason: "A ClusterProviderConfig reads Secrets in any namespace, with its CA bundle and timeout.",
			ref:    cluster,
			config: clusterConfig(func(s *v1alpha1.ClusterProviderConfigSpec) {
				s.RequestTimeout = &metav1.Duration{Duration: 5 * time.Second}
				s.TLS = &v1alpha1.TLSConfig{CABundleSecretRef: &xpv2.SecretKeySelector{
					SecretReference: xpv2.SecretReference{Namespace: mrtest.SecretNS, Name: teamSecret}, Key: "ca.crt",
				}}
			}),
			want: want{cfg: authentik.Config{URL: configURL, Token: adminToken, CABundle: []byte("PEM crossplane-system"), Timeout: 5 * time.Second}},
		},
		"ClusterConfigEnvironment": {
			reason: "A ClusterProviderConfig may read the provider's environment.",
			ref:    cluster,
			config: clusterConfig(func(s *v1alpha1.ClusterProviderConfigSpec) {
				s.Credentials = v1alpha1.ProviderCredentials{Source: xpv2.CredentialsSourceEnvironment, CommonCredentialSelectors: xpv2.CommonCredentialSelectors{Env: &xpv2.EnvSelector{Name: tokenEnvVar}}}
			}),
			want: want{cfg: authentik.Config{URL: configURL, Token: adminToken}},
		},
		"ClusterConfigFilesystem": {
			reason: "A ClusterProviderConfig may read the provider's files.",
			ref:    cluster,
			config: clusterConfig(func(s *v1alpha1.ClusterProviderConfigSpec) {
				s.Credentials = v1alpha1.ProviderCredentials{Source: xpv2.CredentialsSourceFilesystem, CommonCredentialSelectors: xpv2.CommonCredentialSelectors{Fs: &xpv2.FsSelector{Path: tokenFile}}}
			}),
			want: want{cfg: authentik.Config{URL: configURL, Token: adminToken}},
		},
		"MissingCAKey": {
			reason: "A CA bundle key that is not in the Secret is an error.",
			ref:    cluster,
			config: clusterConfig(func(s *v1alpha1.ClusterProviderConfigSpec) {
				s.TLS = &v1alpha1.TLSConfig{CABundleSecretRef: &xpv2.SecretKeySelector{
					SecretReference: xpv2.SecretReference{Namespace: mrtest.SecretNS, Name: teamSecret}, Key: "absent",
				}}
			}),
			want: want{err: `the CA bundle Secret has no such key: crossplane-system/team-token has no key "absent"`},
		},
		"MissingSecret": {
			reason: "A token Secret that does not exist is an error naming the config.",
			ref:    cluster,
			config: clusterConfig(func(s *v1alpha1.ClusterProviderConfigSpec) { s.Credentials.SecretRef.Name = "absent" }),
			want:   want{err: "cannot use ClusterProviderConfig shared: cannot read the Authentik API token from spec.credentials"},
		},
		"UnknownKind": {
			reason: "A reference to another kind is refused.",
			ref:    &xpv2.ProviderConfigReference{Kind: "Secret", Name: "shared"},
			want:   want{err: "spec.providerConfigRef.kind must be ProviderConfig or ClusterProviderConfig"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			objs := secrets
			if tc.config != nil {
				objs = append([]client.Object{tc.config}, secrets...)
			}
			env := mrtest.New(t, objs...)
			mg := &v1alpha1.ProxyProvider{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "p"}}
			mg.SetProviderConfigReference(tc.ref)
			cfg, err := env.Connector.Resolve(context.Background(), mg)
			got := want{cfg: cfg}
			if err != nil {
				got.err = err.Error()
			}
			if tc.want.err != "" && strings.Contains(got.err, tc.want.err) {
				got.err = tc.want.err
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestNamespacedConfigKeepsToItsNamespace drives the real managed reconciler
// of one kind (every kind connects through the same Connector) with a
// ProviderConfig that tries to borrow credentials from outside its
// namespace. Each borrowed place holds the simulator's token, and the
// config's own namespace holds none, so any request the simulator counts
// carries a borrowed token. The provider must refuse, name the field in
// Synced, and send Authentik nothing at all.
func TestNamespacedConfigKeepsToItsNamespace(t *testing.T) {
	t.Setenv(tokenEnvVar, mrtest.Token)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(mrtest.Token), 0o600); err != nil {
		t.Fatal(err)
	}
	type want struct {
		synced  corev1.ConditionStatus
		message string
		// reached tells whether any request reached the simulator.
		reached bool
	}
	cases := map[string]struct {
		reason string
		// ownSecret puts the simulator's token in the config's namespace.
		ownSecret bool
		spec      func(s *v1alpha1.ProviderConfigSpec)
		want      want
	}{
		"OwnSecret": {
			reason:    "A token Secret in the config's own namespace is used.",
			ownSecret: true,
			spec:      func(*v1alpha1.ProviderConfigSpec) {},
			want:      want{synced: corev1.ConditionTrue, reached: true},
		},
		"SecretInCrossplaneSystem": {
			reason: "The platform team's token Secret in crossplane-system is refused.",
			spec:   func(s *v1alpha1.ProviderConfigSpec) { s.Credentials.SecretRef.Namespace = mrtest.SecretNS },
			want:   want{synced: corev1.ConditionFalse, message: "spec.credentials.secretRef.namespace"},
		},
		"Environment": {
			reason: "The provider's environment is refused.",
			spec: func(s *v1alpha1.ProviderConfigSpec) {
				s.Credentials.Source = xpv2.CredentialsSourceEnvironment
			},
			want: want{synced: corev1.ConditionFalse, message: "spec.credentials.source"},
		},
		"Filesystem": {
			reason: "The provider's files are refused.",
			spec: func(s *v1alpha1.ProviderConfigSpec) {
				s.Credentials.Source = xpv2.CredentialsSourceFilesystem
			},
			want: want{synced: corev1.ConditionFalse, message: "spec.credentials.source"},
		},
		"CABundleInCrossplaneSystem": {
			reason:    "A CA bundle Secret in another namespace is refused, even with a token of its own.",
			ownSecret: true,
			spec: func(s *v1alpha1.ProviderConfigSpec) {
				s.TLS = &v1alpha1.LocalTLSConfig{CABundleSecretRef: &v1alpha1.LocalSecretKeySelector{Namespace: mrtest.SecretNS, Name: mrtest.SecretName, Key: mrtest.SecretKey}}
			},
			want: want{synced: corev1.ConditionFalse, message: "spec.tls.caBundleSecretRef.namespace"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var objs []client.Object
			if tc.ownSecret {
				objs = append(objs, &corev1.Secret{
					ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: mrtest.SecretName},
					Data:       map[string][]byte{mrtest.SecretKey: []byte(mrtest.Token)},
				})
			}
			env := mrtest.New(t, objs...)
			pc := &v1alpha1.ProviderConfig{
				ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "team"},
				Spec:       mrtest.LocalConfigSpec(env.Sim.URL, mrtest.SecretName),
			}
			tc.spec(&pc.Spec)
			env.Create(pc)
			cr := &v1alpha1.Group{
				ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "team-group", UID: "6d1f2c3a-0000-4000-8000-0000000000aa"},
				Spec: v1alpha1.GroupSpec{
					ManagedResourceSpec: xpv2.ManagedResourceSpec{
						ProviderConfigReference: &xpv2.ProviderConfigReference{Kind: v1alpha1.ProviderConfigKind, Name: "team"},
						ManagementPolicies:      xpv2.ManagementPolicies{xpv2.ManagementActionAll},
					},
					ForProvider: v1alpha1.GroupParameters{Name: ptr.To("team-group")},
				},
			}
			env.Create(cr)
			r := env.Reconciler(group.Kind, group.ReconcilerOptions(env.Kube, env.Connector)...)
			if _, err := env.Reconcile(r, client.ObjectKeyFromObject(cr)); err != nil {
				t.Fatal(err)
			}
			env.Get(cr)
			synced := cr.GetCondition(xpv2.TypeSynced)
			got := want{synced: synced.Status, reached: countRequests(env.Sim.Server) > 0}
			if tc.want.message != "" && strings.Contains(synced.Message, tc.want.message) {
				got.message = tc.want.message
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nSynced: %s\n-want, +got:\n%s", tc.reason, synced.Message, diff)
			}
		})
	}
}

func countRequests(s *authentiksim.Server) int {
	n := 0
	for _, c := range s.Counts() {
		n += c
	}
	return n
}
