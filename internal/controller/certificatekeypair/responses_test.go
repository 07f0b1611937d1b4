package certificatekeypair

import (
	"testing"

	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// The operations whose responses the CertificateKeyPair controller reads.
var readOps = []string{"crypto_certificatekeypairs_create", "crypto_certificatekeypairs_retrieve", "crypto_certificatekeypairs_list", "crypto_certificatekeypairs_update"}

func TestResponses(t *testing.T) {
	t.Parallel()
	p := selfSigned(t, "responses")
	cases := map[string]mrtest.ResponseCase{
		"UnknownKey": {
			Reason:     "Keys a newer Authentik adds are ignored.",
			Operations: readOps,
			Edit:       func(o map[string]any) { o["cert_issuer"] = nil },
		},
		"MissingUnneededKey": {
			Reason:     "Required keys the provider does not use may be missing.",
			Operations: readOps,
			Edit: func(o map[string]any) {
				for _, k := range []string{"fingerprint_sha1", "certificate_download_url", "private_key_download_url", "key_type"} {
					delete(o, k)
				}
			},
		},
		"UnknownKeyType": {
			Reason:     "A key algorithm a newer Authentik adds does not fail the read of a field the provider does not manage.",
			Operations: readOps,
			Edit:       func(o map[string]any) { o["key_type"] = "mldsa65" },
		},
		"MissingNeededKey": {
			Reason:     "A key the provider compares may not be missing.",
			Operations: []string{"crypto_certificatekeypairs_retrieve", "crypto_certificatekeypairs_list"},
			Edit:       func(o map[string]any) { delete(o, "fingerprint_sha256") },
			WantSynced: "spec.forProvider.tlsSecretRef (fingerprint_sha256): Authentik's answer lacks it\n" +
				"cannot read Authentik's answer to GET /api/v3/crypto/certificatekeypairs/",
		},
	}
	fixture(p).RunResponses(t, cases)
}

func TestUnreadableCreate(t *testing.T) {
	t.Parallel()
	fixture(selfSigned(t, "unreadable")).RunUnreadableCreate(t)
}

func TestFieldPathsAreNeeded(t *testing.T) {
	t.Parallel()
	mrtest.CheckNeeded(t, "CertificateKeyPair", fieldPaths)
}
