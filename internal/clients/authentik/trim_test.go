package authentik_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// TestSharedObjectsTrimmed checks that an application read through the
// shared reads, from the list or with a GET, keeps no empty map of unknown
// keys, neither its own nor its provider's: the shared lists hold every
// object of a collection, and each such map keeps room for all the
// object's keys.
func TestSharedObjectsTrimmed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type maps struct{ Application, Provider bool }
	cases := map[string]struct {
		reason string
		read   func(c *authentik.Client, slug string) (*api.Application, error)
	}{
		"FromList": {
			reason: "An application read from the shared list keeps no empty map.",
			read: func(c *authentik.Client, slug string) (*api.Application, error) {
				return authentik.Applications.GetCached(ctx, c, slug)
			},
		},
		"FromGet": {
			reason: "An application fetched with a GET, and kept for later reads, keeps no empty map.",
			read: func(c *authentik.Client, slug string) (*api.Application, error) {
				return authentik.Applications.GetFresh(ctx, c, slug)
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newReadFixture(t)
			pk := f.proxyProvider(t, "trimmed")
			ar := api.NewApplicationRequest("trimmed", "trimmed")
			ar.Provider = *api.NewNullableInt32(&pk)
			_, resp, err := f.outside.CoreAPI.CoreApplicationsCreate(ctx).ApplicationRequest(*ar).Execute()
			if err := authentik.Classify(resp, err); err != nil {
				t.Fatal(err)
			}
			a, err := tc.read(f.provider, "trimmed")
			if err != nil {
				t.Fatal(err)
			}
			p := a.ProviderObj.Get()
			if p == nil {
				t.Fatal("the application's answer names no provider")
			}
			got := maps{Application: a.AdditionalProperties != nil, Provider: p.AdditionalProperties != nil}
			if diff := cmp.Diff(maps{}, got); diff != "" {
				t.Errorf("%s\nmaps of unknown keys kept (-want, +got):\n%s", tc.reason, diff)
			}
		})
	}
}

// proxyProvider makes a proxy provider outside the provider and returns
// its pk.
func (f *readFixture) proxyProvider(t *testing.T, name string) int32 {
	t.Helper()
	ctx := context.Background()
	flows, resp, err := f.outside.FlowsAPI.FlowsInstancesList(ctx).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	slugs := map[string]string{}
	for _, fl := range flows.Results {
		slugs[fl.Slug] = fl.Pk
	}
	r := api.NewProxyProviderRequest(name, slugs["default-provider-authorization-implicit-consent"], slugs["default-provider-invalidation-flow"], "https://"+name+".example.com")
	r.Mode = api.PROXYMODE_FORWARD_SINGLE.Ptr()
	p, resp, err := f.outside.ProvidersAPI.ProvidersProxyCreate(ctx).ProxyProviderRequest(*r).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return p.Pk
}
