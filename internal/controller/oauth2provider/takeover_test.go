package oauth2provider

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

func TestNoTakeover(t *testing.T) {
	mrtest.RunTakeover(t, mrtest.Takeover{
		Kind:    Kind,
		Options: func(e *mrtest.Env) []managed.ReconcilerOption { return ReconcilerOptions(e.Kube, e.Connector) },
		Existing: func(t *testing.T, e *mrtest.Env) string {
			theirs := oauth2Provider(func(cr *v1alpha1.OAuth2Provider) {
				cr.Spec.ForProvider.RedirectURIs = []v1alpha1.RedirectURI{{URL: "https://someone-elses.example.com/cb"}}
			})
			return strconv.Itoa(int(existingProvider(t, e, theirs)))
		},
		Resource: func(_ *mrtest.Env, adopt bool) resource.Managed {
			return oauth2Provider(func(cr *v1alpha1.OAuth2Provider) { cr.Spec.AdoptExisting = adopt })
		},
		Path:  func(id string) string { return "/providers/oauth2/" + id + "/" },
		Count: func(t *testing.T, e *mrtest.Env) int { return len(providersNamed(t, e, providerName)) },
	})
}

// TestOtherTypeIsRefused: a provider of another type (a proxy provider)
// with the spec's name is never taken over, not even with consent, and is
// left unchanged; the resource names it.
func TestOtherTypeIsRefused(t *testing.T) {
	cases := map[string]struct {
		reason string
		adopt  bool
	}{
		"NoConsent": {reason: "Without consent the proxy provider is named and left alone."},
		"AdoptExisting": {
			reason: "spec.adoptExisting does not stretch to a provider of another type.",
			adopt:  true,
		},
	}
	type result struct {
		OAuth2Providers int
		Synced          corev1.ConditionStatus
		NamesObstacle   bool
		Unchanged       bool
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := mrtest.New(t)
			fx := env.Sim.Sim.Fixtures()
			req := api.NewProxyProviderRequest(providerName, fx.Flows[authentik.DefaultAuthorizationFlow], fx.Flows[authentik.DefaultInvalidationFlow], "https://grafana.example.com")
			req.SetMode(api.PROXYMODE_FORWARD_SINGLE)
			proxy, resp, err := env.Authentik.API.ProvidersAPI.ProvidersProxyCreate(context.Background()).ProxyProviderRequest(*req).Execute()
			if err := authentik.Classify(resp, err); err != nil {
				t.Fatal(err)
			}
			path := "/providers/proxy/" + strconv.Itoa(int(proxy.Pk)) + "/"
			before := env.RawJSON(t, path)

			cr := oauth2Provider(func(cr *v1alpha1.OAuth2Provider) { cr.Spec.AdoptExisting = tc.adopt })
			env.Create(cr)
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
			for range 3 {
				_, _ = env.Reconcile(r, keyOf(cr))
			}
			env.Get(cr)
			synced := cr.GetCondition(xpv2.TypeSynced)
			got := result{
				OAuth2Providers: len(providersNamed(t, env, providerName)),
				Synced:          synced.Status,
				NamesObstacle:   strings.Contains(synced.Message, `Proxy Provider "`+providerName+`" (`+strconv.Itoa(int(proxy.Pk))+`) `+errOtherType),
				Unchanged:       before == env.RawJSON(t, path),
			}
			want := result{Synced: corev1.ConditionFalse, NamesObstacle: true, Unchanged: true}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, synced)
			}
		})
	}
}
