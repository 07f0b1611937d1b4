package mrtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	api "goauthentik.io/api/v3"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// KeyPairRequest is a key pair request with a fresh self-signed
// certificate, for the kinds that sign with a key pair.
func KeyPairRequest(t testing.TB, name string) api.CertificateKeyPairRequest {
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

// KeyPair makes a key pair in Authentik and returns its UUID.
func (e *Env) KeyPair(t testing.TB, name string) string {
	t.Helper()
	k, resp, err := e.Authentik.API.CryptoAPI.CryptoCertificatekeypairsCreate(context.Background()).CertificateKeyPairRequest(KeyPairRequest(t, name)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return k.Pk
}
