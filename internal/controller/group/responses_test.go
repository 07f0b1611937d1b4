package group

import (
	"testing"

	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// The operations whose answers the Group controller reads.
var readOps = []string{"core_groups_create", "core_groups_retrieve", "core_groups_list", "core_groups_partial_update"}

// TestResponses: a group's answer holds no enum at all (see zz_responses.go).
func TestResponses(t *testing.T) {
	t.Parallel()
	cases := map[string]mrtest.ResponseCase{
		"UnknownKey": {
			Reason:     "Keys a newer Authentik adds are ignored.",
			Operations: readOps,
			Edit:       func(o map[string]any) { o["added_in_a_later_release"] = "x" },
		},
		"MissingUnneededKey": {
			Reason:     "Required keys the provider does not use may be missing, as older releases leave some out.",
			Operations: readOps,
			Edit: func(o map[string]any) {
				for _, k := range []string{"num_pk", "users_obj", "roles_obj", "parents_obj", "children_obj", "inherited_roles_obj", "children"} {
					delete(o, k)
				}
			},
		},
		"MissingNeededKey": {
			Reason:     "A key the provider compares may not be missing.",
			Operations: []string{"core_groups_retrieve", "core_groups_list"},
			Edit:       func(o map[string]any) { delete(o, "name") },
			WantSynced: "spec.forProvider.name (name): Authentik's answer lacks it\n" +
				"cannot read Authentik's answer to GET /api/v3/core/groups/",
		},
	}
	fixture.RunResponses(t, cases)
}

func TestUnreadableCreate(t *testing.T) {
	t.Parallel()
	fixture.RunUnreadableCreate(t)
}

func TestFieldPathsAreNeeded(t *testing.T) {
	t.Parallel()
	mrtest.CheckNeeded(t, "Group", fieldPaths)
}
