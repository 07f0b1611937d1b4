package authentik

import (
	"context"
	"strings"

	api "goauthentik.io/api/v3"
	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
)

const errListApplicationBindings = "cannot list the policy bindings of application"

// bindingsPageSize is the page size of an application's binding list:
// Authentik's default, far more than one application has.
const bindingsPageSize = 100

// UnboundGroups returns the groups in required that no enabled, not negated
// group binding among bindings binds: while one is unbound, an application
// restricted to those groups may admit users outside them.
func UnboundGroups(required []string, bindings []*api.PolicyBinding) []string {
	bound := map[string]bool{}
	for _, b := range bindings {
		if g := b.GroupObj.Get(); g != nil && ptr.Deref(b.Enabled, true) && !ptr.Deref(b.Negate, false) {
			bound[g.Name] = true
		}
	}
	var out []string
	for _, g := range required {
		if !bound[g] {
			out = append(out, g)
		}
	}
	return out
}

// ApplicationBindings lists the enabled policy bindings of the application
// with UUID target, fresh from Authentik.
func ApplicationBindings(ctx context.Context, c *Client, target string) ([]*api.PolicyBinding, error) {
	var out []*api.PolicyBinding
	for page := int32(1); page > 0; {
		l, resp, err := c.API.PoliciesAPI.PoliciesBindingsList(ctx).Target(target).Enabled(true).Page(page).PageSize(bindingsPageSize).Execute()
		if err := Classify(resp, err); err != nil {
			return nil, errors.Wrapf(err, "%s %s", errListApplicationBindings, target)
		}
		for i := range l.Results {
			out = append(out, &l.Results[i])
		}
		page = int32(l.Pagination.Next)
	}
	return out, nil
}

// UnboundGroupsOf returns the groups in required that have no enabled, not
// negated binding on the application with UUID target. The shared list of
// policy bindings answers when it shows every group bound, at no request
// while it is fresh; otherwise the application's bindings are read fresh,
// so a binding made since the list was requested never counts as missing.
func UnboundGroupsOf(ctx context.Context, c *Client, required []string, target string) ([]string, error) {
	shared, err := c.ForKindOf(&v1alpha1.PolicyBinding{})
	if err != nil {
		return nil, err
	}
	listed, ok, err := PolicyBindings.ListCached(ctx, shared, func(b *api.PolicyBinding) bool {
		return strings.EqualFold(b.Target, target)
	})
	if err != nil {
		return nil, errors.Wrapf(err, "%s %s", errListApplicationBindings, target)
	}
	if ok && len(UnboundGroups(required, listed)) == 0 {
		return nil, nil
	}
	fresh, err := ApplicationBindings(ctx, c, target)
	if err != nil {
		return nil, err
	}
	return UnboundGroups(required, fresh), nil
}
