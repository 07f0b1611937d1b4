package outpost

import (
	"testing"

	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// The operations whose answers the Outpost controller reads.
var readOps = []string{"outposts_instances_create", "outposts_instances_retrieve", "outposts_instances_list", "outposts_instances_partial_update", "outposts_instances_default_settings_retrieve"}

// TestResponses: an outpost's answer holds no enum the Outpost kind does not
// manage (see zz_responses.go), so its unknown enum case is one it manages.
func TestResponses(t *testing.T) {
	t.Parallel()
	cases := map[string]mrtest.ResponseCase{
		"UnknownKey": {
			Reason:     "Keys a newer Authentik adds are ignored.",
			Operations: readOps,
			Edit:       func(o map[string]any) { o["added_in_a_later_release"] = 7 },
		},
		"MissingUnneededKey": {
			Reason:     "Required keys the provider does not use may be missing, as older releases leave some out.",
			Operations: readOps,
			Edit: func(o map[string]any) {
				for _, k := range []string{"providers_obj", "service_connection_obj", "refresh_interval_s", "token_identifier"} {
					delete(o, k)
				}
			},
		},
		"UnknownType": {
			Reason:     "An outpost type the provider does not know fails, naming the spec field and the value.",
			Operations: []string{"outposts_instances_retrieve", "outposts_instances_list"},
			Edit:       func(o map[string]any) { o["type"] = "quantum" },
			WantSynced: "spec.forProvider.type (type): Authentik answered \"quantum\", which this provider does not know (it knows proxy, ldap, radius, rac)\n" +
				"cannot read Authentik's answer to GET /api/v3/outposts/instances/",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			cr := outpostCR(withProviders(newProvider(t, env, "longhorn")))
			env.Create(cr)
			env.CheckResponses(env.Reconciler(Kind, reconcilerOptions(env)...), cr, tc)
		})
	}
}

func TestFieldPathsAreNeeded(t *testing.T) {
	t.Parallel()
	mrtest.CheckNeeded(t, "Outpost", fieldPaths)
}
