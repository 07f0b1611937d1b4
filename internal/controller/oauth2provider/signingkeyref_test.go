package oauth2provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

const signingPair = "grafana-signing"

// keyPairRequest is a key pair request with a fresh self-signed certificate.
func keyPairRequest(t *testing.T, name string) api.CertificateKeyPairRequest {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	r := api.NewCertificateKeyPairRequest(name, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	r.SetKeyData(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})))
	return *r
}

// authentikKeyPair makes a key pair in Authentik and returns its UUID.
func authentikKeyPair(t *testing.T, env *mrtest.Env, name string) string {
	t.Helper()
	k, resp, err := env.Authentik.API.CryptoAPI.CryptoCertificatekeypairsCreate(context.Background()).CertificateKeyPairRequest(keyPairRequest(t, name)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return k.Pk
}

// keyPairResource is the CertificateKeyPair resource signingPair with the
// given external name ("" for none yet).
func keyPairResource(externalName string) *v1alpha1.CertificateKeyPair {
	k := &v1alpha1.CertificateKeyPair{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: signingPair}}
	if externalName != "" {
		meta.SetExternalName(k, externalName)
	}
	return k
}

// withSigningKeyRef names the signing key by reference instead of by name,
// which the CRD refuses together.
func withSigningKeyRef(cr *v1alpha1.OAuth2Provider) {
	cr.Spec.ForProvider.SigningKey = nil
	cr.Spec.ForProvider.SigningKeyRef = &xpv2.Reference{Name: signingPair}
}

// providerSigningKey is the UUID of the key pair Authentik's provider signs
// with; "" for none.
func providerSigningKey(t *testing.T, env *mrtest.Env) string {
	t.Helper()
	ps := providersNamed(t, env, providerName)
	if len(ps) != 1 {
		t.Fatalf("Authentik has %d providers named %s, want 1", len(ps), providerName)
	}
	return ps[0].GetSigningKey()
}

func TestSigningKeyRef(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		// steps run with the UUID of the key pair the resource names; they
		// return the key pair the provider must then sign with, "" when no
		// provider may exist.
		steps      func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.OAuth2Provider, pair string) string
		messageHas string
		ready      corev1.ConditionStatus
		synced     corev1.ConditionStatus
	}{
		"RefIsWritten": {
			reason: "The key pair named by reference signs the tokens; its UUID is recorded in signingKeyId.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.OAuth2Provider, pair string) string {
				env.Settle(r, cr)
				if got := ptr.Deref(cr.Spec.ForProvider.SigningKeyID, ""); got != pair {
					t.Errorf("spec.forProvider.signingKeyId = %q, want %q", got, pair)
				}
				return pair
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"RenewedKeyPairLeavesProvider": {
			reason: "A key pair whose certificate is replaced keeps its UUID, so the provider is not written.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.OAuth2Provider, pair string) string {
				env.Settle(r, cr)
				if _, resp, err := env.Authentik.API.CryptoAPI.CryptoCertificatekeypairsUpdate(context.Background(), pair).CertificateKeyPairRequest(keyPairRequest(t, signingPair)).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(authentik.Classify(resp, err))
				}
				env.PassReadAge()
				env.NoWrites(r, cr)
				return pair
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"OtherKeyInAuthentikIsRestored": {
			reason: "Another signing key set in Authentik is drift, named by UUID in signingKeyId, and restored.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.OAuth2Provider, pair string) string {
				env.Settle(r, cr)
				patch := api.PatchedOAuth2ProviderRequest{}
				patch.SetSigningKey(env.Sim.Fixtures().Certificate)
				if _, resp, err := env.Authentik.API.ProvidersAPI.ProvidersOauth2PartialUpdate(context.Background(), mrtest.ExternalPK(t, cr)).PatchedOAuth2ProviderRequest(patch).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(authentik.Classify(resp, err))
				}
				obs, err := (&external{client: env.Authentik, kube: env.Kube}).Observe(context.Background(), cr.DeepCopy())
				if err != nil {
					t.Fatal(err)
				}
				if obs.ResourceUpToDate || !strings.Contains(obs.Diff, "SigningKeyID") || !strings.Contains(obs.Diff, pair) {
					t.Errorf("Observe after the signing key was changed: upToDate=%v diff=%q; want signingKeyId naming %s", obs.ResourceUpToDate, obs.Diff, pair)
				}
				env.PassReadAge()
				env.Settle(r, cr)
				return pair
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"KeyPairMadeAgainIsFollowed": {
			reason: "A CertificateKeyPair whose key pair was made again with a new UUID is followed on the next reconcile.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.OAuth2Provider, _ string) string {
				env.Settle(r, cr)
				again := authentikKeyPair(t, env, "signing again")
				k := keyPairResource("")
				env.Get(k)
				meta.SetExternalName(k, again)
				if err := env.Kube.Update(context.Background(), k); err != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
				return again
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"MissingKeyPairNamesField": {
			reason: "A reference to a CertificateKeyPair that does not exist is reported on signingKeyRef, and nothing is made.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.OAuth2Provider, _ string) string {
				cr.Spec.ForProvider.SigningKeyRef = &xpv2.Reference{Name: "missing"}
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				_, _ = env.Reconcile(r, keyOf(cr))
				return ""
			},
			messageHas: "spec.forProvider.signingKeyRef",
			ready:      corev1.ConditionUnknown, synced: corev1.ConditionFalse,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cr := oauth2Provider(withSigningKeyRef)
			env := mrtest.New(t, cr)
			pair := authentikKeyPair(t, env, signingPair)
			env.Create(keyPairResource(pair))
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
			want := tc.steps(t, env, r, cr, pair)

			env.Get(cr)
			type result struct {
				Ready, Synced corev1.ConditionStatus
				Message       bool
			}
			got := result{cr.GetCondition(xpv2.TypeReady).Status, cr.GetCondition(xpv2.TypeSynced).Status, strings.Contains(cr.GetCondition(xpv2.TypeSynced).Message, tc.messageHas)}
			if diff := cmp.Diff(result{tc.ready, tc.synced, true}, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
			if want == "" {
				if n := len(providersNamed(t, env, providerName)); n != 0 {
					t.Errorf("%s\nAuthentik has %d providers, want none", tc.reason, n)
				}
				return
			}
			if got := providerSigningKey(t, env); got != want {
				t.Errorf("%s\nthe provider's signing key in Authentik = %q, want %q", tc.reason, got, want)
			}
		})
	}
}

// TestWaitsForKeyPair: a provider whose signingKeyRef names a
// CertificateKeyPair without a UUID yet waits, writing nothing, and is
// woken once the key pair has one.
func TestWaitsForKeyPair(t *testing.T) {
	t.Parallel()
	cr := oauth2Provider(withSigningKeyRef)
	env := mrtest.New(t, cr)
	pair := authentikKeyPair(t, env, signingPair)
	pending := keyPairResource("")
	env.Create(pending)
	r := mrbehavior.WaitsForDependencies(env.Kube, Kind.Object, Kind.Dependencies, env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...), time.Minute)

	res, err := env.Reconcile(r, keyOf(cr))
	if err != nil || res.RequeueAfter != time.Minute || env.Changes(cr) != 0 || len(providersNamed(t, env, providerName)) != 0 {
		t.Errorf("while the key pair has no UUID: result %+v, error %v, %d writes; want a wait of a poll, no write and no provider", res, err, env.Changes(cr))
	}

	env.Get(pending)
	meta.SetExternalName(pending, pair)
	if err := env.Kube.Update(context.Background(), pending); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range Kind.Dependencies {
		if _, ok := d.Object.(*v1alpha1.CertificateKeyPair); ok && d.Value(pending) == pair {
			names = append(names, d.Names(cr)...)
		}
	}
	if diff := cmp.Diff([]string{signingPair}, names); diff != "" {
		t.Errorf("the CertificateKeyPair dependency names the signingKeyRef and resolves to the UUID: -want, +got:\n%s", diff)
	}
	env.Settle(r, cr)
	if got := providerSigningKey(t, env); got != pair {
		t.Errorf("the provider signs with %q once the key pair has its UUID, want %q", got, pair)
	}
}
