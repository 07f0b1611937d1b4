//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	api "goauthentik.io/api/v3"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// The Argo CD example OIDCConfig (examples/oidcconfig/argocd.yaml), which
// asks for a groups claim.
const (
	argocdOIDCManifest  = "examples/oidcconfig/argocd.yaml"
	argocdOIDCNamespace = "argocd"
	argocdOIDCName      = "argocd"
	argocdOIDCProvider  = "argocd/argocd"
	argocdGroupsMapping = "argocd-groups"
	argocdGroupsName    = "argocd/argocd: groups claim"
)

// scopeMappingsNamed lists Authentik's scope mappings named name.
func (e *env) scopeMappingsNamed(t *testing.T, name string) []api.ScopeMapping {
	t.Helper()
	l, resp, err := e.ak.API.PropertymappingsAPI.PropertymappingsProviderScopeList(context.Background()).Name(name).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return l.Results
}

// oauth2ProviderNamed is Authentik's OAuth2 provider named name.
func (e *env) oauth2ProviderNamed(t *testing.T, name string) api.OAuth2Provider {
	t.Helper()
	l, resp, err := e.ak.API.ProvidersAPI.ProvidersOauth2List(context.Background()).Name(name).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	if len(l.Results) != 1 {
		t.Fatalf("Authentik has %d OAuth2 providers named %q, want 1", len(l.Results), name)
	}
	return l.Results[0]
}

// TestOIDCConfigGroupsClaim: the Argo CD example's groupsClaim makes a
// groups scope mapping in Authentik, offered by its OAuth2 provider beside
// the default scopes, and the OIDCConfig becomes Ready; deleting the
// OIDCConfig deletes the mapping.
func TestOIDCConfigGroupsClaim(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.ensureNamespace(t, argocdOIDCNamespace)
	e.mustKubectl(t, "", "apply", "-f", filepath.Join(e.root, argocdOIDCManifest))
	deleted := false
	t.Cleanup(func() {
		if !deleted {
			_, _ = e.kubectl("", "delete", "oidcconfig", argocdOIDCName, "-n", argocdOIDCNamespace, "--timeout=120s")
		}
	})
	start := time.Now()
	waitUntil(t, "OIDCConfig "+argocdOIDCName+" Ready", oidcConfigReady, func() (bool, string) {
		o := e.oidcConfig(t, argocdOIDCNamespace, argocdOIDCName)
		return o.Ready == "True", fmt.Sprintf("%+v", o)
	})
	t.Logf("OIDCConfig %s/%s Ready after %s", argocdOIDCNamespace, argocdOIDCName, time.Since(start).Round(time.Second))

	ms := e.scopeMappingsNamed(t, argocdGroupsName)
	if len(ms) != 1 {
		t.Fatalf("Authentik has %d scope mappings named %q, want 1", len(ms), argocdGroupsName)
	}
	m := ms[0]
	if m.ScopeName != "groups" || !strings.Contains(m.Expression, `"groups"`) {
		t.Errorf("the groups claim's mapping has scope %q and an expression that names no groups claim", m.ScopeName)
	}
	en := strings.TrimSpace(e.mustKubectl(t, "", "get", "scopemapping", argocdGroupsMapping, "-n", argocdOIDCNamespace, "-o", "jsonpath={.metadata.annotations.crossplane\\.io/external-name}"))
	if en != m.Pk {
		t.Errorf("ScopeMapping %s/%s names %q, Authentik's mapping is %s", argocdOIDCNamespace, argocdGroupsMapping, en, m.Pk)
	}

	p := e.oauth2ProviderNamed(t, argocdOIDCProvider)
	if !slices.Contains(p.PropertyMappings, m.Pk) {
		t.Errorf("Authentik's OAuth2 provider %q offers %v, not the groups claim's mapping %s", p.Name, p.PropertyMappings, m.Pk)
	}
	o := e.oidcConfig(t, argocdOIDCNamespace, argocdOIDCName)
	if o.ProviderPK != p.Pk || o.Access != "open to every user" {
		t.Errorf("OIDCConfig status %+v, want provider %d open to every user", o, p.Pk)
	}
	t.Logf("provider %q (pk %d) offers %d scope mappings, the groups claim's %s among them", p.Name, p.Pk, len(p.PropertyMappings), m.Pk)

	e.mustKubectl(t, "", "delete", "oidcconfig", argocdOIDCName, "-n", argocdOIDCNamespace, "--timeout=120s")
	deleted = true
	eventually(t, "groups claim's mapping deleted in Authentik", func() (bool, string) {
		n := len(e.scopeMappingsNamed(t, argocdGroupsName))
		return n == 0, fmt.Sprintf("%d mappings named %q", n, argocdGroupsName)
	})
}

// TestExampleScopeMappingOffered: the example OAuth2Provider offers the
// example ScopeMapping by reference (examples/oauth2provider.yaml,
// examples/scopemapping.yaml).
func TestExampleScopeMappingOffered(t *testing.T) {
	e := setup(t)
	en := strings.TrimSpace(e.mustKubectl(t, "", "get", "scopemapping", "groups", "-n", exampleNamespace, "-o", "jsonpath={.metadata.annotations.crossplane\\.io/external-name}"))
	if en == "" {
		t.Fatal("the example ScopeMapping has no external name")
	}
	p := e.oauth2ProviderNamed(t, "grafana-oidc-example")
	if !slices.Contains(p.PropertyMappings, en) {
		t.Errorf("the example OAuth2 provider offers %v, not the example scope mapping %s", p.PropertyMappings, en)
	}
	ids := strings.TrimSpace(e.mustKubectl(t, "", "get", "oauth2provider", "grafana", "-n", exampleNamespace, "-o", "jsonpath={.spec.forProvider.scopeMappingIds}"))
	if !strings.Contains(ids, en) {
		t.Errorf("spec.forProvider.scopeMappingIds = %s, want it to hold %s", ids, en)
	}
}
