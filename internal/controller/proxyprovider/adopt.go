package proxyprovider

import (
	"context"
	"fmt"
	"strconv"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
)

const (
	errNotProxyProvider = "managed resource is not a ProxyProvider"
	errFindByName       = "cannot look for a proxy provider with spec.forProvider.name"
	errFindAnyByName    = "cannot look for a provider of another type with spec.forProvider.name"
	errOtherType        = "has the name in spec.forProvider.name but is not a proxy provider, so it is never taken over by a ProxyProvider, even with spec.adoptExisting, and nothing was changed; rename or delete it in Authentik, or choose another spec.forProvider.name"
)

// proxyComponent is the component Authentik reports for proxy providers
// (ProxyProvider.component in authentik/providers/proxy/models.py).
const proxyComponent = "ak-provider-proxy-form"

// candidates finds the provider an unconfirmed create may have made, or
// that a create would collide with: provider names are unique in Authentik
// across every provider type, so it is the one with the spec's name, if
// any. A provider of another type with that name is never a candidate: it
// is an error that says so.
func candidates(connect func(context.Context, *v1alpha1.ProxyProvider) (*authentik.Client, error)) mrbehavior.CandidateFinder {
	return func(ctx context.Context, mg resource.Managed) ([]mrbehavior.Candidate, error) {
		cr, ok := mg.(*v1alpha1.ProxyProvider)
		if !ok {
			return nil, errors.New(errNotProxyProvider)
		}
		if cr.Spec.ForProvider.Name == nil {
			return nil, nil
		}
		ac, err := connect(ctx, cr)
		if err != nil {
			return nil, err
		}
		e := &external{client: ac}
		l, resp, err := e.api().ProvidersProxyList(ctx).NameIexact(*cr.Spec.ForProvider.Name).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return nil, errors.Wrap(err, errFindByName)
		}
		var out []mrbehavior.Candidate
		for i := range l.Results {
			p := &l.Results[i]
			if p.Name != *cr.Spec.ForProvider.Name {
				continue
			}
			observed, err := e.parametersOf(ctx, p, cr.Spec.ForProvider)
			if err != nil {
				return nil, errors.Wrap(err, errObserveFlow)
			}
			out = append(out, mrbehavior.Candidate{ExternalName: strconv.Itoa(int(p.Pk)), Description: fmt.Sprintf("proxy provider %q", p.Name), Diff: specDiff(cr.Spec.ForProvider, observed)})
		}
		if len(out) > 0 {
			return out, nil
		}
		return nil, e.otherTypeNamed(ctx, *cr.Spec.ForProvider.Name)
	}
}

// otherTypeNamed returns an error naming the provider of another type (an
// OAuth2 provider, say) that has the name, if one has: Authentik would
// refuse the create on the name, and no ProxyProvider can manage it. The
// generic provider list has no name filter, only a search over names.
func (e *external) otherTypeNamed(ctx context.Context, name string) error {
	l, resp, err := e.client.API.ProvidersAPI.ProvidersAllList(ctx).Search(name).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return errors.Wrap(err, errFindAnyByName)
	}
	for _, p := range l.Results {
		if p.Name == name && p.Component != proxyComponent {
			return errors.Errorf("%s %q (%d) %s", p.VerboseName, p.Name, p.Pk, errOtherType)
		}
	}
	return nil
}
