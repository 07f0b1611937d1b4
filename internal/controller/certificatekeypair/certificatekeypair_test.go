package certificatekeypair

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

const (
	pairName   = "grafana: saml signing"
	secretName = "grafana-signing-tls"
)

// A pemPair is a self-signed certificate and its private key, made for a
// test.
type pemPair struct {
	cert, key   string
	fingerprint string
}

func selfSigned(t testing.TB, cn string) pemPair {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(90 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p := pemPair{
		cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		key:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})),
	}
	fp, ok := certificateFingerprint(p.cert)
	if !ok {
		t.Fatal("no fingerprint of a certificate just made")
	}
	p.fingerprint = fp
	return p
}

// keyBody is what of a key a leak would show: its base64 lines.
func (p pemPair) keyBody() []string {
	var out []string
	for _, l := range strings.Split(p.key, "\n") {
		if l != "" && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	return out
}

func tlsSecret(p pemPair) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: secretName},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: []byte(p.cert), corev1.TLSPrivateKeyKey: []byte(p.key)},
	}
}

func keyPair(mods ...func(*v1alpha1.CertificateKeyPair)) *v1alpha1.CertificateKeyPair {
	cr := &v1alpha1.CertificateKeyPair{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "grafana-signing", UID: "6d1f2c3a-0000-4000-8000-0000000000c1"},
		Spec: v1alpha1.CertificateKeyPairSpec{
			ManagedResourceSpec: xpv2.ManagedResourceSpec{
				ProviderConfigReference: &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: mrtest.ConfigName},
				ManagementPolicies:      xpv2.ManagementPolicies{xpv2.ManagementActionAll},
			},
			ForProvider: v1alpha1.CertificateKeyPairParameters{
				Name:         ptr.To(pairName),
				TLSSecretRef: &xpv2.LocalSecretReference{Name: secretName},
			},
		},
	}
	for _, m := range mods {
		m(cr)
	}
	return cr
}

func authentikPair(t *testing.T, env *mrtest.Env, name string, p pemPair) string {
	t.Helper()
	req := api.NewCertificateKeyPairRequest(name, p.cert)
	req.SetKeyData(p.key)
	k, resp, err := env.Authentik.API.CryptoAPI.CryptoCertificatekeypairsCreate(context.Background()).CertificateKeyPairRequest(*req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return k.Pk
}

func pairsNamed(t *testing.T, env *mrtest.Env, name string) []api.CertificateKeyPair {
	t.Helper()
	l, resp, err := env.Authentik.API.CryptoAPI.CryptoCertificatekeypairsList(context.Background()).Name(name).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return l.Results
}

func retrieve(env *mrtest.Env, id string) (*api.CertificateKeyPair, error) {
	k, resp, err := env.Authentik.API.CryptoAPI.CryptoCertificatekeypairsRetrieve(context.Background(), id).Execute()
	return k, authentik.Classify(resp, err)
}

func keyOf(o metav1.Object) types.NamespacedName {
	return types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}
}

// said records every log line and event of a reconciler, to show that no
// private key is ever in one.
type said struct {
	mu    sync.Mutex
	lines []string
}

func (s *said) add(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, line)
}

func (s *said) Event(_ runtime.Object, e event.Event) {
	s.add(fmt.Sprintf("event %s %s: %s", e.Type, e.Reason, e.Message))
}

func (s *said) WithAnnotations(...string) event.Recorder { return s }

func (s *said) logger() logging.Logger {
	return logging.NewLogrLogger(funcr.New(func(prefix, args string) { s.add(prefix + " " + args) }, funcr.Options{Verbosity: 1}))
}

// leaks is every line said, and every text given, that holds a line of one
// of the keys or a PEM private key header.
func (s *said) leaks(texts []string, keys ...pemPair) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range append(append([]string{}, s.lines...), texts...) {
		leaked := strings.Contains(l, "PRIVATE KEY")
		for _, k := range keys {
			for _, b := range k.keyBody() {
				leaked = leaked || strings.Contains(l, b)
			}
		}
		if leaked {
			out = append(out, l)
		}
	}
	return out
}

// outcome summarises a resource and Authentik after a test's steps.
type outcome struct {
	Pairs         int
	Fingerprint   string
	PrivateKey    bool
	Ready         corev1.ConditionStatus
	Synced        corev1.ConditionStatus
	SyncedMessage string
	ExternalName  bool
	PKMatches     bool
}

func observe(t *testing.T, env *mrtest.Env, cr *v1alpha1.CertificateKeyPair, messageHas string) outcome {
	t.Helper()
	o := outcome{}
	if err := env.Kube.Get(context.Background(), keyOf(cr), cr); err == nil {
		o.Ready = cr.GetCondition(xpv2.TypeReady).Status
		o.Synced = cr.GetCondition(xpv2.TypeSynced).Status
		o.ExternalName = meta.GetExternalName(cr) != ""
		if messageHas != "" && strings.Contains(cr.GetCondition(xpv2.TypeSynced).Message, messageHas) {
			o.SyncedMessage = messageHas
		}
	}
	ks := pairsNamed(t, env, pairName)
	o.Pairs = len(ks)
	if len(ks) == 1 {
		o.Fingerprint = ks[0].GetFingerprintSha256()
		o.PrivateKey = ks[0].PrivateKeyAvailable
		o.PKMatches = o.ExternalName && ks[0].Pk == meta.GetExternalName(cr) && ptr.Deref(cr.Status.AtProvider.PK, "") == ks[0].Pk &&
			ptr.Deref(cr.Status.AtProvider.FingerprintSHA256, "") == ks[0].GetFingerprintSha256()
	}
	return o
}

func replaceSecret(t *testing.T, env *mrtest.Env, p pemPair) {
	t.Helper()
	s := &corev1.Secret{}
	if err := env.Kube.Get(context.Background(), types.NamespacedName{Namespace: mrtest.Namespace, Name: secretName}, s); err != nil {
		t.Fatal(err)
	}
	s.Data = tlsSecret(p).Data
	if err := env.Kube.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	current, renewed, foreign := selfSigned(t, "grafana"), selfSigned(t, "grafana"), selfSigned(t, "someone else")
	settled := func(p pemPair) outcome {
		return outcome{Pairs: 1, Fingerprint: p.fingerprint, PrivateKey: true, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true}
	}

	cases := map[string]struct {
		reason     string
		cr         *v1alpha1.CertificateKeyPair
		secret     *corev1.Secret
		steps      func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.CertificateKeyPair)
		messageHas string
		want       outcome
	}{
		"CreateRecordsUUID": {
			reason: "A new resource makes a key pair from its Secret; its UUID becomes the external name and its fingerprint is the certificate's.",
			cr:     keyPair(),
			secret: tlsSecret(current),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.CertificateKeyPair) {
				env.Settle(r, cr)
			},
			want: settled(current),
		},
		"RenewedSecretUpdatesPair": {
			reason: "A certificate replaced in the Secret (a renewal) is written to the same key pair: the UUID stays.",
			cr:     keyPair(),
			secret: tlsSecret(current),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.CertificateKeyPair) {
				env.Settle(r, cr)
				pk := meta.GetExternalName(cr)
				replaceSecret(t, env, renewed)
				env.PassReadAge()
				env.Settle(r, cr)
				if got := meta.GetExternalName(cr); got != pk {
					t.Errorf("external name after renewal = %s, want the same key pair %s", got, pk)
				}
			},
			want: settled(renewed),
		},
		"DriftIsReverted": {
			reason: "Another name and certificate put in Authentik are reported by name and fingerprint, and the Secret's restored.",
			cr:     keyPair(),
			secret: tlsSecret(current),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.CertificateKeyPair) {
				env.Settle(r, cr)
				req := api.NewCertificateKeyPairRequest("renamed", foreign.cert)
				req.SetKeyData(foreign.key)
				if _, resp, err := env.Authentik.API.CryptoAPI.CryptoCertificatekeypairsUpdate(context.Background(), meta.GetExternalName(cr)).CertificateKeyPairRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				tls, err := readSecret(context.Background(), env.Kube, cr)
				if err != nil {
					t.Fatal(err)
				}
				obs, err := keyPairs(env.Kube).External(env.Authentik).Observe(context.Background(), cr.DeepCopy())
				if err != nil {
					t.Fatal(err)
				}
				if obs.ResourceUpToDate || !strings.Contains(obs.Diff, "renamed") || !strings.Contains(obs.Diff, foreign.fingerprint) || !strings.Contains(obs.Diff, tls.fingerprint) {
					t.Errorf("Observe after drift: upToDate=%v diff=%q; want the name and both fingerprints", obs.ResourceUpToDate, obs.Diff)
				}
				env.PassReadAge()
				env.Settle(r, cr)
			},
			want: settled(current),
		},
		"DeletedBehindBackIsRecreated": {
			reason: "A key pair deleted in Authentik is made again and the new UUID recorded.",
			cr:     keyPair(),
			secret: tlsSecret(current),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.CertificateKeyPair) {
				env.Settle(r, cr)
				old := meta.GetExternalName(cr)
				if resp, err := env.Authentik.API.CryptoAPI.CryptoCertificatekeypairsDestroy(context.Background(), old).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				env.BackdateCreate(cr)
				env.PassReadAge()
				env.Settle(r, cr)
				if meta.GetExternalName(cr) == old {
					t.Errorf("external name still names the deleted key pair %s", old)
				}
			},
			want: settled(current),
		},
		"DeleteRemovesPair": {
			reason: "Deleting the resource deletes the key pair in Authentik, then the resource.",
			cr:     keyPair(),
			secret: tlsSecret(current),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.CertificateKeyPair) {
				env.Settle(r, cr)
				id := meta.GetExternalName(cr)
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
				if _, err := retrieve(env, id); !authentik.IsNotFound(err) {
					t.Errorf("key pair %s after delete: want not found, got %v", id, err)
				}
			},
			want: outcome{},
		},
		"NameTakenIsRefused": {
			reason: "A resource that never sent a create does not take over an existing key pair of the same name, and says how to consent.",
			cr:     keyPair(),
			secret: tlsSecret(current),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.CertificateKeyPair) {
				authentikPair(t, env, pairName, foreign)
				for range 3 {
					_, _ = env.Reconcile(r, keyOf(cr))
				}
			},
			messageHas: mrtest.RefusedTakeover,
			want:       outcome{Pairs: 1, Fingerprint: foreign.fingerprint, PrivateKey: true, Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
		"CrashAfterCreateAdopts": {
			reason: "A create that succeeded before the UUID was recorded is adopted, not duplicated and not stuck.",
			cr: keyPair(func(cr *v1alpha1.CertificateKeyPair) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			secret: tlsSecret(current),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.CertificateKeyPair) {
				authentikPair(t, env, pairName, current)
				env.Settle(r, cr)
			},
			want: settled(current),
		},
		"CrashBeforeCreateCreates": {
			reason: "A create that never reached Authentik runs again.",
			cr: keyPair(func(cr *v1alpha1.CertificateKeyPair) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			secret: tlsSecret(current),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.CertificateKeyPair) {
				env.Settle(r, cr)
			},
			want: settled(current),
		},
		"CrashWithForeignPairRefuses": {
			reason: "After a crash, a key pair of the same name with another certificate is neither adopted nor changed.",
			cr: keyPair(func(cr *v1alpha1.CertificateKeyPair) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			secret: tlsSecret(current),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.CertificateKeyPair) {
				authentikPair(t, env, pairName, foreign)
				_, _ = env.Reconcile(r, keyOf(cr))
			},
			messageHas: "differs from this resource",
			want:       outcome{Pairs: 1, Fingerprint: foreign.fingerprint, PrivateKey: true, Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse},
		},
		"LostCreateResponseAdopts": {
			reason: "A create whose response was lost after Authentik made the key pair is adopted on the next reconcile.",
			cr:     keyPair(),
			secret: tlsSecret(current),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.CertificateKeyPair) {
				env.CheckLostCreateAdopted(r, cr, "crypto_certificatekeypairs_create")
			},
			want: settled(current),
		},
		"MissingSecretNamesField": {
			reason: "A Secret that does not exist is reported on spec.forProvider.tlsSecretRef and nothing is made.",
			cr:     keyPair(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.CertificateKeyPair) {
				_, _ = env.Reconcile(r, keyOf(cr))
			},
			messageHas: errGetSecret,
			want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
		"UnloadableKeyNamesField": {
			reason: "A private key Authentik cannot load is reported on spec.forProvider.tlsSecretRef, without the key.",
			cr:     keyPair(),
			secret: func() *corev1.Secret {
				s := tlsSecret(current)
				body := current.keyBody()
				s.Data[corev1.TLSPrivateKeyKey] = []byte("-----BEGIN PRIVATE KEY-----\n" + body[0][:16] + "\n-----END PRIVATE KEY-----\n")
				return s
			}(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.CertificateKeyPair) {
				_, _ = env.Reconcile(r, keyOf(cr))
			},
			messageHas: "spec.forProvider.tlsSecretRef",
			want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var env *mrtest.Env
			if tc.secret != nil {
				env = mrtest.New(t, tc.cr, tc.secret)
			} else {
				env = mrtest.New(t, tc.cr)
			}
			s := &said{}
			opts := append(ReconcilerOptions(env.Kube, env.Connector), managed.WithLogger(s.logger()), managed.WithRecorder(s))
			r := env.Reconciler(Kind, opts...)
			cr := tc.cr.DeepCopy()
			tc.steps(t, env, r, cr)
			want := tc.want
			want.SyncedMessage = tc.messageHas
			got := observe(t, env, cr, tc.messageHas)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
			if len(s.lines) == 0 {
				t.Fatal("the reconciler said nothing: the leak check would pass for want of lines")
			}
			var texts []string
			for _, c := range cr.Status.Conditions {
				texts = append(texts, c.Message)
			}
			texts = append(texts, fmt.Sprintf("%+v", cr.Status.AtProvider), fmt.Sprintf("%+v", cr.GetAnnotations()))
			if leaks := s.leaks(texts, current, renewed, foreign); len(leaks) > 0 {
				t.Errorf("%s\na private key is in a log line, event, condition or status:\n%s", tc.reason, strings.Join(leaks, "\n"))
			}
		})
	}
}

func TestObserveOnlyImport(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	id := authentikPair(t, env, "imported", selfSigned(t, "imported"))
	before, err := retrieve(env, id)
	if err != nil {
		t.Fatal(err)
	}

	cr := keyPair(func(cr *v1alpha1.CertificateKeyPair) {
		cr.Name = "imported"
		cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
		cr.Spec.ForProvider = v1alpha1.CertificateKeyPairParameters{}
		meta.SetExternalName(cr, id)
	})
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	mrtest.CheckObserveOnlyImport(env, r, cr, func() {
		if got := ptr.Deref(cr.Status.AtProvider.FingerprintSHA256, ""); got != before.GetFingerprintSha256() {
			t.Errorf("status.atProvider.fingerprintSha256 = %q, want %q", got, before.GetFingerprintSha256())
		}
		want := v1alpha1.CertificateKeyPairParameters{Name: ptr.To("imported")}
		if diff := cmp.Diff(want, cr.Spec.ForProvider); diff != "" {
			t.Errorf("spec.forProvider not late-initialised: -want, +got:\n%s", diff)
		}
	}, before, func() (*api.CertificateKeyPair, error) { return retrieve(env, id) })
}

func TestBadExternalName(t *testing.T) {
	t.Parallel()
	cr := keyPair(func(cr *v1alpha1.CertificateKeyPair) { meta.SetExternalName(cr, "signing") })
	_, err := keyPairs(nil).External(nil).Observe(context.Background(), cr)
	if err == nil || !strings.Contains(err.Error(), errExternalName) {
		t.Errorf("Observe with an external name that is not a UUID: error %v", err)
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	p := selfSigned(t, "diff")
	observed := &api.CertificateKeyPair{Name: pairName, PrivateKeyAvailable: true}
	observed.SetFingerprintSha256(strings.ToUpper(p.fingerprint))
	cases := map[string]struct {
		reason string
		spec   v1alpha1.CertificateKeyPairParameters
		tls    *tlsPair
		// noKey is a key pair Authentik holds without its private key.
		noKey bool
		want  bool
	}{
		"SameCertificate": {
			reason: "The Secret's certificate is compared by fingerprint, whatever the case of its hex.",
			spec:   v1alpha1.CertificateKeyPairParameters{Name: ptr.To(pairName)},
			tls:    &tlsPair{certificate: p.cert, key: p.key, fingerprint: p.fingerprint},
			want:   true,
		},
		"NoSecretComparesName": {
			reason: "Without a Secret only the name is managed.",
			spec:   v1alpha1.CertificateKeyPairParameters{Name: ptr.To(pairName)},
			want:   true,
		},
		"OtherCertificateIsDrift": {
			reason: "Another certificate is drift.",
			tls:    &tlsPair{certificate: "x", key: p.key, fingerprint: "00:01"},
			want:   false,
		},
		"KeyMissingInAuthentikIsDrift": {
			reason: "A Secret with a key and a pair without one is drift.",
			tls:    &tlsPair{certificate: p.cert, key: p.key, fingerprint: p.fingerprint},
			noKey:  true,
			want:   false,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			k := *observed
			k.PrivateKeyAvailable = !tc.noKey
			d := Diff(tc.spec, tc.tls, &k)
			if got := d == ""; got != tc.want {
				t.Errorf("%s\nDiff(...) up to date = %v, want %v; diff:\n%s", tc.reason, got, tc.want, d)
			}
			if strings.Contains(d, "PRIVATE KEY") || strings.Contains(d, p.keyBody()[0]) {
				t.Errorf("%s\nthe diff shows the key:\n%s", tc.reason, d)
			}
		})
	}
}
