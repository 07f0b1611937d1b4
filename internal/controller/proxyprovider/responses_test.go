package proxyprovider

import (
	"testing"

	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// The operations whose answers the ProxyProvider controller reads.
var readOps = []string{"providers_proxy_create", "providers_proxy_retrieve", "providers_proxy_list", "providers_proxy_update", "flows_instances_retrieve", "flows_instances_list"}

func TestResponses(t *testing.T) {
	t.Parallel()
	cases := map[string]mrtest.ResponseCase{
		"UnknownKey": {
			Reason:     "Keys a newer Authentik adds are ignored.",
			Operations: readOps,
			Edit:       func(o map[string]any) { o["added_in_a_later_release"] = []any{"x"} },
		},
		"MissingUnneededKey": {
			Reason:     "Required keys the provider does not use may be missing, as older releases leave some out.",
			Operations: readOps,
			Edit: func(o map[string]any) {
				for _, k := range []string{"client_id", "redirect_uris", "outpost_set", "background_url", "title"} {
					delete(o, k)
				}
			},
		},
		"UnknownEnumInUnmanagedField": {
			Reason:     "Enum values the client does not know, in fields the provider does not manage (a redirect URI's matching mode, a flow's layout), are no error.",
			Operations: readOps,
			Edit: func(o map[string]any) {
				if _, ok := o["redirect_uris"]; ok {
					o["redirect_uris"] = []any{map[string]any{"matching_mode": "fuzzy", "url": externalHost, "redirect_uri_type": "teleport"}}
				}
				if _, ok := o["layout"]; ok {
					o["layout"] = "hologram"
				}
			},
		},
		"NullFlows": {
			Reason:     "Authentik 2026.8 answers null for a provider without flows; with the spec naming none, there is nothing to repair.",
			Operations: []string{"providers_proxy_retrieve", "providers_proxy_list"},
			Edit:       func(o map[string]any) { o["authorization_flow"], o["invalidation_flow"] = nil, nil },
		},
		"UnknownMode": {
			Reason:     "A mode the provider does not know fails, naming the spec field and the value.",
			Operations: []string{"providers_proxy_retrieve", "providers_proxy_list"},
			Edit:       func(o map[string]any) { o["mode"] = "sideways" },
			WantSynced: "spec.forProvider.mode (mode): Authentik answered \"sideways\", which this provider does not know (it knows proxy, forward_single, forward_domain)\n" +
				"cannot read Authentik's answer to GET /api/v3/providers/proxy/",
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
	mrtest.CheckNeeded(t, "ProxyProvider", fieldPaths)
}
