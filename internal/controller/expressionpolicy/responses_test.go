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
	cases := mrtest.Keys{
		Read:       readOps,
		Added:      map[string]any{"execution_user": nil},
		Unneeded:   []string{"component", "verbose_name", "verbose_name_plural", "meta_model_name"},
		Needed:     "expression",
		NeededPath: "spec.forProvider.expression",
		NeededRead: []string{"policies_expression_retrieve", "policies_expression_list"},
	}.KeyCases(fixture.Path)
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
