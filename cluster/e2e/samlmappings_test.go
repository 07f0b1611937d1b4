//go:build e2e

package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// TestExampleSAMLPropertyMappingUsed: the example SAMLProvider sends the
// example SAMLPropertyMapping by reference (examples/samlprovider.yaml,
// examples/samlpropertymapping.yaml), and the mapping in Authentik is the
// one the resource made.
func TestExampleSAMLPropertyMappingUsed(t *testing.T) {
	e := setup(t)
	en := strings.TrimSpace(e.mustKubectl(t, "", "get", "samlpropertymapping", "nextcloud-groups", "-n", exampleNamespace, "-o", "jsonpath={.metadata.annotations.crossplane\\.io/external-name}"))
	if en == "" {
		t.Fatal("the example SAMLPropertyMapping has no external name")
	}
	ctx := context.Background()
	m, resp, err := e.ak.API.PropertymappingsAPI.PropertymappingsProviderSamlRetrieve(ctx, en).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatalf("the example SAML property mapping %s in Authentik: %v", en, err)
	}
	if m.Name != "example: SAML groups" || m.SamlName != "http://schemas.xmlsoap.org/claims/Group" {
		t.Errorf("the example SAML property mapping is %q for %q", m.Name, m.SamlName)
	}
	l, resp, err := e.ak.API.ProvidersAPI.ProvidersSamlList(ctx).Name("nextcloud-saml-example").Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	if len(l.Results) != 1 {
		t.Fatalf("Authentik has %d SAML providers named nextcloud-saml-example, want 1", len(l.Results))
	}
	if got := l.Results[0].PropertyMappings; !slices.Contains(got, en) {
		t.Errorf("the example SAML provider sends %v, not the example mapping %s", got, en)
	}
	ids := strings.TrimSpace(e.mustKubectl(t, "", "get", "samlprovider", "nextcloud", "-n", exampleNamespace, "-o", "jsonpath={.spec.forProvider.propertyMappingIds}"))
	if !strings.Contains(ids, en) {
		t.Errorf("spec.forProvider.propertyMappingIds = %s, want it to hold %s", ids, en)
	}
}
