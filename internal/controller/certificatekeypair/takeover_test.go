package certificatekeypair

import (
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// fixture's resource names a TLS Secret holding p, which every Env holds;
// an existing key pair holds p too.
func fixture(p pemPair) mrtest.Fixture {
	return mrtest.Fixture{
		Kind:    Kind,
		Options: mrtest.OptionsOf(ReconcilerOptions),
		Resource: func(adopt bool) resource.Managed {
			return keyPair(func(cr *v1alpha1.CertificateKeyPair) { cr.Spec.AdoptExisting = adopt })
		},
		Prepare:  func(_ *testing.T, e *mrtest.Env) { e.Create(tlsSecret(p)) },
		Path:     "/crypto/certificatekeypairs/",
		CreateOp: "crypto_certificatekeypairs_create",
		Existing: func(t *testing.T, e *mrtest.Env) string { return authentikPair(t, e, pairName, p) },
		Count:    func(t *testing.T, e *mrtest.Env) int { return len(pairsNamed(t, e, pairName)) },
	}
}

func TestNoTakeover(t *testing.T) {
	t.Parallel()
	fixture(selfSigned(t, "takeover")).RunTakeover(t)
}
