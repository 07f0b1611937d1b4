package outpostbinding

import (
	"testing"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// The operations whose answers the OutpostBinding controller reads.
var readOps = []string{"outposts_instances_retrieve", "outposts_instances_list", "outposts_instances_partial_update"}

// TestResponses: an OutpostBinding manages only an outpost's provider list,
// so the outpost's type is a field it does not manage.
func TestResponses(t *testing.T) {
	t.Parallel()
	cases := map[string]mrtest.ResponseCase{
		"UnknownKey": {
			Reason:     "Keys a newer Authentik adds are ignored.",
			Operations: readOps,
			Edit:       func(o map[string]any) { o["added_in_a_later_release"] = []any{} },
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
		"UnknownEnumInUnmanagedField": {
			Reason:     "An outpost type the client does not know is no error for a binding, which does not manage it.",
			Operations: readOps,
			Edit:       func(o map[string]any) { o["type"] = "quantum" },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			cr := binding("longhorn", withProvider(newProvider(t, env, "longhorn")))
			env.Create(cr)
			r := env.Reconciler(Kind, reconcilerOptions(env, authentik.NewOutpostLists(authentik.SerializePerOutpost))...)
			env.CheckResponses(r, cr, tc)
		})
	}
}

func TestFieldPathsAreNeeded(t *testing.T) {
	t.Parallel()
	mrtest.CheckNeeded(t, "OutpostBinding", fieldPaths)
}
