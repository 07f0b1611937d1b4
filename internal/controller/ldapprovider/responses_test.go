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
	cases := map[string]mrtest.ResponseCase{
		"UnknownKey": {
			Reason:     "Keys a newer Authentik adds are ignored.",
			Operations: readOps,
			Edit:       func(o map[string]any) { o["search_group"] = nil },
		},
		"MissingUnneededKey": {
			Reason:     "Required keys the provider does not use may be missing.",
			Operations: readOps,
			Edit: func(o map[string]any) {
				for _, k := range []string{"component", "verbose_name", "verbose_name_plural", "meta_model_name", "assigned_backchannel_application_slug"} {
					delete(o, k)
				}
			},
		},
		"UnknownModeNamesField": {
			Reason:     "A bind mode the client does not know is named by its spec field.",
			Operations: []string{"providers_ldap_retrieve", "providers_ldap_list"},
			Edit:       func(o map[string]any) { o["bind_mode"] = "ldap_sync" },
			WantSynced: "spec.forProvider.bindMode (bind_mode)",
		},
		"MissingNeededKey": {
			Reason:     "A key the provider compares may not be missing.",
			Operations: []string{"providers_ldap_retrieve", "providers_ldap_list"},
			Edit:       func(o map[string]any) { delete(o, "authorization_flow") },
			WantSynced: "spec.forProvider.authorizationFlow (authorization_flow): Authentik's answer lacks it",
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
	mrtest.CheckNeeded(t, "LDAPProvider", fieldPaths)
}
