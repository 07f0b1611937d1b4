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
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
)

const (
	errNotPolicyBinding = "managed resource is not a PolicyBinding"
	errFindBindings     = "cannot look for existing bindings of the group or policy to the application"
)

// candidates finds the bindings an unconfirmed create may have made, or
// that a create would duplicate: Authentik does not keep a group's (or a
// policy's, at another order) bindings to an application unique, so they
// are all the application's bindings of the group or policy, each with how
// it differs from the spec.
func candidates(connect func(context.Context, *v1alpha1.PolicyBinding) (*external, error)) mrbehavior.CandidateFinder {
	a := &adopter{connect: connect}
	return func(ctx context.Context, mg resource.Managed) ([]mrbehavior.Candidate, error) {
		cr, ok := mg.(*v1alpha1.PolicyBinding)
		if !ok {
			return nil, errors.New(errNotPolicyBinding)
		}
		bindings, err := a.ofSubject(ctx, cr)
		if err != nil {
			return nil, err
		}
		out := make([]mrbehavior.Candidate, 0, len(bindings))
		for _, b := range bindings {
			out = append(out, mrbehavior.Candidate{
				ExternalName: b.Pk,
				Description:  fmt.Sprintf("a binding of %s to application %s", describeSubject(b), b.Target),
				Diff:         specDiff(cr.Spec.ForProvider, parametersOf(&b)),
			})
		}
		return out, nil
	}
}

func describeSubject(b api.PolicyBinding) string {
	if p := b.Policy.Get(); p != nil {
		if o, ok := b.GetPolicyObjOk(); ok && o != nil {
			return fmt.Sprintf("policy %q", o.Name)
		}
		return "policy " + *p
	}
	if g, ok := b.GetGroupObjOk(); ok && g != nil {
		return fmt.Sprintf("group %q", g.Name)
	}
	return "group " + ptr.Deref(b.Group.Get(), "")
}

// An adopter looks up what a create may have made or would duplicate.
type adopter struct {
	connect func(context.Context, *v1alpha1.PolicyBinding) (*external, error)
}

// ofSubject lists the bindings in Authentik of this resource's group or
// policy to its application. A spec without an application, group or
// policy could not be sent.
func (a *adopter) ofSubject(ctx context.Context, cr *v1alpha1.PolicyBinding) ([]api.PolicyBinding, error) {
	p := cr.Spec.ForProvider
	if p.Application == nil || (p.Group == nil && p.GroupName == nil && p.Policy == nil) {
		return nil, nil
	}
	e, err := a.connect(ctx, cr)
	if err != nil {
		return nil, err
	}
	subject := func(b *api.PolicyBinding) *string { return b.Group.Get() }
	id := ptr.Deref(p.Group, "")
	switch {
	case p.Policy != nil:
		subject = func(b *api.PolicyBinding) *string { return b.Policy.Get() }
		id = *p.Policy
	case p.GroupName != nil:
		g, err := e.groupNamed(ctx, *p.GroupName)
		if err != nil {
			return nil, errors.Wrap(err, errFindBindings)
		}
		if g == nil {
			// No group, no binding of it: the create says what is missing.
			return nil, nil
		}
		id = g.Pk
	}
	var out []api.PolicyBinding
	for page := int32(1); page > 0; {
		l, resp, err := e.api().PoliciesBindingsList(ctx).Target(*p.Application).Page(page).PageSize(pageSize).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return nil, errors.Wrap(err, errFindBindings)
		}
		for i := range l.Results {
			if s := subject(&l.Results[i]); s != nil && strings.EqualFold(*s, id) {
				out = append(out, l.Results[i])
			}
		}
		page = int32(l.Pagination.Next)
	}
	return out, nil
}
