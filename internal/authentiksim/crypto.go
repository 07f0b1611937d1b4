package authentiksim

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // Authentik reports a SHA1 fingerprint; nothing is secured by it.
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Messages of CertificateKeyPairSerializer (authentik/crypto/api.py) and
// the verbose name DRF's unique message gives (authentik/crypto/models.py).
const (
	msgBadCertificate   = "Unable to load certificate."
	msgBadPrivateKey    = "Unable to load private key (possibly encrypted?)."
	keyPairUniqueModel  = "Certificate-Key Pair"
	keyPairDownloadPath = "/crypto/certificatekeypairs/"
)

// keyPair is a CertificateKeyPair row (authentik/crypto/models.py) with
// what the serializer derives from its certificate.
type keyPair struct {
	pk          string
	name        string
	managed     string
	certificate string
	key         string
	// Derived from the certificate when it is written.
	sha256, sha1, subject, expiry, keyType string
}

type certificateKeyPairJSON struct {
	PK                     string  `json:"pk"`
	Name                   string  `json:"name"`
	FingerprintSHA256      *string `json:"fingerprint_sha256"`
	FingerprintSHA1        *string `json:"fingerprint_sha1"`
	CertExpiry             *string `json:"cert_expiry"`
	CertSubject            *string `json:"cert_subject"`
	PrivateKeyAvailable    bool    `json:"private_key_available"`
	KeyType                *string `json:"key_type"`
	CertificateDownloadURL string  `json:"certificate_download_url"`
	PrivateKeyDownloadURL  string  `json:"private_key_download_url"`
	Managed                *string `json:"managed"`
}

// seededKeyPair is the self-signed pair Authentik makes on install
// (authentik/crypto/migrations/0002_create_self_signed_kp.py). The
// simulator holds no certificate for it, only what it reports.
func seededKeyPair(pk string) *keyPair {
	return &keyPair{
		pk:      pk,
		name:    seededCertificateName,
		key:     "seeded",
		sha256:  "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff",
		sha1:    "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33",
		subject: "CN=authentik Self-signed Certificate",
		expiry:  time.Date(2027, time.January, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339),
		keyType: "rsa",
	}
}

// renderCertificateKeyPair is CertificateKeyPairSerializer
// (authentik/crypto/api.py): certificate_data and key_data are write-only,
// the rest is read from the certificate.
func renderCertificateKeyPair(k *keyPair) certificateKeyPairJSON {
	base := apiPrefix + keyPairDownloadPath + k.pk
	out := certificateKeyPairJSON{
		PK:                     k.pk,
		Name:                   k.name,
		FingerprintSHA256:      &k.sha256,
		FingerprintSHA1:        &k.sha1,
		CertExpiry:             &k.expiry,
		CertSubject:            &k.subject,
		PrivateKeyAvailable:    k.key != "",
		KeyType:                &k.keyType,
		CertificateDownloadURL: base + "/view_certificate/?download",
		PrivateKeyDownloadURL:  base + "/view_private_key/?download",
	}
	if k.managed != "" {
		managed := k.managed
		out.Managed = &managed
	}
	return out
}

// fingerprint is hexlify(digest, ":") as models.fingerprint_sha256 writes
// it: lower-case hex pairs joined by colons.
func fingerprint(sum []byte) string {
	pairs := make([]string, len(sum))
	for i, b := range sum {
		pairs[i] = hex.EncodeToString([]byte{b})
	}
	return strings.Join(pairs, ":")
}

// parseCertificate is validate_certificate_data: the value must load as a
// PEM X.509 certificate (load_pem_x509_certificate reads the first
// CERTIFICATE block).
func parseCertificate(data string) (*x509.Certificate, bool) {
	rest := []byte(data)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, false
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		return c, err == nil
	}
}

// validPrivateKey is validate_key_data: a non-empty value must load as an
// unencrypted PEM private key (PKCS#1, PKCS#8 or SEC 1); an encrypted one
// fails for want of a password.
func validPrivateKey(data string) bool {
	b, _ := pem.Decode([]byte(data))
	if b == nil || b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "" {
		return false
	}
	if _, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
		return true
	}
	if _, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return true
	}
	_, err := x509.ParseECPrivateKey(b.Bytes)
	return err == nil
}

// keyTypeOf is CertificateKeyPair.key_type: the algorithm of the
// certificate's public key.
func keyTypeOf(c *x509.Certificate) string {
	switch c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "rsa"
	case *ecdsa.PublicKey:
		return "ec"
	case ed25519.PublicKey:
		return "ed25519"
	}
	return ""
}

func (st *state) keyPairNameTaken(name, self string) bool {
	for _, k := range st.certificates {
		if k.name == name && k.pk != self {
			return true
		}
	}
	return false
}

// bindKeyPair applies and validates the body's fields as
// CertificateKeyPairSerializer does: name (unique on the model) and
// certificate_data required, key_data optional and may be blank. DRF's
// CharField trims both PEM values before they are checked and stored.
func (st *state) bindKeyPair(f *form, k *keyPair) {
	if v, ok := f.str("name", true, false); ok {
		if st.keyPairNameTaken(v, k.pk) {
			f.errs.add("name", fmt.Sprintf(msgUnique, keyPairUniqueModel, "name"))
		} else {
			k.name = v
		}
	}
	if v, ok := f.str("certificate_data", true, false); ok {
		c, valid := parseCertificate(v)
		if !valid {
			f.errs.add("certificate_data", msgBadCertificate)
		} else {
			s256 := sha256.Sum256(c.Raw)
			s1 := sha1.Sum(c.Raw) //nolint:gosec // Authentik's SHA1 fingerprint.
			k.certificate = v
			k.sha256, k.sha1 = fingerprint(s256[:]), fingerprint(s1[:])
			k.subject = c.Subject.String()
			k.expiry = c.NotAfter.UTC().Format(time.RFC3339)
			k.keyType = keyTypeOf(c)
		}
	}
	if v, ok := f.str("key_data", false, true); ok {
		if v != "" && !validPrivateKey(v) {
			f.errs.add("key_data", msgBadPrivateKey)
		} else {
			k.key = v
		}
	}
}

func (st *state) keyPairFromPath(c *call) *keyPair {
	return st.certificates[strings.ToLower(c.params["kp_uuid"])]
}

// listCertificateKeyPairs filters on name and managed exactly and has_key,
// searches names, and orders by name (CertificateKeyPairFilter,
// CertificateKeyPairViewSet, authentik/crypto/api.py).
func listCertificateKeyPairs(st *state, c *call) reply {
	q := c.query
	items := []certificateKeyPairJSON{}
	for _, pk := range sortedKeys(st.certificates) {
		k := st.certificates[pk]
		if !exact(q, "name", k.name) || !exact(q, "managed", k.managed) || !search(q, k.name) {
			continue
		}
		if has, ok := q["has_key"]; ok && len(has) > 0 && strings.EqualFold(has[0], "true") && k.key == "" {
			continue
		}
		items = append(items, renderCertificateKeyPair(k))
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return paginate(q, items)
}

func retrieveCertificateKeyPair(st *state, c *call) reply {
	k := st.keyPairFromPath(c)
	if k == nil {
		return notFound()
	}
	return reply{status: http.StatusOK, body: renderCertificateKeyPair(k)}
}

func createCertificateKeyPair(st *state, c *call) reply {
	f, bad := parseForm(c.body, false)
	if bad != nil {
		return *bad
	}
	k := &keyPair{pk: st.newUUID()}
	st.bindKeyPair(f, k)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	st.certificates[k.pk] = k
	return reply{status: http.StatusCreated, body: renderCertificateKeyPair(k)}
}

func updateCertificateKeyPair(st *state, c *call) reply {
	stored := st.keyPairFromPath(c)
	if stored == nil {
		return notFound()
	}
	f, bad := parseForm(c.body, c.partial)
	if bad != nil {
		return *bad
	}
	k := *stored
	st.bindKeyPair(f, &k)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	*stored = k
	return reply{status: http.StatusOK, body: renderCertificateKeyPair(stored)}
}

// destroyCertificateKeyPair deletes the pair; the providers' foreign keys
// to it are SET_NULL (signing_key and encryption_key of OAuth2Provider,
// authentik/providers/oauth2/models.py; certificate of ProxyProvider,
// authentik/providers/proxy/models.py; certificate of LDAPProvider,
// authentik/providers/ldap/models.py).
func destroyCertificateKeyPair(st *state, c *call) reply {
	k := st.keyPairFromPath(c)
	if k == nil {
		return notFound()
	}
	delete(st.certificates, k.pk)
	unset := func(ref **string) {
		if *ref != nil && **ref == k.pk {
			*ref = nil
		}
	}
	for _, p := range st.oauth2 {
		unset(&p.signingKey)
		unset(&p.encryptionKey)
	}
	for _, p := range st.providers {
		unset(&p.certificate)
	}
	for _, p := range st.ldap {
		unset(&p.certificate)
	}
	for _, p := range st.saml {
		unset(&p.signingKP)
		unset(&p.verificationKP)
		unset(&p.encryptionKP)
	}
	return reply{status: http.StatusNoContent}
}
