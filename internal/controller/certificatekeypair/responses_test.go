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
	cases := mrtest.Keys{
		Read:       readOps,
		Added:      map[string]any{"cert_issuer": nil},
		Unneeded:   []string{"fingerprint_sha1", "certificate_download_url", "private_key_download_url", "key_type"},
		Needed:     "fingerprint_sha256",
		NeededPath: "spec.forProvider.tlsSecretRef",
		NeededRead: []string{"crypto_certificatekeypairs_retrieve", "crypto_certificatekeypairs_list"},
	}.KeyCases(fixture(p).Path)
	cases["UnknownKeyType"] = mrtest.ResponseCase{
		Reason:     "A key algorithm a newer Authentik adds does not fail the read of a field the provider does not manage.",
		Operations: readOps,
		Edit:       func(o map[string]any) { o["key_type"] = "mldsa65" },
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
