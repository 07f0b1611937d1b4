package authentiksim

import (
	"slices"
	"sort"
	"time"
)

// The seeded objects that providers refer to by key: scope mappings and
// certificate key pairs. The simulator lists them; it does not create them.

type scopeMappingJSON struct {
	PK                string  `json:"pk"`
	Managed           *string `json:"managed"`
	Name              string  `json:"name"`
	Expression        string  `json:"expression"`
	Component         string  `json:"component"`
	VerboseName       string  `json:"verbose_name"`
	VerboseNamePlural string  `json:"verbose_name_plural"`
	MetaModelName     string  `json:"meta_model_name"`
	ScopeName         string  `json:"scope_name"`
	Description       string  `json:"description"`
}

// renderScopeMapping is ScopeMappingSerializer
// (authentik/providers/oauth2/api/scopes.py); the component and names are
// ScopeMapping's (authentik/providers/oauth2/models.py).
func renderScopeMapping(m *scopeMapping) scopeMappingJSON {
	out := scopeMappingJSON{
		PK:                m.pk,
		Name:              m.name,
		Expression:        "# Managed by authentik; the simulator does not evaluate expressions.",
		Component:         "ak-property-mapping-provider-scope-form",
		VerboseName:       "Scope Mapping",
		VerboseNamePlural: "Scope Mappings",
		MetaModelName:     "authentik_providers_oauth2.scopemapping",
		ScopeName:         m.scopeName,
	}
	if m.managed != "" {
		managed := m.managed
		out.Managed = &managed
	}
	return out
}

// listScopeMappings filters as ScopeMappingFilter does: managed (any of
// several values), managed__isnull, name and scope_name exactly, search on
// the name; ordered by name.
func listScopeMappings(st *state, c *call) reply {
	q := c.query
	items := []scopeMappingJSON{}
	for _, pk := range sortedKeys(st.mappings) {
		m := st.mappings[pk]
		if managed, ok := q["managed"]; ok && !slices.Contains(managed, m.managed) {
			continue
		}
		if !exact(q, "name", m.name) || !exact(q, "scope_name", m.scopeName) ||
			!boolMatches(q, "managed__isnull", m.managed == "") || !search(q, m.name) {
			continue
		}
		items = append(items, renderScopeMapping(m))
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return paginate(q, items)
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
