package application

import (
	"context"
	"testing"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// The operations whose answers the Application controller reads.
var readOps = []string{"core_applications_create", "core_applications_retrieve", "core_applications_list", "core_applications_update"}

// TestResponses: an application's answer holds no enum the Application kind
// does not manage (see zz_responses.go), so its unknown enum case is one the
// kind manages.
func TestResponses(t *testing.T) {
	t.Parallel()
	cases := map[string]mrtest.ResponseCase{
		"UnknownKey": {
			Reason:     "Keys a newer Authentik adds are ignored.",
			Operations: readOps,
			Edit:       func(o map[string]any) { o["added_in_a_later_release"] = map[string]any{"x": 1} },
		},
		"MissingUnneededKey": {
			Reason:     "Required keys the provider does not use may be missing, as older releases leave some out.",
			Operations: readOps,
			Edit: func(o map[string]any) {
				for _, k := range []string{"meta_icon_url", "meta_icon_themed_urls", "backchannel_providers_obj", "launch_url"} {
					delete(o, k)
				}
			},
		},
		"UnknownPolicyEngineMode": {
			Reason:     "A policy engine mode the provider does not know fails, naming the spec field and the value.",
			Operations: []string{"core_applications_retrieve", "core_applications_list"},
			Edit:       func(o map[string]any) { o["policy_engine_mode"] = "most" },
			WantSynced: "spec.forProvider.policyEngineMode (policy_engine_mode): Authentik answered \"most\", which this provider does not know (it knows all, any)\n" +
				"cannot read Authentik's answer to GET /api/v3/core/applications/" + appSlug + "/ (200)",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cr := application()
			env := mrtest.New(t, cr)
			proxyProvider(t, env, providerKind)
			env.CheckResponses(env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...), cr, tc)
		})
	}
}

func TestUnreadableCreate(t *testing.T) {
	t.Parallel()
	cr := application()
	env := mrtest.New(t, cr)
	proxyProvider(t, env, providerKind)
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	env.CheckUnreadableCreate(r, cr, "core_applications_create", mrtest.UnreadableCreate("/core/applications/"), func() int {
		l, resp, err := env.Authentik.API.CoreAPI.CoreApplicationsList(context.Background()).SuperuserFullList(true).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			t.Fatal(err)
		}
		return len(l.Results)
	})
}

func TestFieldPathsAreNeeded(t *testing.T) {
	t.Parallel()
	mrtest.CheckNeeded(t, "Application", fieldPathsFor(v1alpha1.ApplicationParameters{}))
}
