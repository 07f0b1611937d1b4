package proxyprovider

import (
	"context"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

var fixture = mrtest.Fixture{
	Kind:    Kind,
	Options: mrtest.OptionsOf(ReconcilerOptions),
	Resource: func(adopt bool) resource.Managed {
		return proxyProvider(func(cr *v1alpha1.ProxyProvider) { cr.Spec.AdoptExisting = adopt })
	},
	Path:     "/providers/proxy/",
	CreateOp: "providers_proxy_create",
	Existing: func(t *testing.T, e *mrtest.Env) string {
		p := proxyProvider().Spec.ForProvider
		p.ExternalHost = ptr.To("https://someone-elses.example.com")
		return strconv.Itoa(int(existingProvider(t, e, p)))
	},
	Count: func(t *testing.T, e *mrtest.Env) int { return len(providersNamed(t, e, providerName)) },
	ListBefore: func(t *testing.T, e *mrtest.Env) {
		c := e.ClientAs(&v1alpha1.ProxyProvider{})
		if _, err := authentik.ProxyProviders.FindCached(context.Background(), c, func(*api.ProxyProvider) bool { return false }); err != nil {
			t.Fatal(err)
		}
	},
	// A provider of another type (an OAuth2 provider) with the spec's name.
	Other: func(t *testing.T, e *mrtest.Env) (string, string) {
		flows := e.Sim.Fixtures().Flows
		req := api.NewOAuth2ProviderRequest(providerName, flows[authentik.DefaultAuthorizationFlow], flows[authentik.DefaultInvalidationFlow],
			[]api.RedirectURIRequest{*api.NewRedirectURIRequest(api.MATCHINGMODEENUM_STRICT, "https://longhorn.example.com/oauth/callback")})
		pk := strconv.Itoa(int(mrtest.Must(e.Authentik.API.ProvidersAPI.ProvidersOauth2Create(context.Background()).OAuth2ProviderRequest(*req).Execute())(t).Pk))
		return "/providers/oauth2/" + pk + "/", `OAuth2/OpenID Provider "` + providerName + `" (` + pk + `) ` + errOtherType
	},
}

func TestNoTakeover(t *testing.T) {
	t.Parallel()
	fixture.RunTakeover(t)
}

// TestTakeOverInPlace: with consent, a provider that exists with other
// field values keeps its pk and is brought to the spec with an update:
// never deleted and made again, which would take it off its outposts and
// detach its application.
func TestTakeOverInPlace(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	jobs := proxyProvider().Spec.ForProvider
	jobs.Mode = ptr.To(v1alpha1.ProxyModeProxy)
	jobs.ExternalHost = ptr.To("https://longhorn.old.example.com")
	jobs.InternalHost = ptr.To("http://longhorn-frontend.longhorn-system.svc.cluster.local")
	jobs.CookieDomain = ptr.To("old.example.com")
	pk := existingProvider(t, env, jobs)
	env.Sim.ResetCounts()

	cr := proxyProvider(func(cr *v1alpha1.ProxyProvider) { cr.Spec.AdoptExisting = true })
	env.Create(cr)
	env.Settle(env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...), cr)

	type result struct {
		ExternalName string
		Ready        corev1.ConditionStatus
		Writes       map[string]int
		Mode         string
		ExternalHost string
		InternalHost string
		CookieDomain string
	}
	p, err := retrieve(t, env, pk)
	if err != nil {
		t.Fatal(err)
	}
	got := result{
		ExternalName: meta.GetExternalName(cr),
		Ready:        cr.GetCondition(xpv2.TypeReady).Status,
		Writes:       env.Sim.WriteCounts(),
		Mode:         string(p.GetMode()),
		ExternalHost: p.ExternalHost,
		InternalHost: p.GetInternalHost(),
		CookieDomain: p.GetCookieDomain(),
	}
	want := result{
		ExternalName: strconv.Itoa(int(pk)),
		Ready:        corev1.ConditionTrue,
		Writes:       map[string]int{"providers_proxy_update": 1},
		Mode:         string(v1alpha1.ProxyModeForwardSingle),
		ExternalHost: externalHost,
		InternalHost: internalHost,
		// Not set in the spec, so not managed: kept as found.
		CookieDomain: "old.example.com",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("taking over a provider with other values: -want, +got:\n%s", diff)
	}
}

// TestOtherTypeIsRefused: a provider of another type (an OAuth2 provider)
// with the spec's name is never managed, with consent or without: the
// resource says what is in the way and Authentik accepts no write. (The
// shared list of proxy providers does not show it, so each create is sent
// and refused on the name, which provider names of every type share.)
func TestOtherTypeIsRefused(t *testing.T) {
	t.Parallel()
	fixture.RunOtherType(t)
}
