package group

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
	errNotGroup   = "managed resource is not a Group"
	errFindByName = "cannot look for a group with spec.forProvider.name"
)

// candidates finds the group an unconfirmed create may have made: group
// names are unique in Authentik, so it is the one with the spec's name.
func candidates(connect func(context.Context, *v1alpha1.Group) (*authentik.Client, error)) mrbehavior.CandidateFinder {
	return func(ctx context.Context, mg resource.Managed) ([]mrbehavior.Candidate, error) {
		cr, ok := mg.(*v1alpha1.Group)
		if !ok {
			return nil, errors.New(errNotGroup)
		}
		if cr.Spec.ForProvider.Name == nil {
			return nil, nil
		}
		ac, err := connect(ctx, cr)
		if err != nil {
			return nil, err
		}
		name := *cr.Spec.ForProvider.Name
		l, resp, err := ac.API.CoreAPI.CoreGroupsList(ctx).Name(name).IncludeUsers(false).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return nil, errors.Wrap(err, errFindByName)
		}
		var out []mrbehavior.Candidate
		for i := range l.Results {
			g := &l.Results[i]
			if g.Name != name {
				continue
			}
			out = append(out, mrbehavior.Candidate{ExternalName: g.Pk, Description: fmt.Sprintf("group %q", g.Name), Diff: specDiff(cr.Spec.ForProvider, parametersOf(g))})
		}
		return out, nil
	}
}
