package proxyprovider

import (
	"context"
	"fmt"
	"strconv"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

const (
	errNotProxyProvider = "managed resource is not a ProxyProvider"
	errFindByName       = "cannot look for a proxy provider with spec.forProvider.name"
)

// candidates finds the provider an unconfirmed create may have made:
// provider names are unique in Authentik, so it is the one with the spec's
// name, if any.
func candidates(connect func(context.Context, *v1alpha1.ProxyProvider) (*authentik.Client, error)) mrsetup.CandidateFinder {
	return func(ctx context.Context, mg resource.Managed) ([]mrsetup.Candidate, error) {
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
		var out []mrsetup.Candidate
		for i := range l.Results {
			p := &l.Results[i]
			if p.Name != *cr.Spec.ForProvider.Name {
				continue
			}
			observed, err := e.parametersOf(ctx, p, cr.Spec.ForProvider)
			if err != nil {
				return nil, errors.Wrap(err, errObserveFlow)
			}
			out = append(out, mrsetup.Candidate{ExternalName: strconv.Itoa(int(p.Pk)), Description: fmt.Sprintf("proxy provider %q", p.Name), Diff: Diff(cr.Spec.ForProvider, observed)})
		}
		return out, nil
	}
}
