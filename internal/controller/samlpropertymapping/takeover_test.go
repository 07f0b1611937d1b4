package samlpropertymapping

import (
	"testing"

	api "goauthentik.io/api/v3"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

var fixture = mrtest.Fixture{
	Kind:    Kind,
	Options: func(e *mrtest.Env) []managed.ReconcilerOption { return ReconcilerOptions(e.Kube, e.Connector) },
	Resource: func(adopt bool) resource.Managed {
		return mapping(func(cr *v1alpha1.SAMLPropertyMapping) { cr.Spec.AdoptExisting = adopt })
	},
	Path:     "/propertymappings/provider/saml/",
	CreateOp: "propertymappings_provider_saml_create",
	Existing: func(t *testing.T, e *mrtest.Env) string {
		return authentikMapping(t, e, *api.NewSAMLPropertyMappingRequest(mappingName, "return []", "memberOf"))
	},
	Count: func(t *testing.T, e *mrtest.Env) int { return len(mappingsNamed(t, e, mappingName)) },
}

func TestNoTakeover(t *testing.T) {
	t.Parallel()
	fixture.RunTakeover(t)
}
