//go:build e2e

package e2e

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
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// applyTLSSecret writes a fresh self-signed certificate and its key to the
// TLS Secret name, as cert-manager does on a renewal; cn is its subject's
// common name.
func (e *env) applyTLSSecret(t *testing.T, ns, name, cn string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now(), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	crt, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(crt, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
	manifest, err := e.kubectl("", "create", "secret", "tls", name, "-n", ns, "--cert="+crt, "--key="+key, "--dry-run=client", "-o", "yaml")
	if err != nil {
		t.Fatalf("kubectl create secret tls: %v: %s", err, manifest)
	}
	if out, err := e.kubectl(manifest, "apply", "-f", "-"); err != nil {
		t.Fatalf("apply Secret %s: %v: %s", name, err, out)
	}
}

// TestRenewedKeyPairKeepsSAMLProvider: a CertificateKeyPair follows its
// TLS Secret when the Secret's certificate is replaced, keeping its UUID,
// and the SAMLProvider that signs with it (signingKeyRef) keeps its pk and
// its signing key in Authentik.
func TestRenewedKeyPairKeepsSAMLProvider(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	const ns, pair, provider = "default", "e2e-saml-signing", "e2e-saml"
	secret := pair + "-tls"
	t.Cleanup(func() {
		_, _ = e.kubectl("", "delete", "samlprovider", provider, "-n", ns, "--ignore-not-found", "--timeout=90s")
		_, _ = e.kubectl("", "delete", "certificatekeypair", pair, "-n", ns, "--ignore-not-found", "--timeout=90s")
		_, _ = e.kubectl("", "delete", "secret", secret, "-n", ns, "--ignore-not-found")
	})
	const first, renewed = "e2e saml signing", "e2e saml signing renewed"
	e.applyTLSSecret(t, ns, secret, first)
	objects := fmt.Sprintf(`apiVersion: authentik.m.crossplane.io/v1alpha1
kind: CertificateKeyPair
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  forProvider: {name: %[2]s, tlsSecretRef: {name: %[3]s}}
  providerConfigRef: {kind: ClusterProviderConfig, name: default}
---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: SAMLProvider
metadata: {name: %[4]s, namespace: %[1]s}
spec:
  forProvider:
    name: %[4]s
    acsUrl: https://e2e-saml.example.com/acs
    signingKeyRef: {name: %[2]s}
    signAssertion: true
  providerConfigRef: {kind: ClusterProviderConfig, name: default}
`, ns, pair, secret, provider)
	if out, err := e.kubectl(objects, "apply", "-f", "-"); err != nil {
		t.Fatalf("apply: %v: %s", err, out)
	}
	if out, err := e.kubectl("", "wait", "--for=condition=Ready", "samlprovider/"+provider, "-n", ns, "--timeout=90s"); err != nil {
		t.Fatalf("the SAMLProvider did not become Ready: %v: %s", err, out)
	}
	k := &v1alpha1.CertificateKeyPair{}
	if err := e.kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: pair}, k); err != nil {
		t.Fatal(err)
	}
	keyUUID := meta.GetExternalName(k)
	p := &v1alpha1.SAMLProvider{}
	if err := e.kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: provider}, p); err != nil {
		t.Fatal(err)
	}
	pk := meta.GetExternalName(p)
	// subject is the subject of the certificate Authentik's key pair holds.
	subject := func() string {
		got, resp, err := e.ak.API.CryptoAPI.CryptoCertificatekeypairsRetrieve(ctx, keyUUID).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return err.Error()
		}
		return got.GetCertSubject()
	}
	if got := subject(); !strings.HasSuffix(got, "="+first) {
		t.Fatalf("key pair %s in Authentik does not hold the Secret's certificate: subject %q", keyUUID, got)
	}

	e.applyTLSSecret(t, ns, secret, renewed)
	eventually(t, "the renewed certificate in Authentik's key pair "+keyUUID, func() (bool, string) {
		got := subject()
		return strings.HasSuffix(got, "="+renewed), got
	})

	n, err := strconv.ParseInt(pk, 10, 32)
	if err != nil {
		t.Fatalf("the SAMLProvider's external name %q is not a pk", pk)
	}
	got, resp, err := e.ak.API.ProvidersAPI.ProvidersSamlRetrieve(ctx, int32(n)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatalf("the SAML provider %s after the renewal: %v", pk, err)
	}
	if got.GetSigningKp() != keyUUID {
		t.Errorf("the SAML provider %s signs with %q after the renewal, want the key pair %s", pk, got.GetSigningKp(), keyUUID)
	}
	if err := e.kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: pair}, k); err != nil {
		t.Fatal(err)
	}
	if err := e.kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: provider}, p); err != nil {
		t.Fatal(err)
	}
	if meta.GetExternalName(k) != keyUUID || meta.GetExternalName(p) != pk {
		t.Errorf("external names after the renewal: key pair %s (was %s), provider %s (was %s)", meta.GetExternalName(k), keyUUID, meta.GetExternalName(p), pk)
	}
	if out, err := e.kubectl("", "wait", "--for=condition=Ready", "samlprovider/"+provider, "-n", ns, "--timeout=30s"); err != nil {
		t.Errorf("the SAMLProvider is not Ready after the renewal: %v: %s", err, out)
	}
}
