package policybinding

import (
	"context"
	"strings"

	api "goauthentik.io/api/v3"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

const (
	errNotPolicyBinding = "managed resource is not a PolicyBinding"
	errFindBindings     = "cannot look for the policy binding after an unconfirmed create"
)

// candidates finds the bindings an unconfirmed create may have made.
// Authentik does not keep a group's bindings to an application unique, so
// they are the application's bindings of the group that match the spec; the
// Adopter takes one only if it is the only one.
func candidates(connect func(context.Context, *v1alpha1.PolicyBinding) (*authentik.Client, error)) mrsetup.CandidateFinder {
	a := &adopter{connect: connect}
	return func(ctx context.Context, mg resource.Managed) ([]mrsetup.Candidate, error) {
		cr, ok := mg.(*v1alpha1.PolicyBinding)
		if !ok {
			return nil, errors.New(errNotPolicyBinding)
		}
		matches, err := a.matching(ctx, cr)
		if err != nil {
			return nil, err
		}
		out := make([]mrsetup.Candidate, 0, len(matches))
		for _, b := range matches {
			out = append(out, mrsetup.Candidate{ExternalName: b.Pk})
		}
		return out, nil
	}
}

// An adopter looks up what an unconfirmed create may have made.
type adopter struct {
	connect func(context.Context, *v1alpha1.PolicyBinding) (*authentik.Client, error)
}

// matching lists the bindings in Authentik that this resource could have
// made: bindings of its group to its application that match the spec. A
// spec without an application or group could not have been sent.
func (a *adopter) matching(ctx context.Context, cr *v1alpha1.PolicyBinding) ([]api.PolicyBinding, error) {
	p := cr.Spec.ForProvider
	if p.Application == nil || (p.Group == nil && p.GroupName == nil) {
		return nil, nil
	}
	ac, err := a.connect(ctx, cr)
	if err != nil {
		return nil, err
	}
	e := &external{client: ac}
	group, err := e.groupID(ctx, p)
	if err != nil {
		return nil, errors.Wrap(err, errFindBindings)
	}
	var out []api.PolicyBinding
	for page := int32(1); page > 0; {
		l, resp, err := e.api().PoliciesBindingsList(ctx).Target(*p.Application).Page(page).PageSize(pageSize).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return nil, errors.Wrap(err, errFindBindings)
		}
		for i := range l.Results {
			b := &l.Results[i]
			if g := b.Group.Get(); g == nil || !strings.EqualFold(*g, group) {
				continue
			}
			if Diff(p, parametersOf(b)) == "" {
				out = append(out, *b)
			}
		}
		page = int32(l.Pagination.Next)
	}
	return out, nil
}
