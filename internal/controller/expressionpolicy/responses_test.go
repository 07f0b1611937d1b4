package expressionpolicy

import (
	"testing"

	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// The operations whose answers the ExpressionPolicy controller reads.
var readOps = []string{"policies_expression_create", "policies_expression_retrieve", "policies_expression_list", "policies_expression_update"}

// TestResponses: an expression policy's answer holds no enum at all (see
// zz_responses.go).
func TestResponses(t *testing.T) {
	t.Parallel()
	cases := map[string]mrtest.ResponseCase{
		"UnknownKey": {
			Reason:     "Keys a newer Authentik adds are ignored.",
			Operations: readOps,
			Edit:       func(o map[string]any) { o["execution_user"] = nil },
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
			Operations: []string{"policies_expression_retrieve", "policies_expression_list"},
			Edit:       func(o map[string]any) { delete(o, "expression") },
			WantSynced: "spec.forProvider.expression (expression): Authentik's answer lacks it\n" +
				"cannot read Authentik's answer to GET /api/v3/policies/expression/",
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
	mrtest.CheckNeeded(t, "ExpressionPolicy", fieldPaths)
}
