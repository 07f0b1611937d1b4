package application

import (
	"context"
	"fmt"

	api "goauthentik.io/api/v3"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
)

const (
	errNotApplication = "managed resource is not an Application"
	errFindBySlug     = "cannot look for an application with this resource's slug"
)

// candidates finds the application with the slug this resource would
// create: slugs are unique in Authentik, so there is at most one.
func candidates(connect func(context.Context, *v1alpha1.Application) (*authentik.Client, error)) mrbehavior.CandidateFinder {
	return func(ctx context.Context, mg resource.Managed) ([]mrbehavior.Candidate, error) {
		cr, ok := mg.(*v1alpha1.Application)
		if !ok {
			return nil, errors.New(errNotApplication)
		}
		slug, err := slugOf(cr)
		if err != nil {
			return nil, err
		}
		ac, err := connect(ctx, cr)
		if err != nil {
			return nil, err
		}
		a, resp, err := ac.API.CoreAPI.CoreApplicationsRetrieve(ctx, slug).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			if authentik.IsNotFound(err) {
				return nil, nil
			}
			return nil, errors.Wrap(err, errFindBySlug)
		}
		return []mrbehavior.Candidate{{
			ExternalName: slug,
			Description:  fmt.Sprintf("application %q", a.Name),
			Diff:         specDiff(cr.Spec.ForProvider, parametersOf(a)),
			Unadoptable:  otherProvider(cr.Spec.ForProvider.Provider, a),
		}}, nil
	}
}

// otherProvider says why an application that belongs to another provider
// than the spec's is not taken over: adopting it would move the
// application away from the provider that serves it now. One without a
// provider, or with the spec's, may be adopted.
func otherProvider(want *int32, a *api.Application) string {
	has := a.Provider.Get()
	if want == nil || has == nil || *has == *want {
		return ""
	}
	name := ""
	if p := a.ProviderObj.Get(); p != nil {
		name = fmt.Sprintf(" %q", p.Name)
	}
	return fmt.Sprintf("it belongs to provider%s (%d), not to this resource's provider %d (spec.forProvider.provider), and taking it over would take it from that provider; choose another slug, or delete or reassign that application in Authentik", name, *has, *want)
}
