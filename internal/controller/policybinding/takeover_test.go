package policybinding

import (
	"sync"
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// TestNoTakeover: a binding of the same group to the same application is
// the object a PolicyBinding would duplicate; Authentik does not refuse the
// duplicate, so the resource must.
func TestNoTakeover(t *testing.T) {
	t.Parallel()
	runTakeover(t, func(t *testing.T, e *mrtest.Env, f fixture) string {
		return existingBinding(t, e, f.app, f.group, 0)
	}, func(adopt bool) resource.Managed {
		return binding(func(cr *v1alpha1.PolicyBinding) { cr.Spec.AdoptExisting = adopt })
	})
}

// runTakeover runs mrtest.RunTakeover against the binding existing makes,
// and the PolicyBinding desired makes, which would duplicate it.
func runTakeover(t *testing.T, existing func(*testing.T, *mrtest.Env, fixture) string, desired func(adopt bool) resource.Managed) {
	t.Helper()
	// The cases run in parallel, each with an Env and a fixture of its own.
	var fixtures sync.Map
	mrtest.RunTakeover(t, mrtest.Takeover{
		Kind:    Kind,
		Options: mrtest.OptionsOf(ReconcilerOptions),
		Existing: func(t *testing.T, e *mrtest.Env) string {
			f := newFixture(t, e)
			fixtures.Store(e, f)
			return existing(t, e, f)
		},
		Resource: func(_ *mrtest.Env, adopt bool) resource.Managed { return desired(adopt) },
		Path:     func(id string) string { return "/policies/bindings/" + id + "/" },
		Count: func(t *testing.T, e *mrtest.Env) int {
			f, _ := fixtures.Load(e)
			return len(bindingsOf(t, e, f.(fixture).app))
		},
	})
}
