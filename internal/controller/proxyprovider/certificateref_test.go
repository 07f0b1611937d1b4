package proxyprovider

import (
	"context"
	"testing"

	api "goauthentik.io/api/v3"
	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// TestCertificateRef: the key pair certificateRef names is the one a proxy
// outpost serves the external host's TLS with (ProxyProvider.certificate,
// authentik/providers/proxy/models.py), followed and restored as a
// signing key is.
func TestCertificateRef(t *testing.T) {
	t.Parallel()
	mrtest.RunSigningKeyRef(t, mrtest.SigningKeyRef[*v1alpha1.ProxyProvider]{
		Kind:    Kind,
		Options: func(e *mrtest.Env) []managed.ReconcilerOption { return ReconcilerOptions(e.Kube, e.Connector) },
		Resource: func() *v1alpha1.ProxyProvider {
			return proxyProvider(func(cr *v1alpha1.ProxyProvider) {
				cr.Spec.ForProvider.CertificateRef = &xpv2.Reference{Name: mrtest.SigningPair}
			})
		},
		SetRef:       func(cr *v1alpha1.ProxyProvider, name string) { cr.Spec.ForProvider.CertificateRef.Name = name },
		SigningKeyID: func(cr *v1alpha1.ProxyProvider) string { return ptr.Deref(cr.Spec.ForProvider.Certificate, "") },
		SigningKeys: func(t *testing.T, e *mrtest.Env) []string {
			keys := []string{}
			for _, p := range providersNamed(t, e, providerName) {
				keys = append(keys, p.GetCertificate())
			}
			return keys
		},
		SetOtherKey: func(t *testing.T, e *mrtest.Env, cr *v1alpha1.ProxyProvider, key string) {
			got, err := retrieve(t, e, mrtest.ExternalPK(t, cr))
			if err != nil {
				t.Fatal(err)
			}
			req := api.NewProxyProviderRequest(got.Name, got.AuthorizationFlow, got.InvalidationFlow, got.ExternalHost)
			req.Mode, req.InternalHost = got.Mode, got.InternalHost
			req.SetCertificate(key)
			if _, resp, err := e.Authentik.API.ProvidersAPI.ProvidersProxyUpdate(context.Background(), got.Pk).ProxyProviderRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
				t.Fatal(authentik.Classify(resp, err))
			}
		},
		Observe: func(e *mrtest.Env, cr *v1alpha1.ProxyProvider) (managed.ExternalObservation, error) {
			return providers.External(e.Authentik).Observe(context.Background(), cr)
		},
		RefPath: "spec.forProvider.certificateRef",
		IDField: "Certificate",
	})
}
