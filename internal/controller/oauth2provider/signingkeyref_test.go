package oauth2provider

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

func TestSigningKeyRef(t *testing.T) {
	t.Parallel()
	mrtest.RunSigningKeyRef(t, mrtest.SigningKeyRef[*v1alpha1.OAuth2Provider]{
		Kind:    Kind,
		Options: mrtest.OptionsOf(ReconcilerOptions),
		// The CRD refuses signingKey beside signingKeyRef.
		Resource: func() *v1alpha1.OAuth2Provider {
			return oauth2Provider(func(cr *v1alpha1.OAuth2Provider) {
				cr.Spec.ForProvider.SigningKey = nil
				cr.Spec.ForProvider.SigningKeyRef = &xpv2.Reference{Name: mrtest.SigningPair}
			})
		},
		SetRef:       func(cr *v1alpha1.OAuth2Provider, name string) { cr.Spec.ForProvider.SigningKeyRef.Name = name },
		SigningKeyID: func(cr *v1alpha1.OAuth2Provider) string { return ptr.Deref(cr.Spec.ForProvider.SigningKeyID, "") },
		SigningKeys: func(t *testing.T, e *mrtest.Env) []string {
			keys := []string{}
			for _, p := range providersNamed(t, e, providerName) {
				keys = append(keys, p.GetSigningKey())
			}
			return keys
		},
		SetOtherKey: func(t *testing.T, e *mrtest.Env, cr *v1alpha1.OAuth2Provider, key string) {
			patch := api.PatchedOAuth2ProviderRequest{}
			patch.SetSigningKey(key)
			if _, resp, err := e.Authentik.API.ProvidersAPI.ProvidersOauth2PartialUpdate(context.Background(), mrtest.ExternalPK(t, cr)).PatchedOAuth2ProviderRequest(patch).Execute(); authentik.Classify(resp, err) != nil {
				t.Fatal(authentik.Classify(resp, err))
			}
		},
		Observe: func(e *mrtest.Env, cr *v1alpha1.OAuth2Provider) (managed.ExternalObservation, error) {
			return (&external{client: e.Authentik, kube: e.Kube}).Observe(context.Background(), cr)
		},
	})
}
