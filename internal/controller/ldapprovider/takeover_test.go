package ldapprovider

import (
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

var fixture = mrtest.Fixture{
	Kind:    Kind,
	Options: mrtest.OptionsOf(ReconcilerOptions),
	Resource: func(adopt bool) resource.Managed {
		return ldapProvider(func(cr *v1alpha1.LDAPProvider) { cr.Spec.AdoptExisting = adopt })
	},
	Path:     "/providers/ldap/",
	CreateOp: "providers_ldap_create",
	Existing: func(t *testing.T, e *mrtest.Env) string { return authentikProvider(t, e, providerName, "DC=theirs") },
	Count:    func(t *testing.T, e *mrtest.Env) int { return len(providersNamed(t, e, providerName)) },
	Other: func(t *testing.T, e *mrtest.Env) (string, string) {
		path, named := e.OtherProxyProvider(t, providerName, "https://nas.example.com")
		return path, named + " " + errOtherType
	},
}

func TestNoTakeover(t *testing.T) {
	t.Parallel()
	fixture.RunTakeover(t)
}

// TestOtherTypeIsRefused: a proxy provider with the spec's name is never
// managed, with consent or without: the resource names it as the obstacle
// and Authentik accepts no write. (The LDAP list does not show it, so the
// create is sent and refused on the name, which provider names of every
// type share.)
func TestOtherTypeIsRefused(t *testing.T) {
	t.Parallel()
	fixture.RunOtherType(t)
}
