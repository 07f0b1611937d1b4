package user

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
	errNotUser        = "managed resource is not a User"
	errFindByUsername = "cannot look for a user with spec.forProvider.username"
)

// candidates finds the user an unconfirmed create may have made, or that a
// create would collide with: usernames are unique in Authentik, so it is
// the user with the spec's username. It is recognised by the fields a
// create sets.
func candidates(connect func(context.Context, *v1alpha1.User) (*authentik.Client, error)) mrbehavior.CandidateFinder {
	return func(ctx context.Context, mg resource.Managed) ([]mrbehavior.Candidate, error) {
		cr, ok := mg.(*v1alpha1.User)
		if !ok {
			return nil, errors.New(errNotUser)
		}
		if cr.Spec.ForProvider.Username == nil {
			return nil, nil
		}
		ac, err := connect(ctx, cr)
		if err != nil {
			return nil, err
		}
		username := *cr.Spec.ForProvider.Username
		l, resp, err := ac.API.CoreAPI.CoreUsersList(ctx).Username(username).IncludeGroups(false).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return nil, errors.Wrap(err, errFindByUsername)
		}
		var out []mrbehavior.Candidate
		for i := range l.Results {
			u := &l.Results[i]
			if u.Username != username {
				continue
			}
			out = append(out, mrbehavior.Candidate{ExternalName: itoa(u.Pk), Description: fmt.Sprintf("user %q", u.Username), Diff: Diff(createdFields(cr.Spec.ForProvider), parametersOf(u))})
		}
		return out, nil
	}
}
