package certificatekeypair

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// TestRenewalWakesKeyPair: a TLS Secret whose certificate changes wakes
// the key pairs made from it, and nothing else does.
func TestRenewalWakesKeyPair(t *testing.T) {
	t.Parallel()
	current, renewed := selfSigned(t, "grafana"), selfSigned(t, "grafana")
	other := keyPair(func(cr *v1alpha1.CertificateKeyPair) {
		cr.Name = "other-secret"
		cr.Spec.ForProvider.TLSSecretRef = &xpv2.LocalSecretReference{Name: "other-tls"}
	})
	env := mrtest.New(t, keyPair(), other)
	var secretDependency func(before, after *corev1.Secret) []reconcile.Request
	for _, d := range Kind.Dependencies {
		if _, ok := d.Object.(*corev1.Secret); ok {
			secretDependency = func(before, after *corev1.Secret) []reconcile.Request {
				if !d.ValueChanged().Update(event.UpdateEvent{ObjectOld: before, ObjectNew: after}) {
					return nil
				}
				return d.Referrers(env.Kube, &v1alpha1.CertificateKeyPairList{})(context.Background(), after)
			}
		}
	}
	if secretDependency == nil {
		t.Fatal("CertificateKeyPair does not watch Secrets")
	}
	labelled := tlsSecret(current)
	labelled.Labels = map[string]string{"renewed-by": "cert-manager"}
	noCertificate := tlsSecret(current)
	delete(noCertificate.Data, corev1.TLSCertKey)
	cases := map[string]struct {
		reason   string
		old, new *corev1.Secret
		want     []reconcile.Request
	}{
		"CertificateReplaced": {
			reason: "A new certificate wakes the key pair made from the Secret.",
			old:    tlsSecret(current), new: tlsSecret(renewed),
			want: []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: mrtest.Namespace, Name: keyPair().Name}}},
		},
		"OtherChange": {
			reason: "A change that leaves the certificate alone wakes nobody.",
			old:    tlsSecret(current), new: labelled,
		},
		"CertificateRemoved": {
			reason: "A Secret without a certificate has nothing to write; the key pair reports it at its next poll.",
			old:    tlsSecret(current), new: noCertificate,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, secretDependency(tc.old, tc.new)); diff != "" {
				t.Errorf("%s\nrequests (-want, +got):\n%s", tc.reason, diff)
			}
		})
	}
}
