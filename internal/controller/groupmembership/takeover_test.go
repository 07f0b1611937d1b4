package groupmembership

import (
	"sync"
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// TestNoTakeover: a membership that exists before the resource (alice
// added in the UI) is a pair like any other object: without consent it is
// left alone, since deleting the resource would remove it; with
// spec.adoptExisting or its pair as the external name it is managed.
func TestNoTakeover(t *testing.T) {
	t.Parallel()
	// Each case runs in parallel in its own Env, with its own world.
	var worlds sync.Map
	of := func(e *mrtest.Env) world {
		w, _ := worlds.Load(e)
		return w.(world)
	}
	mrtest.RunTakeover(t, mrtest.Takeover{
		Kind:    Kind,
		Options: mrtest.OptionsOf(ReconcilerOptions),
		Existing: func(t *testing.T, e *mrtest.Env) string {
			w := setUp(t, e)
			worlds.Store(e, w)
			add(t, e, w.group, w.alice)
			return pair{w.group, w.alice}.String()
		},
		Resource: func(e *mrtest.Env, adopt bool) resource.Managed {
			return membership(of(e), func(cr *v1alpha1.GroupMembership) { cr.Spec.AdoptExisting = adopt })
		},
		Path: func(id string) string {
			p, _ := parsePair(id)
			return "/core/groups/" + p.group + "/"
		},
		Count: func(t *testing.T, e *mrtest.Env) int {
			n := 0
			for _, m := range members(t, e, of(e).group) {
				if m == "alice" {
					n++
				}
			}
			return n
		},
	})
}
