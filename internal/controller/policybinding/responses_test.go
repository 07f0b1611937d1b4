package policybinding

import (
	"testing"

	"k8s.io/utils/ptr"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// The operations whose answers the PolicyBinding controller reads.
var readOps = []string{"policies_bindings_create", "policies_bindings_retrieve", "policies_bindings_list", "policies_bindings_update", "core_groups_list", "core_applications_list"}

// TestResponses: a binding's answer holds no enum (see zz_responses.go); the
// applications it lists when a binding went missing do, and it manages
// none of theirs.
func TestResponses(t *testing.T) {
	t.Parallel()
	byGroupName := func(cr *v1alpha1.PolicyBinding) {
		cr.Spec.ForProvider.GroupRef = nil
		cr.Spec.ForProvider.GroupName = ptr.To(groupName)
	}
	cases := map[string]struct {
		mrtest.ResponseCase
		groupGone bool
	}{
		"UnknownKey": {ResponseCase: mrtest.ResponseCase{
			Reason:     "Keys a newer Authentik adds are ignored.",
			Operations: readOps,
			Edit:       func(o map[string]any) { o["added_in_a_later_release"] = true },
		}},
		"MissingUnneededKey": {ResponseCase: mrtest.ResponseCase{
			Reason:     "Required keys the provider does not use may be missing, as older releases leave some out.",
			Operations: readOps,
			Edit: func(o map[string]any) {
				for _, k := range []string{"policy_obj", "user_obj", "users_obj", "roles_obj", "parents_obj", "num_pk"} {
					delete(o, k)
				}
			},
		}},
		"UnknownEnumInUnmanagedField": {
			ResponseCase: mrtest.ResponseCase{
				Reason:     "An application's policy engine mode, which no PolicyBinding manages, may hold a value the client does not know: the binding still reports its deleted group.",
				Operations: []string{"core_applications_list"},
				Edit:       func(o map[string]any) { o["policy_engine_mode"] = "most" },
				WantSynced: "is open to every user until it is restored",
			},
			groupGone: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cr := binding(byGroupName)
			env := mrtest.New(t, cr)
			f := newFixture(t, env)
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
			if tc.groupGone {
				env.Settle(r, cr)
				deleteGroup(t, env, f.group)
			}
			env.CheckResponses(r, cr, tc.ResponseCase)
		})
	}
}

func TestUnreadableCreate(t *testing.T) {
	t.Parallel()
	cr := binding()
	env := mrtest.New(t, cr)
	f := newFixture(t, env)
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	env.CheckUnreadableCreate(r, cr, "policies_bindings_create", mrtest.UnreadableCreate("/policies/bindings/"), func() int {
		return len(bindingsOf(t, env, f.app))
	})
}

func TestFieldPathsAreNeeded(t *testing.T) {
	t.Parallel()
	mrtest.CheckNeeded(t, "PolicyBinding", fieldPathsFor(v1alpha1.PolicyBindingParameters{}))
}
