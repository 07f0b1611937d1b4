package scopemapping

import (
	"testing"

	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// The operations whose responses the ScopeMapping controller reads.
var readOps = []string{"propertymappings_provider_scope_create", "propertymappings_provider_scope_retrieve", "propertymappings_provider_scope_list", "propertymappings_provider_scope_update"}

// TestResponses: a scope mapping's response holds no enum at all (see
// zz_responses.go).
func TestResponses(t *testing.T) {
	t.Parallel()
	cases := mrtest.Keys{
		Read:       readOps,
		Added:      map[string]any{"claims_preview": nil},
		Unneeded:   []string{"component", "verbose_name", "verbose_name_plural", "meta_model_name"},
		Needed:     "scope_name",
		NeededPath: "spec.forProvider.scopeName",
		NeededRead: []string{"propertymappings_provider_scope_retrieve", "propertymappings_provider_scope_list"},
	}.KeyCases(fixture.Path)
	fixture.RunResponses(t, cases)
}

func TestUnreadableCreate(t *testing.T) {
	t.Parallel()
	fixture.RunUnreadableCreate(t)
}

func TestFieldPathsAreNeeded(t *testing.T) {
	t.Parallel()
	mrtest.CheckNeeded(t, "ScopeMapping", fieldPaths)
}
