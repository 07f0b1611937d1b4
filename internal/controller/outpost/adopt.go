package outpost

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
	errNotOutpost = "managed resource is not an Outpost"
	errFindByName = "cannot look for an outpost with spec.forProvider.name"
)

// candidates finds the outpost an unconfirmed create may have made:
// outpost names are unique in Authentik, so it is the one with the spec's
// name; it matches if every field the spec sets does and it serves every
// provider the spec names.
func candidates(connect func(context.Context, *v1alpha1.Outpost) (*authentik.Client, error)) mrbehavior.CandidateFinder {
	return func(ctx context.Context, mg resource.Managed) ([]mrbehavior.Candidate, error) {
		cr, ok := mg.(*v1alpha1.Outpost)
		if !ok {
			return nil, errors.New(errNotOutpost)
		}
		if cr.Spec.ForProvider.Name == nil {
			return nil, nil
		}
		spec, err := specView(cr.Spec.ForProvider)
		if err != nil {
			return nil, err
		}
		ac, err := connect(ctx, cr)
		if err != nil {
			return nil, err
		}
		l, resp, err := ac.API.OutpostsAPI.OutpostsInstancesList(ctx).NameIexact(*cr.Spec.ForProvider.Name).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return nil, errors.Wrap(err, errFindByName)
		}
		var out []mrbehavior.Candidate
		for i := range l.Results {
			o := &l.Results[i]
			if o.Name != *cr.Spec.ForProvider.Name {
				continue
			}
			out = append(out, mrbehavior.Candidate{ExternalName: o.Pk, Description: fmt.Sprintf("outpost %q", o.Name), Diff: specDiff(spec, observedView(o), nil)})
		}
		return out, nil
	}
}
