package user

import (
	"testing"

	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// The operations whose responses the User controller reads for a person.
var readOps = []string{"core_users_create", "core_users_retrieve", "core_users_list", "core_users_partial_update"}

// TestResponses: a user's type is an enum the provider compares, so an
// unknown one fails the read; other keys as for every kind.
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
				for _, k := range []string{"date_joined", "last_updated", "roles_obj", "groups_obj", "avatar", "uid", "password_change_date"} {
					delete(o, k)
				}
			},
		},
		"MissingNeededKey": {
			Reason:     "A key the provider compares may not be missing.",
			Operations: []string{"core_users_retrieve", "core_users_list"},
			Edit:       func(o map[string]any) { delete(o, "name") },
			WantSynced: "spec.forProvider.name (name): Authentik's answer lacks it\n" +
				"cannot read Authentik's answer to GET /api/v3/core/users/",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cr := person()
			env := mrtest.New(t, cr)
			env.CheckResponses(env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...), cr, tc)
		})
	}
}

func TestUnreadableCreate(t *testing.T) {
	t.Parallel()
	cr := person()
	env := mrtest.New(t, cr)
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	env.CheckUnreadableCreate(r, cr, "core_users_create", mrtest.UnreadableCreate("/core/users/"), func() int {
		return len(usersNamed(t, env, username))
	})
}

func TestFieldPathsAreNeeded(t *testing.T) {
	t.Parallel()
	mrtest.CheckNeeded(t, "User", fieldPaths)
}
