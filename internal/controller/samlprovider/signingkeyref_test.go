package samlprovider

import (
	"context"
	"testing"

	api "goauthentik.io/api/v3"
	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

func TestSigningKeyRef(t *testing.T) {
	t.Parallel()
	mrtest.RunSigningKeyRef(t, mrtest.SigningKeyRef[*v1alpha1.SAMLProvider]{
		Kind:    Kind,
		Options: options,
		// Authentik refuses a signing key that signs nothing.
		Resource: func() *v1alpha1.SAMLProvider {
			return samlProvider(func(cr *v1alpha1.SAMLProvider) {
				cr.Spec.ForProvider.SigningKeyRef = &xpv2.Reference{Name: mrtest.SigningPair}
				cr.Spec.ForProvider.SignAssertion = ptr.To(true)
			})
		},
		SetRef:       func(cr *v1alpha1.SAMLProvider, name string) { cr.Spec.ForProvider.SigningKeyRef.Name = name },
		SigningKeyID: func(cr *v1alpha1.SAMLProvider) string { return ptr.Deref(cr.Spec.ForProvider.SigningKeyID, "") },
		SigningKeys: func(t *testing.T, e *mrtest.Env) []string {
			keys := []string{}
			for _, p := range providersNamed(t, e, providerName) {
				keys = append(keys, p.GetSigningKp())
			}
			return keys
		},
		SetOtherKey: func(t *testing.T, e *mrtest.Env, cr *v1alpha1.SAMLProvider, key string) {
			other := api.PatchedSAMLProviderRequest{SignAssertion: ptr.To(true)}
			other.SetSigningKp(key)
			patch(t, e, mrtest.ExternalPK(t, cr), other)
		},
		Observe: func(e *mrtest.Env, cr *v1alpha1.SAMLProvider) (managed.ExternalObservation, error) {
			return providers.External(e.Authentik).Observe(context.Background(), cr)
		},
	})
}
