package certificatekeypair

import (
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

func TestNoTakeover(t *testing.T) {
	t.Parallel()
	p := selfSigned(t, "takeover")
	mrtest.RunTakeover(t, mrtest.Takeover{
		Kind:    Kind,
		Options: func(e *mrtest.Env) []managed.ReconcilerOption { return ReconcilerOptions(e.Kube, e.Connector) },
		Existing: func(t *testing.T, e *mrtest.Env) string {
			e.Create(tlsSecret(p))
			return authentikPair(t, e, pairName, p)
		},
		Resource: func(_ *mrtest.Env, adopt bool) resource.Managed {
			return keyPair(func(cr *v1alpha1.CertificateKeyPair) { cr.Spec.AdoptExisting = adopt })
		},
		Path:  func(id string) string { return "/crypto/certificatekeypairs/" + id + "/" },
		Count: func(t *testing.T, e *mrtest.Env) int { return len(pairsNamed(t, e, pairName)) },
	})
}
