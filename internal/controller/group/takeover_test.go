package group

import (
	"testing"

	api "goauthentik.io/api/v3"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// fixture's resource refers to a parent group, which every Env holds.
var fixture = mrtest.Fixture{
	Kind:    Kind,
	Options: mrtest.OptionsOf(ReconcilerOptions),
	Resource: func(adopt bool) resource.Managed {
		return group(func(cr *v1alpha1.Group) { cr.Spec.AdoptExisting = adopt })
	},
	Prepare:  func(t *testing.T, e *mrtest.Env) { parentGroup(t, e) },
	Path:     "/core/groups/",
	CreateOp: "core_groups_create",
	Existing: func(t *testing.T, e *mrtest.Env) string {
		return authentikGroup(t, e, *api.NewGroupRequest(groupName))
	},
	Count: func(t *testing.T, e *mrtest.Env) int { return len(groupsNamed(t, e, groupName)) },
}

func TestNoTakeover(t *testing.T) {
	t.Parallel()
	fixture.RunTakeover(t)
}
