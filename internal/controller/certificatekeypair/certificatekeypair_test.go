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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
	return mrtest.Build(&v1alpha1.CertificateKeyPair{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "grafana-signing", UID: "6d1f2c3a-0000-4000-8000-0000000000c1"},
		Spec: v1alpha1.CertificateKeyPairSpec{
			ManagedResourceSpec: mrtest.Spec(),
			ForProvider: v1alpha1.CertificateKeyPairParameters{
				Name:         ptr.To(pairName),
				TLSSecretRef: &xpv2.LocalSecretReference{Name: secretName},
			},
		},
	}, mods...)
}

func authentikPair(t *testing.T, env *mrtest.Env, name string, p pemPair) string {
	t.Helper()
	req := api.NewCertificateKeyPairRequest(name, p.cert)
	req.SetKeyData(p.key)
	return mrtest.Must(env.Authentik.API.CryptoAPI.CryptoCertificatekeypairsCreate(context.Background()).CertificateKeyPairRequest(*req).Execute())(t).Pk
}

func pairsNamed(t *testing.T, env *mrtest.Env, name string) []api.CertificateKeyPair {
	t.Helper()
	return mrtest.Must(env.Authentik.API.CryptoAPI.CryptoCertificatekeypairsList(context.Background()).Name(name).Execute())(t).Results
}

func retrieve(env *mrtest.Env, id string) (*api.CertificateKeyPair, error) {
	return mrtest.Response(env.Authentik.API.CryptoAPI.CryptoCertificatekeypairsRetrieve(context.Background(), id).Execute())
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
	s := env.Status(cr, messageHas)
	o := outcome{Ready: s.Ready, Synced: s.Synced, SyncedMessage: s.SyncedMessage, ExternalName: s.ExternalName != ""}
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
	foreignPair := func(t *testing.T, env *mrtest.Env) { authentikPair(t, env, pairName, foreign) }

	// The resource's Secret holds current unless a case says otherwise.
	cases := mrtest.Lifecycle[*v1alpha1.CertificateKeyPair, outcome]{
		Noun:     "certificate key pair",
		Path:     "/crypto/certificatekeypairs/",
		Resource: keyPair,
		Objects:  func() []client.Object { return []client.Object{tlsSecret(current)} },
		Settled:  settled(current),
		Drift: func(t *testing.T, env *mrtest.Env, cr *v1alpha1.CertificateKeyPair) {
			// The name and the certificate are reported, by name and
			// fingerprint.
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
		},
		Destroy: func(env *mrtest.Env, id string) error {
			resp, err := env.Authentik.API.CryptoAPI.CryptoCertificatekeypairsDestroy(context.Background(), id).Execute()
			return authentik.Classify(resp, err)
		},
		Retrieve: func(env *mrtest.Env, id string) error { _, err := retrieve(env, id); return err },
		Made: func(t *testing.T, env *mrtest.Env, _ *v1alpha1.CertificateKeyPair) {
			authentikPair(t, env, pairName, current)
		},
		Taken:          foreignPair,
		TakenOutcome:   outcome{Pairs: 1, Fingerprint: foreign.fingerprint, PrivateKey: true, Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		Foreign:        foreignPair,
		ForeignOutcome: outcome{Pairs: 1, Fingerprint: foreign.fingerprint, PrivateKey: true, Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse},
		CreateOp:       "crypto_certificatekeypairs_create",
	}.Cases()
	cases["RenewedSecretUpdatesPair"] = mrtest.Case[*v1alpha1.CertificateKeyPair, outcome]{
		Reason:  "A certificate replaced in the Secret (a renewal) is written to the same key pair: the UUID stays.",
		CR:      keyPair(),
		Objects: []client.Object{tlsSecret(current)},
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.CertificateKeyPair) {
			env.Settle(r, cr)
			pk := meta.GetExternalName(cr)
			replaceSecret(t, env, renewed)
			env.PassReadAge()
			env.Settle(r, cr)
			if got := meta.GetExternalName(cr); got != pk {
				t.Errorf("external name after renewal = %s, want the same key pair %s", got, pk)
			}
		},
		Want: settled(renewed),
	}
	cases["MissingSecretNamesField"] = mrtest.Case[*v1alpha1.CertificateKeyPair, outcome]{
		Reason: "A Secret that does not exist is reported on spec.forProvider.tlsSecretRef and nothing is made.",
		CR:     keyPair(),
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.CertificateKeyPair) {
			_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
		},
		MessageHas: errGetSecret,
		Want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
	}
	cases["UnloadableKeyNamesField"] = mrtest.Case[*v1alpha1.CertificateKeyPair, outcome]{
		Reason: "A private key Authentik cannot load is reported on spec.forProvider.tlsSecretRef, without the key.",
		CR:     keyPair(),
		Objects: []client.Object{func() *corev1.Secret {
			s := tlsSecret(current)
			body := current.keyBody()
			s.Data[corev1.TLSPrivateKeyKey] = []byte("-----BEGIN PRIVATE KEY-----\n" + body[0][:16] + "\n-----END PRIVATE KEY-----\n")
			return s
		}()},
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.CertificateKeyPair) {
			_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
		},
		MessageHas: "spec.forProvider.tlsSecretRef",
		Want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t, append([]client.Object{tc.CR}, tc.Objects...)...)
			s := &mrtest.Said{}
			r := env.Reconciler(Kind, append(ReconcilerOptions(env.Kube, env.Connector), s.Options()...)...)
			cr := tc.CR.DeepCopy()
			tc.Steps(t, env, r, cr)
			want := tc.Want
			want.SyncedMessage = tc.MessageHas
			got := observe(t, env, cr, tc.MessageHas)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.Reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
			var texts []string
			for _, c := range cr.Status.Conditions {
				texts = append(texts, c.Message)
			}
			texts = append(texts, fmt.Sprintf("%+v", cr.Status.AtProvider), fmt.Sprintf("%+v", cr.GetAnnotations()))
			markers := []string{"PRIVATE KEY"}
			for _, p := range []pemPair{current, renewed, foreign} {
				markers = append(markers, p.keyBody()...)
			}
			if leaks := s.Lines(texts, markers...); len(leaks) > 0 {
				t.Errorf("%s\na private key is in a log line, event, condition or status:\n%s", tc.Reason, strings.Join(leaks, "\n"))
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
	mrtest.CheckBadExternalName(t, keyPairs(nil).External(nil).Observe, keyPair(func(cr *v1alpha1.CertificateKeyPair) { meta.SetExternalName(cr, "signing") }), errExternalName)
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
