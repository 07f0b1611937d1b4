package scopemapping

import (
	"context"
	"fmt"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
)

const (
	errNotScopeMapping = "managed resource is not a ScopeMapping"
	errFindByName      = "cannot look for a scope mapping with spec.forProvider.name"
)

// candidates finds the mapping an unconfirmed create may have made, or that
// a create would collide with: property mapping names are unique in
// Authentik, so it is the scope mapping with the spec's name. A mapping of
// another type with the name is not listed here; Authentik refuses the
// create on spec.forProvider.name.
func candidates(connect func(context.Context, *v1alpha1.ScopeMapping) (*authentik.Client, error)) mrbehavior.CandidateFinder {
	return func(ctx context.Context, mg resource.Managed) ([]mrbehavior.Candidate, error) {
		cr, ok := mg.(*v1alpha1.ScopeMapping)
		if !ok {
			return nil, errors.New(errNotScopeMapping)
		}
		if cr.Spec.ForProvider.Name == nil {
			return nil, nil
		}
		ac, err := connect(ctx, cr)
		if err != nil {
			return nil, err
		}
		name := *cr.Spec.ForProvider.Name
		l, resp, err := ac.API.PropertymappingsAPI.PropertymappingsProviderScopeList(ctx).Name(name).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return nil, errors.Wrap(err, errFindByName)
		}
		var out []mrbehavior.Candidate
		for i := range l.Results {
			m := &l.Results[i]
			if m.Name != name {
				continue
			}
			out = append(out, mrbehavior.Candidate{ExternalName: m.Pk, Description: fmt.Sprintf("scope mapping %q", m.Name), Diff: specDiff(cr.Spec.ForProvider, parametersOf(m))})
		}
		return out, nil
	}
}
