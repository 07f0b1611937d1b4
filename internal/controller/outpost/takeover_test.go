package outpost

import (
	"sync"
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

func TestNoTakeover(t *testing.T) {
	t.Parallel()
	// The cases run in parallel, each with an Env and a provider of its own.
	var providers sync.Map
	mrtest.RunTakeover(t, mrtest.Takeover{
		Kind:    Kind,
		Options: reconcilerOptions,
		Existing: func(t *testing.T, e *mrtest.Env) string {
			provider := newProvider(t, e, "someone-elses")
			providers.Store(e, provider)
			return existingOutpost(t, e, outpostCR(withProviders(provider)).Spec.ForProvider)
		},
		Resource: func(e *mrtest.Env, adopt bool) resource.Managed {
			provider, _ := providers.Load(e)
			return outpostCR(withProviders(provider.(int32)), func(cr *v1alpha1.Outpost) { cr.Spec.AdoptExisting = adopt })
		},
		Path:  func(id string) string { return "/outposts/instances/" + id + "/" },
		Count: func(t *testing.T, e *mrtest.Env) int { return len(outpostsNamed(t, e, outpostName)) },
	})
}
