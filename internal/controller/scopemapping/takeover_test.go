package scopemapping

import (
	"testing"

	api "goauthentik.io/api/v3"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

var fixture = mrtest.Fixture{
	Kind:    Kind,
	Options: mrtest.OptionsOf(ReconcilerOptions),
	Resource: func(adopt bool) resource.Managed {
		return mapping(func(cr *v1alpha1.ScopeMapping) { cr.Spec.AdoptExisting = adopt })
	},
	Path:     "/propertymappings/provider/scope/",
	CreateOp: "propertymappings_provider_scope_create",
	Existing: func(t *testing.T, e *mrtest.Env) string {
		return authentikMapping(t, e, *api.NewScopeMappingRequest(mappingName, "return {}", "roles"))
	},
	Count: func(t *testing.T, e *mrtest.Env) int { return len(mappingsNamed(t, e, mappingName)) },
}

func TestNoTakeover(t *testing.T) {
	t.Parallel()
	fixture.RunTakeover(t)
}
