package samlprovider

import (
	"strconv"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

func options(e *mrtest.Env) []managed.ReconcilerOption { return ReconcilerOptions(e.Kube, e.Connector) }

func resourceAdopting(_ *mrtest.Env, adopt bool) resource.Managed {
	return samlProvider(func(cr *v1alpha1.SAMLProvider) { cr.Spec.AdoptExisting = adopt })
}

func countNamed(t *testing.T, e *mrtest.Env) int { return len(providersNamed(t, e, providerName)) }

var fixture = mrtest.Fixture{
	Kind:     Kind,
	Options:  options,
	Resource: func(adopt bool) resource.Managed { return resourceAdopting(nil, adopt) },
	Path:     "/providers/saml/",
	CreateOp: "providers_saml_create",
	Existing: func(t *testing.T, e *mrtest.Env) string {
		return strconv.Itoa(int(existingProvider(t, e, samlProvider(func(cr *v1alpha1.SAMLProvider) { cr.Spec.ForProvider.ACSURL = ptr.To(theirACS) }))))
	},
	Count: countNamed,
	Other: func(t *testing.T, e *mrtest.Env) (string, string) {
		path, named := e.OtherProxyProvider(t, providerName, "https://wiki.example.com")
		return path, named + " " + errOtherType
	},
}

func TestNoTakeover(t *testing.T) {
	t.Parallel()
	fixture.RunTakeover(t)
}

// TestOtherTypeIsRefused: a proxy provider with the spec's name is never
// taken over, not even with consent, and is left unchanged; the resource
// names it.
func TestOtherTypeIsRefused(t *testing.T) {
	t.Parallel()
	fixture.RunOtherType(t)
}

// The operations whose responses the SAMLProvider controller reads.
var readOps = []string{"providers_saml_create", "providers_saml_retrieve", "providers_saml_list"}

// TestResponses: keys a newer Authentik adds or an older one lacks are
// tolerated unless the provider compares them.
func TestResponses(t *testing.T) {
	t.Parallel()
	cases := map[string]mrtest.ResponseCase{
		"UnknownKey": {
			Reason:     "Keys a newer Authentik adds are ignored.",
			Operations: readOps,
			Edit:       func(o map[string]any) { o["sls_verification_kp"] = nil },
		},
		"MissingUnneededKey": {
			Reason:     "Required keys the provider does not use may be missing, as releases before 2026.5 leave out the unified URLs.",
			Operations: readOps,
			Edit: func(o map[string]any) {
				for _, k := range []string{"url_issuer", "url_unified", "url_unified_init", "url_sso_post", "component", "verbose_name"} {
					delete(o, k)
				}
			},
		},
		"MissingNeededKey": {
			Reason:     "A key the provider compares may not be missing.",
			Operations: []string{"providers_saml_retrieve", "providers_saml_list"},
			Edit:       func(o map[string]any) { delete(o, "acs_url") },
			WantSynced: "spec.forProvider.acsUrl (acs_url): Authentik's answer lacks it\n" +
				"cannot read Authentik's answer to GET /api/v3/providers/saml/",
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
	mrtest.CheckNeeded(t, "SAMLProvider", fieldPaths)
}
