package ldapprovider

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// seededPair is the key pair every Authentik install has.
const seededPair = "authentik Self-signed Certificate"

// TestCertificateByName: spec.forProvider.certificate names the key pair
// as signingKey does for a SAML provider: resolved to its UUID on every
// write, another key pair in Authentik is drift, an unknown name is
// reported on the field and nothing is made.
func TestCertificateByName(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		name   string
		// steps run after the first reconcile.
		steps      func(t *testing.T, env *mrtest.Env, cr *v1alpha1.LDAPProvider)
		messageHas string
		synced     corev1.ConditionStatus
		// certificate is the name of the key pair the provider must then
		// have in Authentik; "" for no provider.
		certificate string
	}{
		"NameIsResolved": {
			reason:      "The key pair named is the provider's certificate.",
			name:        seededPair,
			synced:      corev1.ConditionTrue,
			certificate: seededPair,
		},
		"OtherKeyPairIsRestored": {
			reason: "Another key pair set in Authentik is drift and the named one is written back.",
			name:   seededPair,
			steps: func(t *testing.T, env *mrtest.Env, cr *v1alpha1.LDAPProvider) {
				other := env.KeyPair(t, "other")
				pk := mrtest.ExternalPK(t, cr)
				p := mrtest.Must(env.Authentik.API.ProvidersAPI.ProvidersLdapRetrieve(context.Background(), pk).Execute())(t)
				req := api.NewLDAPProviderRequest(p.Name, p.AuthorizationFlow, p.InvalidationFlow)
				req.SetCertificate(other)
				if _, resp, err := env.Authentik.API.ProvidersAPI.ProvidersLdapUpdate(context.Background(), pk).LDAPProviderRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(authentik.Classify(resp, err))
				}
				env.PassReadAge()
			},
			synced:      corev1.ConditionTrue,
			certificate: seededPair,
		},
		"UnknownNameNamesField": {
			reason:     "A name no key pair has is reported on spec.forProvider.certificate, and nothing is made.",
			name:       "missing",
			messageHas: errNoCertificate,
			synced:     corev1.ConditionFalse,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cr := ldapProvider(func(cr *v1alpha1.LDAPProvider) { cr.Spec.ForProvider.Certificate = ptr.To(tc.name) })
			env := mrtest.New(t, cr)
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
			if tc.certificate == "" {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			} else {
				env.Settle(r, cr)
				if tc.steps != nil {
					tc.steps(t, env, cr)
					env.Settle(r, cr)
				}
			}
			env.Get(cr)
			synced := cr.GetCondition(xpv2.TypeSynced)
			if synced.Status != tc.synced || !strings.Contains(synced.Message, tc.messageHas) {
				t.Errorf("%s\nSynced: %+v; want %s with %q", tc.reason, synced, tc.synced, tc.messageHas)
			}
			var got []string
			for _, p := range providersNamed(t, env, providerName) {
				got = append(got, p.GetCertificate())
			}
			var want []string
			if tc.certificate != "" {
				uuids, err := env.Authentik.CertificateKeyPairUUIDs(context.Background(), tc.certificate)
				if err != nil {
					t.Fatal(err)
				}
				want = uuids
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\nthe providers' certificates in Authentik: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
