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
	cases := map[string]mrtest.ResponseCase{
		"UnknownKey": {
			Reason:     "Keys a newer Authentik adds are ignored.",
			Operations: readOps,
			Edit:       func(o map[string]any) { o["claims_preview"] = nil },
		},
		"MissingUnneededKey": {
			Reason:     "Required keys the provider does not use may be missing.",
			Operations: readOps,
			Edit: func(o map[string]any) {
				for _, k := range []string{"component", "verbose_name", "verbose_name_plural", "meta_model_name"} {
					delete(o, k)
				}
			},
		},
		"MissingNeededKey": {
			Reason:     "A key the provider compares may not be missing.",
			Operations: []string{"propertymappings_provider_scope_retrieve", "propertymappings_provider_scope_list"},
			Edit:       func(o map[string]any) { delete(o, "scope_name") },
			WantSynced: "spec.forProvider.scopeName (scope_name): Authentik's answer lacks it\n" +
				"cannot read Authentik's answer to GET /api/v3/propertymappings/provider/scope/",
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
	mrtest.CheckNeeded(t, "ScopeMapping", fieldPaths)
}
