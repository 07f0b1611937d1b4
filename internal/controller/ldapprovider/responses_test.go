package ldapprovider

import (
	"testing"

	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// The operations whose responses the LDAPProvider controller reads.
var readOps = []string{"providers_ldap_create", "providers_ldap_retrieve", "providers_ldap_list", "providers_ldap_update"}

// TestResponses: newer Authentik releases may add keys and enum values; the
// provider reads past those it does not manage and names the field of one
// it does.
func TestResponses(t *testing.T) {
	t.Parallel()
	cases := mrtest.Keys{
		Read:       readOps,
		Added:      map[string]any{"search_group": nil},
		Unneeded:   []string{"component", "verbose_name", "verbose_name_plural", "meta_model_name", "assigned_backchannel_application_slug"},
		Needed:     "authorization_flow",
		NeededPath: "spec.forProvider.authorizationFlow",
		NeededRead: []string{"providers_ldap_retrieve", "providers_ldap_list"},
	}.KeyCases(fixture.Path)
	cases["UnknownModeNamesField"] = mrtest.ResponseCase{
		Reason:     "A bind mode the client does not know is named by its spec field.",
		Operations: []string{"providers_ldap_retrieve", "providers_ldap_list"},
		Edit:       func(o map[string]any) { o["bind_mode"] = "ldap_sync" },
		WantSynced: "spec.forProvider.bindMode (bind_mode)",
	}
	fixture.RunResponses(t, cases)
}

func TestUnreadableCreate(t *testing.T) {
	t.Parallel()
	fixture.RunUnreadableCreate(t)
}

func TestFieldPathsAreNeeded(t *testing.T) {
	t.Parallel()
	mrtest.CheckNeeded(t, "LDAPProvider", fieldPaths)
}
