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
	cases := mrtest.Keys{
		Read:       readOps,
		Added:      map[string]any{"added_in_a_later_release": "x"},
		Unneeded:   []string{"num_pk", "users_obj", "roles_obj", "parents_obj", "children_obj", "inherited_roles_obj", "children"},
		Needed:     "name",
		NeededPath: "spec.forProvider.name",
		NeededRead: []string{"core_groups_retrieve", "core_groups_list"},
	}.KeyCases(fixture.Path)
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
