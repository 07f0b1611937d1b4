package expressionpolicy

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
	errNotExpressionPolicy = "managed resource is not an ExpressionPolicy"
	errFindByName          = "cannot look for an expression policy with spec.forProvider.name"
)

// candidates finds the policy an unconfirmed create may have made, or that
// a create would collide with: policy names are unique in Authentik, so it
// is the expression policy with the spec's name. A policy of another type
// with the name is not listed here; Authentik refuses the create on
// spec.forProvider.name.
func candidates(connect func(context.Context, *v1alpha1.ExpressionPolicy) (*authentik.Client, error)) mrbehavior.CandidateFinder {
	return func(ctx context.Context, mg resource.Managed) ([]mrbehavior.Candidate, error) {
		cr, ok := mg.(*v1alpha1.ExpressionPolicy)
		if !ok {
			return nil, errors.New(errNotExpressionPolicy)
		}
		if cr.Spec.ForProvider.Name == nil {
			return nil, nil
		}
		ac, err := connect(ctx, cr)
		if err != nil {
			return nil, err
		}
		name := *cr.Spec.ForProvider.Name
		l, resp, err := ac.API.PoliciesAPI.PoliciesExpressionList(ctx).Name(name).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return nil, errors.Wrap(err, errFindByName)
		}
		var out []mrbehavior.Candidate
		for i := range l.Results {
			p := &l.Results[i]
			if p.Name != name {
				continue
			}
			out = append(out, mrbehavior.Candidate{ExternalName: p.Pk, Description: fmt.Sprintf("expression policy %q", p.Name), Diff: specDiff(cr.Spec.ForProvider, parametersOf(p))})
		}
		return out, nil
	}
}
