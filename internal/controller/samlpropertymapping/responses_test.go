package samlpropertymapping

import (
	"testing"

	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// The operations whose responses the SAMLPropertyMapping controller reads.
var readOps = []string{"propertymappings_provider_saml_create", "propertymappings_provider_saml_retrieve", "propertymappings_provider_saml_list", "propertymappings_provider_saml_update"}

// TestResponses: a SAML property mapping's response holds no enum at all
// (see zz_responses.go).
func TestResponses(t *testing.T) {
	t.Parallel()
	cases := mrtest.Keys{
		Read:       readOps,
		Added:      map[string]any{"claims_preview": nil},
		Unneeded:   []string{"component", "verbose_name", "verbose_name_plural", "meta_model_name"},
		Needed:     "saml_name",
		NeededPath: "spec.forProvider.samlName",
		NeededRead: []string{"propertymappings_provider_saml_retrieve", "propertymappings_provider_saml_list"},
	}.KeyCases(fixture.Path)
	fixture.RunResponses(t, cases)
}

func TestUnreadableCreate(t *testing.T) {
	t.Parallel()
	fixture.RunUnreadableCreate(t)
}

func TestFieldPathsAreNeeded(t *testing.T) {
	t.Parallel()
	mrtest.CheckNeeded(t, "SAMLPropertyMapping", fieldPaths)
}
