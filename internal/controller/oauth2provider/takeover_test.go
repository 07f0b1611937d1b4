package oauth2provider

import (
	"context"
	"strconv"
	"testing"

	api "goauthentik.io/api/v3"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

func TestNoTakeover(t *testing.T) {
	t.Parallel()
	mrtest.RunTakeover(t, mrtest.Takeover{
		Kind:    Kind,
		Options: mrtest.OptionsOf(ReconcilerOptions),
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

// TestOtherTypeIsRefused: a proxy provider with the spec's name is never
// taken over, not even with consent, and is left unchanged; the resource
// names it.
func TestOtherTypeIsRefused(t *testing.T) {
	t.Parallel()
	mrtest.RunOtherType(t, mrtest.OtherType{
		Kind:    Kind,
		Options: mrtest.OptionsOf(ReconcilerOptions),
		Other: func(t *testing.T, e *mrtest.Env) (string, string) {
			fx := e.Sim.Fixtures()
			req := api.NewProxyProviderRequest(providerName, fx.Flows[authentik.DefaultAuthorizationFlow], fx.Flows[authentik.DefaultInvalidationFlow], "https://grafana.example.com")
			req.SetMode(api.PROXYMODE_FORWARD_SINGLE)
			proxy, resp, err := e.Authentik.API.ProvidersAPI.ProvidersProxyCreate(context.Background()).ProxyProviderRequest(*req).Execute()
			if err := authentik.Classify(resp, err); err != nil {
				t.Fatal(err)
			}
			pk := strconv.Itoa(int(proxy.Pk))
			return "/providers/proxy/" + pk + "/", `Proxy Provider "` + providerName + `" (` + pk + `) ` + errOtherType
		},
		Resource: func(_ *mrtest.Env, adopt bool) resource.Managed {
			return oauth2Provider(func(cr *v1alpha1.OAuth2Provider) { cr.Spec.AdoptExisting = adopt })
		},
		Count: func(t *testing.T, e *mrtest.Env) int { return len(providersNamed(t, e, providerName)) },
	})
}
