package authentiksim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
)

// testPEM is a self-signed certificate and its key, and the fingerprint
// Authentik reports for it.
type testPEM struct{ cert, key, sha256 string }

func newTestPEM(t *testing.T, cn string) testPEM {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now(), NotAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return testPEM{
		cert:   string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		key:    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})),
		sha256: fingerprint(sum[:]),
	}
}

func (e *env) createKeyPair(t *testing.T, name string, p testPEM) *api.CertificateKeyPair {
	t.Helper()
	r := api.NewCertificateKeyPairRequest(name, p.cert)
	r.SetKeyData(p.key)
	k, _, err := e.c.CryptoAPI.CryptoCertificatekeypairsCreate(e.ctx).CertificateKeyPairRequest(*r).Execute()
	if err != nil {
		t.Fatalf("create key pair %s: %v", name, err)
	}
	return k
}

func TestCertificateKeyPairRules(t *testing.T) {
	t.Parallel()
	first, second := newTestPEM(t, "first"), newTestPEM(t, "second")
	cases := map[string]struct {
		reason string
		call   func(e *env, pk string) (*api.CertificateKeyPair, *http.Response, error)
		want   outcome
		check  func(t *testing.T, got *api.CertificateKeyPair)
	}{
		"CreateReportsCertificate": {
			reason: "A new key pair reports its certificate's fingerprint, subject and expiry and that it has a key, never the PEM data.",
			call: func(e *env, _ string) (*api.CertificateKeyPair, *http.Response, error) {
				r := api.NewCertificateKeyPairRequest("second", second.cert)
				r.SetKeyData(second.key)
				return e.c.CryptoAPI.CryptoCertificatekeypairsCreate(e.ctx).CertificateKeyPairRequest(*r).Execute()
			},
			want: outcome{Status: http.StatusCreated},
			check: func(t *testing.T, got *api.CertificateKeyPair) {
				if got.GetFingerprintSha256() != second.sha256 || got.GetCertSubject() != "CN=second" || !got.PrivateKeyAvailable ||
					!got.GetCertExpiry().Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) || len(got.AdditionalProperties) != 0 {
					t.Errorf("created key pair: %+v", got)
				}
			},
		},
		"WithoutKey": {
			reason: "key_data is optional: a pair without it has no private key.",
			call: func(e *env, _ string) (*api.CertificateKeyPair, *http.Response, error) {
				return e.c.CryptoAPI.CryptoCertificatekeypairsCreate(e.ctx).CertificateKeyPairRequest(*api.NewCertificateKeyPairRequest("second", second.cert)).Execute()
			},
			want: outcome{Status: http.StatusCreated},
			check: func(t *testing.T, got *api.CertificateKeyPair) {
				if got.PrivateKeyAvailable {
					t.Error("private_key_available without key_data")
				}
			},
		},
		"DuplicateName": {
			reason: "CertificateKeyPair.name is unique.",
			call: func(e *env, _ string) (*api.CertificateKeyPair, *http.Response, error) {
				return e.c.CryptoAPI.CryptoCertificatekeypairsCreate(e.ctx).CertificateKeyPairRequest(*api.NewCertificateKeyPairRequest("first", second.cert)).Execute()
			},
			want: fieldError("name", "Certificate-Key Pair with this name already exists."),
		},
		"NotACertificate": {
			reason: "certificate_data must load as a PEM certificate.",
			call: func(e *env, _ string) (*api.CertificateKeyPair, *http.Response, error) {
				return e.c.CryptoAPI.CryptoCertificatekeypairsCreate(e.ctx).CertificateKeyPairRequest(*api.NewCertificateKeyPairRequest("second", second.key)).Execute()
			},
			want: fieldError("certificate_data", msgBadCertificate),
		},
		"EncryptedKey": {
			reason: "key_data must load without a password.",
			call: func(e *env, _ string) (*api.CertificateKeyPair, *http.Response, error) {
				r := api.NewCertificateKeyPairRequest("second", second.cert)
				r.SetKeyData("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n")
				return e.c.CryptoAPI.CryptoCertificatekeypairsCreate(e.ctx).CertificateKeyPairRequest(*r).Execute()
			},
			want: fieldError("key_data", msgBadPrivateKey),
		},
		"PutReplacesCertificateKeepsPK": {
			reason: "A PUT with another certificate keeps the pk and reports the new fingerprint.",
			call: func(e *env, pk string) (*api.CertificateKeyPair, *http.Response, error) {
				r := api.NewCertificateKeyPairRequest("first", second.cert)
				r.SetKeyData(second.key)
				return e.c.CryptoAPI.CryptoCertificatekeypairsUpdate(e.ctx, pk).CertificateKeyPairRequest(*r).Execute()
			},
			want: outcome{Status: http.StatusOK},
			check: func(t *testing.T, got *api.CertificateKeyPair) {
				if got.GetFingerprintSha256() != second.sha256 || got.Name != "first" {
					t.Errorf("after PUT: %q %q", got.Name, got.GetFingerprintSha256())
				}
			},
		},
		"PutWithoutKeyKeepsKey": {
			reason: "key_data absent from a PUT is not required, so the stored key stays.",
			call: func(e *env, pk string) (*api.CertificateKeyPair, *http.Response, error) {
				return e.c.CryptoAPI.CryptoCertificatekeypairsUpdate(e.ctx, pk).CertificateKeyPairRequest(*api.NewCertificateKeyPairRequest("first", first.cert)).Execute()
			},
			want: outcome{Status: http.StatusOK},
			check: func(t *testing.T, got *api.CertificateKeyPair) {
				if !got.PrivateKeyAvailable {
					t.Error("the key was dropped by a PUT without key_data")
				}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			pk := e.createKeyPair(t, "first", first).Pk
			got, resp, err := tc.call(e, pk)
			if diff := cmp.Diff(tc.want, outcomeOf(t, resp, err)); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			if tc.check != nil && err == nil {
				tc.check(t, got)
			}
		})
	}
}

// TestDeletingKeyPairUnsetsSigningKey: OAuth2Provider.signing_key is a
// foreign key with on_delete SET_NULL, so the provider stays without one.
func TestDeletingKeyPairUnsetsSigningKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	k := e.createKeyPair(t, "signing", newTestPEM(t, "signing"))
	r := e.oauth2Request("grafana")
	r.SetSigningKey(k.Pk)
	p := e.createOAuth2From(t, r)
	if resp, err := e.c.CryptoAPI.CryptoCertificatekeypairsDestroy(e.ctx, k.Pk).Execute(); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v %v", resp, err)
	}
	got, _, err := e.c.ProvidersAPI.ProvidersOauth2Retrieve(e.ctx, p.Pk).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if got.GetSigningKey() != "" {
		t.Errorf("signing_key after the key pair's delete = %q, want null", got.GetSigningKey())
	}
}
