package oauth2provider

import (
	"testing"

	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// The operations whose answers the OAuth2Provider controller reads.
var readOps = []string{
	"providers_oauth2_create", "providers_oauth2_retrieve", "providers_oauth2_list", "providers_oauth2_partial_update",
	"propertymappings_provider_scope_list", "crypto_certificatekeypairs_list", "flows_instances_retrieve", "flows_instances_list",
}

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
				for _, k := range []string{"verbose_name", "component", "expression", "cert_subject", "background_url", "title"} {
					delete(o, k)
				}
			},
		},
		"UnknownEnumInUnmanagedField": {
			Reason:     "Enum values the client does not know, in fields the provider does not manage (a key pair's type, a logout method), are no error.",
			Operations: readOps,
			Edit: func(o map[string]any) {
				if _, ok := o["key_type"]; ok {
					o["key_type"] = "post-quantum"
				}
				if _, ok := o["client_id"]; ok {
					o["logout_method"] = "carrier-pigeon"
				}
			},
		},
		"UnknownSubMode": {
			Reason:     "A subject mode the provider does not know fails, naming the spec field and the value.",
			Operations: []string{"providers_oauth2_retrieve", "providers_oauth2_list"},
			Edit:       func(o map[string]any) { o["sub_mode"] = "user_shoe_size" },
			WantSynced: "spec.forProvider.subMode (sub_mode): Authentik answered \"user_shoe_size\", which this provider does not know\n" +
				"cannot read Authentik's answer to GET /api/v3/providers/oauth2/",
		},
		"UnknownMatchingMode": {
			Reason:     "A redirect URI's matching mode is managed here, unlike a proxy provider's: one the provider does not know fails, naming the value.",
			Operations: []string{"providers_oauth2_retrieve", "providers_oauth2_list"},
			Edit: func(o map[string]any) {
				o["redirect_uris"] = []any{map[string]any{"matching_mode": "fuzzy", "url": redirectURI}}
			},
			WantSynced: "matching_mode: Authentik answered \"fuzzy\", which this provider does not know (it knows strict, regex)\n" +
				"cannot read Authentik's answer to GET /api/v3/providers/oauth2/",
		},
		"MissingClientSecret": {
			Reason:     "The client secret goes to the connection Secret, so an answer without it fails.",
			Operations: []string{"providers_oauth2_retrieve", "providers_oauth2_list"},
			Edit:       func(o map[string]any) { delete(o, "client_secret") },
			WantSynced: "Authentik's answer holds no client_secret, which the connection Secret needs",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cr := oauth2Provider()
			env := mrtest.New(t, cr)
			env.CheckResponses(env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...), cr, tc)
		})
	}
}

func TestUnreadableCreate(t *testing.T) {
	t.Parallel()
	cr := oauth2Provider()
	env := mrtest.New(t, cr)
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	env.CheckUnreadableCreate(r, cr, "providers_oauth2_create", mrtest.UnreadableCreate("/providers/oauth2/"), func() int {
		return len(providersNamed(t, env, providerName))
	})
}

func TestFieldPathsAreNeeded(t *testing.T) {
	t.Parallel()
	mrtest.CheckNeeded(t, "OAuth2Provider", fieldPaths)
}
