package authentiksim

import (
	"sort"
	"time"
)

// The seeded certificate key pairs that providers refer to by name. The
// simulator lists them; it does not create them.

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

// certificateExpiry is a fixed expiry for the seeded self-signed key pair,
// which Authentik makes valid for a year.
var certificateExpiry = time.Date(2027, time.January, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)

// renderCertificateKeyPair is CertificateKeyPairSerializer
// (authentik/crypto/api.py) for an RSA key pair with its private key.
func renderCertificateKeyPair(pk, name string) certificateKeyPairJSON {
	sha256 := "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff"
	sha1 := "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33"
	subject := "CN=authentik Self-signed Certificate"
	rsa := "rsa"
	base := apiPrefix + "/crypto/certificatekeypairs/" + pk
	return certificateKeyPairJSON{
		PK:                     pk,
		Name:                   name,
		FingerprintSHA256:      &sha256,
		FingerprintSHA1:        &sha1,
		CertExpiry:             &certificateExpiry,
		CertSubject:            &subject,
		PrivateKeyAvailable:    true,
		KeyType:                &rsa,
		CertificateDownloadURL: base + "/view_certificate/?download",
		PrivateKeyDownloadURL:  base + "/view_private_key/?download",
	}
}

// listCertificateKeyPairs filters on name exactly and has_key, searches
// names, and orders by name (CertificateKeyPairFilter, authentik/crypto/api.py).
func listCertificateKeyPairs(st *state, c *call) reply {
	q := c.query
	items := []certificateKeyPairJSON{}
	for _, pk := range sortedKeys(st.certificates) {
		name := st.certificates[pk]
		if !exact(q, "name", name) || !boolMatches(q, "has_key", true) || !search(q, name) {
			continue
		}
		if _, ok := q["managed"]; ok {
			// The seeded key pair is not managed.
			continue
		}
		items = append(items, renderCertificateKeyPair(pk, name))
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return paginate(q, items)
}
