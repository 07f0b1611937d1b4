package oauth2provider

import (
	"context"
	"strconv"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
)

const (
	errNotOAuth2Provider = "managed resource is not an OAuth2Provider"
	errFindByName        = "cannot look for an OAuth2 provider with spec.forProvider.name"
	errOtherType         = "has the name in spec.forProvider.name but is not an OAuth2 provider, so it is never taken over by an OAuth2Provider, even with spec.adoptExisting, and nothing was changed; rename or delete it in Authentik, or choose another spec.forProvider.name"

	// oauth2Component is the component Authentik reports for OAuth2
	// providers (OAuth2Provider.component in
	// authentik/providers/oauth2/models.py).
	oauth2Component = "ak-provider-oauth2-form"
)

// candidates finds the provider an unconfirmed create may have made, or a
// create would collide with: provider names are unique in Authentik across
// every provider type, so it is the one with the spec's name, if any. A
// provider of another type with that name is never a candidate: it is an
// error that says so.
func candidates(connect func(context.Context, *v1alpha1.OAuth2Provider) (*external, error)) mrbehavior.CandidateFinder {
	return func(ctx context.Context, mg resource.Managed) ([]mrbehavior.Candidate, error) {
		cr, ok := mg.(*v1alpha1.OAuth2Provider)
		if !ok {
			return nil, errors.New(errNotOAuth2Provider)
		}
		if cr.Spec.ForProvider.Name == nil {
			return nil, nil
		}
		e, err := connect(ctx, cr)
		if err != nil {
			return nil, err
		}
		l, resp, err := e.api().ProvidersOauth2List(ctx).Name(*cr.Spec.ForProvider.Name).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return nil, errors.Wrap(err, errFindByName)
		}
		var out []mrbehavior.Candidate
		for i := range l.Results {
			p := &l.Results[i]
			if p.Name != *cr.Spec.ForProvider.Name {
				continue
			}
			seen, err := e.compare(ctx, cr, p)
			if err != nil {
				return nil, errors.Wrap(err, errObserve)
			}
			out = append(out, mrbehavior.Candidate{ExternalName: strconv.Itoa(int(p.Pk)), Description: describe(p), Diff: seen.diff})
		}
		if len(out) > 0 {
			return out, nil
		}
		other, err := e.client.ProviderOfAnotherType(ctx, *cr.Spec.ForProvider.Name, oauth2Component)
		if err != nil || other == nil {
			return nil, err
		}
		return nil, errors.Errorf("%s %q (%d) %s", other.VerboseName, other.Name, other.PK, errOtherType)
	}
}
