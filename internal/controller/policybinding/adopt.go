package policybinding

import (
	"context"
	"fmt"
	"strings"

	api "goauthentik.io/api/v3"
	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

const (
	errNotPolicyBinding = "managed resource is not a PolicyBinding"
	errFindBindings     = "cannot look for existing bindings of the group to the application"
)

// candidates finds the bindings an unconfirmed create may have made, or
// that a create would duplicate: Authentik does not keep a group's bindings
// to an application unique, so they are all the application's bindings of
// the group, each with how it differs from the spec.
func candidates(connect func(context.Context, *v1alpha1.PolicyBinding) (*external, error)) mrsetup.CandidateFinder {
	a := &adopter{connect: connect}
	return func(ctx context.Context, mg resource.Managed) ([]mrsetup.Candidate, error) {
		cr, ok := mg.(*v1alpha1.PolicyBinding)
		if !ok {
			return nil, errors.New(errNotPolicyBinding)
		}
		bindings, err := a.ofGroup(ctx, cr)
		if err != nil {
			return nil, err
		}
		out := make([]mrsetup.Candidate, 0, len(bindings))
		for _, b := range bindings {
			out = append(out, mrsetup.Candidate{
				ExternalName: b.Pk,
				Description:  fmt.Sprintf("a binding of group %s to application %s", describeGroup(b), b.Target),
				Diff:         Diff(cr.Spec.ForProvider, parametersOf(&b)),
			})
		}
		return out, nil
	}
}

func describeGroup(b api.PolicyBinding) string {
	if g, ok := b.GetGroupObjOk(); ok && g != nil {
		return fmt.Sprintf("%q", g.Name)
	}
	return ptr.Deref(b.Group.Get(), "")
}

// An adopter looks up what a create may have made or would duplicate.
type adopter struct {
	connect func(context.Context, *v1alpha1.PolicyBinding) (*external, error)
}

// ofGroup lists the bindings in Authentik of this resource's group to its
// application. A spec without an application or group could not be sent.
func (a *adopter) ofGroup(ctx context.Context, cr *v1alpha1.PolicyBinding) ([]api.PolicyBinding, error) {
	p := cr.Spec.ForProvider
	if p.Application == nil || (p.Group == nil && p.GroupName == nil) {
		return nil, nil
	}
	e, err := a.connect(ctx, cr)
	if err != nil {
		return nil, err
	}
	group := ptr.Deref(p.Group, "")
	if p.GroupName != nil {
		g, err := e.groupNamed(ctx, *p.GroupName)
		if err != nil {
			return nil, errors.Wrap(err, errFindBindings)
		}
		if g == nil {
			// No group, no binding of it: the create says what is missing.
			return nil, nil
		}
		group = g.Pk
	}
	var out []api.PolicyBinding
	for page := int32(1); page > 0; {
		l, resp, err := e.api().PoliciesBindingsList(ctx).Target(*p.Application).Page(page).PageSize(pageSize).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return nil, errors.Wrap(err, errFindBindings)
		}
		for i := range l.Results {
			if g := l.Results[i].Group.Get(); g != nil && strings.EqualFold(*g, group) {
				out = append(out, l.Results[i])
			}
		}
		page = int32(l.Pagination.Next)
	}
	return out, nil
}
