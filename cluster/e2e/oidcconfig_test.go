//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// The Grafana example OIDCConfig (examples/oidcconfig/grafana.yaml).
const (
	grafanaOIDCManifest  = "examples/oidcconfig/grafana.yaml"
	grafanaOIDCNamespace = "monitoring"
	grafanaOIDCName      = "grafana"
	grafanaOIDCProvider  = "grafana-oidc"
	grafanaOIDCSlug      = "grafana-oidc"
	grafanaOIDCSecret    = "grafana-oidc"
	grafanaOIDCGroup     = "platform"
	oidcConfigReady      = 4 * time.Minute
	// Fixture users of the OIDCConfig tests only, so that they may run in
	// parallel with the ProxyConfig tests, which set theirs.
	oidcMember   = "e2e-oidc-member"
	oidcOutsider = "e2e-oidc-outsider"
)

// oidcConfig is what an OIDCConfig says about itself.
type oidcConfig struct {
	Ready, ReadyMessage  string
	Access, AccessReason string
	ProviderPK           int32
	ClientID, Issuer     string
	Slug                 string
}

func (e *env) oidcConfig(t *testing.T, ns, name string) oidcConfig {
	t.Helper()
	var xr struct {
		Status struct {
			Access       string `json:"access"`
			AccessReason string `json:"accessReason"`
			ProviderPK   int32  `json:"providerPk"`
			ClientID     string `json:"clientId"`
			Issuer       string `json:"issuer"`
			Slug         string `json:"applicationSlug"`
			Conditions   []struct {
				Type, Status, Message string
			} `json:"conditions"`
		} `json:"status"`
	}
	out := e.mustKubectl(t, "", "get", "oidcconfig", name, "-n", ns, "-o", "json")
	if err := json.Unmarshal([]byte(out), &xr); err != nil {
		t.Fatalf("cannot parse OIDCConfig %s/%s: %v", ns, name, err)
	}
	s := xr.Status
	o := oidcConfig{Access: s.Access, AccessReason: s.AccessReason, ProviderPK: s.ProviderPK, ClientID: s.ClientID, Issuer: s.Issuer, Slug: s.Slug}
	for _, c := range s.Conditions {
		if c.Type == "Ready" {
			o.Ready, o.ReadyMessage = c.Status, c.Message
		}
	}
	return o
}

// secretData reads a Secret's data, decoded.
func (e *env) secretData(t *testing.T, ns, name string) map[string]string {
	t.Helper()
	var s struct {
		Data map[string]string `json:"data"`
	}
	out := e.mustKubectl(t, "", "get", "secret", name, "-n", ns, "-o", "json")
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("cannot parse Secret %s/%s: %v", ns, name, err)
	}
	data := map[string]string{}
	for k, v := range s.Data {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			t.Fatalf("Secret %s/%s key %s: %v", ns, name, k, err)
		}
		data[k] = string(b)
	}
	return data
}

// ourObjects is `kubectl get -A -o yaml` of every kind this project defines:
// the managed resources, the provider configurations and their usages, and
// both XRs. Secrets are not among them.
func (e *env) ourObjects(t *testing.T) string {
	t.Helper()
	kinds := []string{"managed", "providerconfigs.authentik.m.crossplane.io", "clusterproviderconfigs.authentik.m.crossplane.io",
		"providerconfigusages.authentik.m.crossplane.io", "proxyconfigs.gitops.io", "oidcconfigs.gitops.io"}
	var b strings.Builder
	for _, k := range kinds {
		b.WriteString(e.mustKubectl(t, "", "get", k, "-A", "-o", "yaml"))
	}
	return b.String()
}

// TestOIDCConfigGrafana: the example OIDCConfig for Grafana becomes Ready;
// the Secret in its namespace holds the client id, secret and issuer that
// Authentik has for a confidential OAuth2 provider; no user outside the
// allowed group could ever log in; and the client secret is neither in the
// provider's log nor in any object of ours.
func TestOIDCConfigGrafana(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.ensureGroup(t, grafanaOIDCGroup)
	setUser(t, oidcMember, grafanaOIDCGroup)
	setUser(t, oidcOutsider)

	e.ensureNamespace(t, grafanaOIDCNamespace)
	e.mustKubectl(t, "", "apply", "-f", filepath.Join(e.root, grafanaOIDCManifest))
	t.Cleanup(func() {
		_, _ = e.kubectl("", "delete", "oidcconfig", grafanaOIDCName, "-n", grafanaOIDCNamespace, "--timeout=120s")
	})
	start := time.Now()
	waitUntil(t, "OIDCConfig "+grafanaOIDCName+" Ready", oidcConfigReady, func() (bool, string) {
		o := e.oidcConfig(t, grafanaOIDCNamespace, grafanaOIDCName)
		return o.Ready == "True", fmt.Sprintf("%+v", o)
	})
	t.Logf("OIDCConfig %s/%s Ready after %s", grafanaOIDCNamespace, grafanaOIDCName, time.Since(start).Round(time.Second))

	creds := e.secretData(t, grafanaOIDCNamespace, grafanaOIDCSecret)
	wantIssuer := os.Getenv("E2E_SIM_URL") + "/application/o/" + grafanaOIDCSlug + "/"
	for _, k := range []string{"client_id", "client_secret"} {
		if creds[k] == "" {
			t.Fatalf("Secret %s/%s has no %s; keys: %v", grafanaOIDCNamespace, grafanaOIDCSecret, k, keys(creds))
		}
	}
	if creds["issuer"] != wantIssuer {
		t.Errorf("Secret's issuer = %q, want %q", creds["issuer"], wantIssuer)
	}

	l, resp, err := e.ak.API.ProvidersAPI.ProvidersOauth2List(context.Background()).ClientId(creds["client_id"]).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	if len(l.Results) != 1 {
		t.Fatalf("Authentik has %d OAuth2 providers with the Secret's client id, want 1", len(l.Results))
	}
	p := l.Results[0]
	got := map[string]string{
		"name": p.Name, "client_type": string(p.GetClientType()), "client_secret_matches": fmt.Sprint(p.GetClientSecret() == creds["client_secret"]),
		"application": p.GetAssignedApplicationSlug(),
	}
	want := map[string]string{"name": grafanaOIDCProvider, "client_type": "confidential", "client_secret_matches": "true", "application": grafanaOIDCSlug}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("Authentik's OAuth2 provider: %s = %q, want %q", k, got[k], want[k])
		}
	}

	o := e.oidcConfig(t, grafanaOIDCNamespace, grafanaOIDCName)
	if o.ClientID != creds["client_id"] || o.Issuer != wantIssuer || o.ProviderPK != p.Pk || o.Access != "restricted to "+grafanaOIDCGroup {
		t.Errorf("OIDCConfig status %+v, want client id %s, issuer %s, provider %d, restricted to %s", o, creds["client_id"], wantIssuer, p.Pk, grafanaOIDCGroup)
	}

	if ex := exposures(t, grafanaOIDCProvider, oidcOutsider); len(ex) != 0 {
		t.Errorf("the simulator saw the OAuth2 provider usable by a user outside %s: %+v", grafanaOIDCGroup, ex)
	}
	if ex := exposures(t, grafanaOIDCProvider, oidcMember); len(ex) == 0 {
		t.Errorf("the simulator never saw the OAuth2 provider usable by a member of %s: the exposure record cannot be trusted", grafanaOIDCGroup)
	}

	secret := creds["client_secret"]
	forms := []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))}
	log := providerLog(t)
	objects := e.ourObjects(t)
	for _, f := range forms {
		if strings.Contains(log, f) {
			t.Errorf("the provider's log holds the client secret")
		}
		if strings.Contains(objects, f) {
			t.Errorf("an object of ours (kubectl get -A -o yaml) holds the client secret")
		}
	}
	t.Logf("client secret (%d characters) found in neither the provider's log (%d bytes) nor our objects (%d bytes)", len(secret), len(log), len(objects))
}

// TestOIDCConfigGroupDeleted: an OIDCConfig whose group does not exist yet
// has an application without a provider, so nobody can log in; once the
// group exists the application gets its provider; deleting the group in
// Authentik (which deletes its binding, so the application admits everyone)
// takes the provider off the application within a poll, keeping the
// provider and its credentials; re-creating the group puts it back.
func TestOIDCConfigGroupDeleted(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const ns, name, provider, slug, group, secret = "oidc-failclosed", "wiki", "e2e-oidc-wiki", "e2e-oidc-wiki", "E2E Wiki Editors", "wiki-oidc"
	setUser(t, oidcOutsider)
	e.ensureNamespace(t, ns)
	e.mustKubectl(t, fmt.Sprintf(`apiVersion: gitops.io/v1
kind: OIDCConfig
metadata: {name: %s, namespace: %s}
spec:
  redirectUris: [https://wiki.e2e.example.com/oauth2/callback]
  credentialsSecretName: %s
  authentikConfig:
    providerName: %s
    allowedGroups: [%s]
    application: {slug: %s}
`, name, ns, secret, provider, group, slug), "apply", "-f", "-")
	t.Cleanup(func() {
		_, _ = e.kubectl("", "delete", "oidcconfig", name, "-n", ns, "--timeout=120s")
		_, _ = e.kubectl("", "delete", "namespace", ns, "--wait=false")
	})
	providerOf := func() string {
		a := e.application(t, slug)
		if a == nil {
			return "no application"
		}
		if p := a.Provider.Get(); p != nil {
			return fmt.Sprint(*p)
		}
		return "none"
	}

	waitUntil(t, "the OIDCConfig says the group is missing", oidcConfigReady, func() (bool, string) {
		o := e.oidcConfig(t, ns, name)
		return o.Access == "not served" && strings.Contains(o.AccessReason, `no Authentik group is named "`+group+`"`) && strings.Contains(o.ReadyMessage, group) && providerOf() == "none", fmt.Sprintf("%+v; application's provider: %s", o, providerOf())
	})
	o := e.oidcConfig(t, ns, name)
	t.Logf("missing group: Ready=%s %q; access %q: %q; application's provider: %s", o.Ready, o.ReadyMessage, o.Access, o.AccessReason, providerOf())
	if o.Ready != "False" || !strings.Contains(o.ReadyMessage, group) {
		t.Errorf("OIDCConfig %s/%s: Ready=%s %q, want False with a message naming the group %s", ns, name, o.Ready, o.ReadyMessage, group)
	}

	id := e.ensureGroup(t, group)
	t.Cleanup(func() { e.deleteGroup(t, id) })
	waitUntil(t, "OIDCConfig Ready once its group exists", oidcConfigReady, func() (bool, string) {
		o := e.oidcConfig(t, ns, name)
		return o.Ready == "True", fmt.Sprintf("%+v", o)
	})
	o = e.oidcConfig(t, ns, name)
	if got := providerOf(); got != fmt.Sprint(o.ProviderPK) {
		t.Errorf("application %s has provider %s once its group exists, want %d", slug, got, o.ProviderPK)
	}
	if got := exposures(t, provider, oidcOutsider); len(got) != 0 {
		t.Errorf("provider %s was usable by %s before the group was deleted: %+v", provider, oidcOutsider, got)
	}
	creds := e.secretData(t, ns, secret)

	e.deleteGroup(t, id)
	start := time.Now()
	waitUntil(t, "the provider off the application after its group was deleted", time.Minute, func() (bool, string) {
		got := providerOf()
		return got == "none", "application's provider: " + got
	})
	off := time.Since(start).Round(100 * time.Millisecond)
	// Its status follows at the composite's next reconcile, which
	// Crossplane's XR circuit breaker (default burst and cool-down) may
	// hold back for a minute after a burst of events.
	waitUntil(t, "the OIDCConfig says why it is not served", xrStatusLag, func() (bool, string) {
		o := e.oidcConfig(t, ns, name)
		return o.Access == "not served" && strings.Contains(o.AccessReason, group) && o.Ready == "False", fmt.Sprintf("%+v", o)
	})
	t.Logf("provider off the application %s after its group was deleted (provider poll 5s); exposures to %s meanwhile: %+v\nkubectl get oidcconfig -A:\n%s",
		off, oidcOutsider, exposures(t, provider, oidcOutsider), e.mustKubectl(t, "", "get", "oidcconfig", "-A"))
	if got := e.secretData(t, ns, secret); got["client_id"] != creds["client_id"] || got["client_secret"] != creds["client_secret"] {
		t.Errorf("the credentials changed while the provider was out of service")
	}

	id = e.ensureGroup(t, group)
	t.Cleanup(func() { e.deleteGroup(t, id) })
	waitUntil(t, "OIDCConfig Ready after the group was re-created", oidcConfigReady, func() (bool, string) {
		o := e.oidcConfig(t, ns, name)
		return o.Ready == "True" && providerOf() == fmt.Sprint(o.ProviderPK), fmt.Sprintf("%+v; application's provider: %s", o, providerOf())
	})
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
