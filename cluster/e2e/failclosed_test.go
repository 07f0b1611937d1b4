//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	api "goauthentik.io/api/v3"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// xrStatusLag bounds how long a composite's status may trail what its
// composed resources report: Crossplane drops the events of an XR whose
// circuit breaker is open until its cool-down ends.
const xrStatusLag = 2*time.Minute + 30*time.Second

// Fixture users for the simulator's access decision: one member of the
// ProxyConfig's group and one member of no group at all.
const (
	memberUser   = "e2e-member"
	outsiderUser = "e2e-outsider"
)

// exposure is one record of the simulator's invariant check: after some
// accepted write an outpost served the provider while its application
// admitted the user.
type exposure struct {
	ProviderName string `json:"provider_name"`
	User         string `json:"user"`
	FirstWrite   int    `json:"first_write"`
	LastWrite    int    `json:"last_write"`
	Writes       int    `json:"writes"`
}

// sim calls one of the simulator's control endpoints.
func sim(t *testing.T, method, path, body string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, os.Getenv("E2E_SIM_URL")+"/_sim/"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode >= 300 {
		t.Fatalf("%s /_sim/%s: %d %s", method, path, resp.StatusCode, b)
	}
	return b
}

func setUser(t *testing.T, name string, groups ...string) {
	t.Helper()
	b, _ := json.Marshal(map[string][]string{"groups": append([]string{}, groups...)})
	sim(t, http.MethodPut, "users/"+url.PathEscape(name), string(b))
}

// exposures asks the simulator whether the provider was ever served while
// the user was admitted.
func exposures(t *testing.T, provider, user string) []exposure {
	t.Helper()
	var out []exposure
	b := sim(t, http.MethodGet, "exposures?provider="+url.QueryEscape(provider)+"&user="+url.QueryEscape(user), "")
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("cannot parse exposures %s: %v", b, err)
	}
	return out
}

// ensureGroup makes the group in Authentik unless it exists; it returns its uuid.
func (e *env) ensureGroup(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	l, resp, err := e.ak.API.CoreAPI.CoreGroupsList(ctx).Name(name).IncludeUsers(false).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	for _, g := range l.Results {
		if g.Name == name {
			return g.Pk
		}
	}
	g, resp, err := e.ak.API.CoreAPI.CoreGroupsCreate(ctx).GroupRequest(*api.NewGroupRequest(name)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return g.Pk
}

func (e *env) deleteGroup(t *testing.T, id string) {
	t.Helper()
	resp, err := e.ak.API.CoreAPI.CoreGroupsDestroy(context.Background(), id).Execute()
	if err := authentik.Classify(resp, err); err != nil && !authentik.IsNotFound(err) {
		t.Fatal(err)
	}
}

// servedBy lists the outposts whose provider list holds the provider.
func (e *env) servedBy(t *testing.T, pk int32) []string {
	t.Helper()
	l, resp, err := e.ak.API.OutpostsAPI.OutpostsInstancesList(context.Background()).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range l.Results {
		if slices.Contains(o.Providers, pk) {
			out = append(out, o.Name)
		}
	}
	return out
}

// access is what a ProxyConfig says about who can get in.
type access struct {
	Ready, ReadyMessage  string
	Access, AccessReason string
	ProviderPK           int32
	Slug                 string
}

func (e *env) access(t *testing.T, ns, name string) access {
	t.Helper()
	var pc struct {
		Status struct {
			Access       string `json:"access"`
			AccessReason string `json:"accessReason"`
			ProviderPK   int32  `json:"providerPk"`
			Slug         string `json:"applicationSlug"`
			Conditions   []struct {
				Type, Status, Message string
			} `json:"conditions"`
		} `json:"status"`
	}
	out := e.mustKubectl(t, "", "get", "proxyconfig", name, "-n", ns, "-o", "json")
	if err := json.Unmarshal([]byte(out), &pc); err != nil {
		t.Fatalf("cannot parse ProxyConfig %s/%s: %v", ns, name, err)
	}
	a := access{Access: pc.Status.Access, AccessReason: pc.Status.AccessReason, ProviderPK: pc.Status.ProviderPK, Slug: pc.Status.Slug}
	for _, c := range pc.Status.Conditions {
		if c.Type == "Ready" {
			a.Ready, a.ReadyMessage = c.Status, c.Message
		}
	}
	return a
}

// applyProxyConfig applies a ProxyConfig in its own namespace and deletes both
// when the test ends.
func (e *env) applyProxyConfig(t *testing.T, ns, name, authentikConfig string) {
	t.Helper()
	e.ensureNamespace(t, ns)
	e.mustKubectl(t, fmt.Sprintf(`apiVersion: gitops.io/v1
kind: ProxyConfig
metadata: {name: %s, namespace: %s}
spec:
  externalHost: %s-%s.e2e.example.com
  authentikConfig:
    mode: forward_single
%s`, name, ns, name, ns, authentikConfig), "apply", "-f", "-")
	t.Cleanup(func() {
		_, _ = e.kubectl("", "delete", "proxyconfig", name, "-n", ns, "--timeout=120s")
		_, _ = e.kubectl("", "delete", "namespace", ns, "--wait=false")
	})
}

func (e *env) waitProxyConfigReady(t *testing.T, ns, name string) time.Duration {
	t.Helper()
	start := time.Now()
	waitUntil(t, "ProxyConfig "+ns+"/"+name+" Ready", proxyConfigReady, func() (bool, string) {
		a := e.access(t, ns, name)
		return a.Ready == "True", fmt.Sprintf("%+v", a)
	})
	return time.Since(start).Round(time.Second)
}

// TestProxyConfigNeverServedOpen: a ProxyConfig restricted to storage-admins
// becomes Ready, and the simulator, which evaluated Authentik's access
// decision after every write it accepted, never saw its provider on an
// outpost while a user outside storage-admins would have been let in.
func TestProxyConfigNeverServedOpen(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const ns, name, provider = "failclosed-restricted", "vault", "e2e-failclosed-vault"
	e.ensureGroup(t, "storage-admins")
	setUser(t, memberUser, "storage-admins")
	setUser(t, outsiderUser)

	e.applyProxyConfig(t, ns, name, "    providerName: "+provider+"\n    allowedGroups: [storage-admins]\n")
	t.Logf("ProxyConfig Ready after %s", e.waitProxyConfigReady(t, ns, name))

	outsiders, members := exposures(t, provider, outsiderUser), exposures(t, provider, memberUser)
	t.Logf("exposures of %s: to %s %+v; to %s %+v", provider, outsiderUser, outsiders, memberUser, members)
	if len(outsiders) != 0 {
		t.Errorf("provider %s was served while %s, who is not in storage-admins, was admitted: %+v", provider, outsiderUser, outsiders)
	}
	if len(members) == 0 {
		t.Errorf("the simulator never recorded provider %s served to %s of storage-admins: the check above saw nothing", provider, memberUser)
	}
	a := e.access(t, ns, name)
	if a.Access != "restricted to storage-admins" {
		t.Errorf("status.access = %q, want %q", a.Access, "restricted to storage-admins")
	}
	if got := e.servedBy(t, a.ProviderPK); len(got) != 1 {
		t.Errorf("provider %d is served by %v, want the embedded outpost", a.ProviderPK, got)
	}
}

// TestProxyConfigGroupMissingThenDeleted: a ProxyConfig naming a group that
// does not exist is not served and says why, its Ready condition naming the
// group; creating the group serves it with no other change; deleting the
// group later takes it off the outpost within a poll, and re-creating it puts
// it back.
func TestProxyConfigGroupMissingThenDeleted(t *testing.T) {
	t.Parallel()
	e := setup(t)
	// Upper case and spaces: a Kubernetes name could not hold the group as written.
	const ns, name, provider, group = "failclosed-late", "ledger", "e2e-failclosed-ledger", "E2E Ledger Clerks"
	setUser(t, outsiderUser)

	e.applyProxyConfig(t, ns, name, "    providerName: "+provider+"\n    allowedGroups: ["+group+"]\n")
	// Crossplane's Ready message names at most three unready resources; the
	// access policy and its binding are among them until they are Ready.
	waitUntil(t, "the ProxyConfig says the group is missing", proxyConfigReady, func() (bool, string) {
		a := e.access(t, ns, name)
		return a.Access == "not served" && strings.Contains(a.AccessReason, `no Authentik group is named "`+group+`"`) && strings.Contains(a.ReadyMessage, group), fmt.Sprintf("%+v", a)
	})
	// Crossplane's Ready message names the unready composed resources; a
	// PolicyBinding's is named after its group.
	a := e.access(t, ns, name)
	t.Logf("missing group: Ready=%s %q; access %q: %q", a.Ready, a.ReadyMessage, a.Access, a.AccessReason)
	if a.Ready != "False" || !strings.Contains(a.ReadyMessage, group) {
		t.Errorf("ProxyConfig %s/%s: Ready=%s %q, want False with a message naming the group %s", ns, name, a.Ready, a.ReadyMessage, group)
	}
	ps := e.providerByName(t, provider)
	if len(ps) != 1 {
		t.Fatalf("Authentik has %d providers named %s, want 1", len(ps), provider)
	}
	if got := e.servedBy(t, ps[0].Pk); len(got) != 0 {
		t.Errorf("provider %s is served by %v while its group does not exist", provider, got)
	}

	id := e.ensureGroup(t, group)
	t.Cleanup(func() { e.deleteGroup(t, id) })
	t.Logf("ProxyConfig Ready %s after the group was created", e.waitProxyConfigReady(t, ns, name))
	if got := e.servedBy(t, ps[0].Pk); len(got) != 1 {
		t.Errorf("provider %s is served by %v once its group exists, want the embedded outpost", provider, got)
	}
	if got := exposures(t, provider, outsiderUser); len(got) != 0 {
		t.Errorf("provider %s was served open to %s: %+v", provider, outsiderUser, got)
	}

	e.deleteGroup(t, id)
	start := time.Now()
	// One poll of the OutpostBinding (with jitter) and its update, whatever
	// Crossplane's circuit breaker does with the composite's events; the
	// check itself looks every 2 s.
	waitUntil(t, "the provider off every outpost within one poll after its group was deleted", 2*poll, func() (bool, string) {
		got := e.servedBy(t, ps[0].Pk)
		return len(got) == 0, fmt.Sprintf("served by %v", got)
	})
	off := time.Since(start).Round(100 * time.Millisecond)
	// Which layer got there first: the OutpostBinding withholding the
	// provider (still there, with its reason) or the Composition deleting it.
	obs, _ := e.kubectl("", "get", "outpostbinding.authentik.m.crossplane.io", "-n", ns, "-o",
		`jsonpath={range .items[*]}{.metadata.name}: deleting={.metadata.deletionTimestamp} notServedReason={.status.atProvider.notServedReason}{"\n"}{end}`)
	t.Logf("outpost bindings %s after the provider left the outpost: %q", ns, obs)
	// Its status follows at the composite's next reconcile, which
	// Crossplane's XR circuit breaker (default burst and cool-down) may
	// hold back for a minute after a burst of events.
	waitUntil(t, "the ProxyConfig says why it is not served", xrStatusLag, func() (bool, string) {
		a := e.access(t, ns, name)
		return a.Access == "not served" && strings.Contains(a.AccessReason, group) &&
			a.Ready == "False" && strings.Contains(a.ReadyMessage, group), fmt.Sprintf("%+v", a)
	})
	table := e.mustKubectl(t, "", "get", "proxyconfig", "-A")
	t.Logf("provider off the outpost %s after its group was deleted (provider poll 5s); exposures to %s meanwhile: %+v\nkubectl get proxyconfig -A:\n%s",
		off, outsiderUser, exposures(t, provider, outsiderUser), table)
	if !strings.Contains(table, "ACCESS") || !strings.Contains(lineOf(table, name), "not served") {
		t.Errorf("kubectl get proxyconfig -A does not show %s as not served:\n%s", name, table)
	}

	id = e.ensureGroup(t, group)
	t.Cleanup(func() { e.deleteGroup(t, id) })
	t.Logf("ProxyConfig Ready %s after the group was re-created", e.waitProxyConfigReady(t, ns, name))
	if got := e.servedBy(t, ps[0].Pk); len(got) != 1 {
		t.Errorf("provider %s is served by %v after its group came back, want the embedded outpost", provider, got)
	}
	t.Logf("kubectl get proxyconfig -A:\n%s", e.mustKubectl(t, "", "get", "proxyconfig", "-A"))
}

func lineOf(table, name string) string {
	for _, l := range strings.Split(table, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[1] == name {
			return l
		}
	}
	return ""
}

// TestProxyConfigSameNameTwoNamespaces: two teams' ProxyConfigs named grafana,
// without explicit names, get distinct Authentik objects; neither adopts the
// other's.
func TestProxyConfigSameNameTwoNamespaces(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, ns := range []string{"team-a", "team-b"} {
		e.applyProxyConfig(t, ns, "grafana", "")
	}
	got := map[string]access{}
	for _, ns := range []string{"team-a", "team-b"} {
		e.waitProxyConfigReady(t, ns, "grafana")
		got[ns] = e.access(t, ns, "grafana")
	}
	a, b := got["team-a"], got["team-b"]
	t.Logf("team-a: provider %d slug %s access %q; team-b: provider %d slug %s access %q", a.ProviderPK, a.Slug, a.Access, b.ProviderPK, b.Slug, b.Access)
	if a.ProviderPK == b.ProviderPK || a.Slug == b.Slug {
		t.Errorf("the two ProxyConfigs share Authentik objects: %+v and %+v", a, b)
	}
	for ns, want := range map[string]string{"team-a": "team-a/grafana", "team-b": "team-b/grafana"} {
		if ps := e.providerByName(t, want); len(ps) != 1 || ps[0].Pk != got[ns].ProviderPK {
			t.Errorf("provider %s: %d in Authentik, want the one of %s's ProxyConfig (pk %d)", want, len(ps), ns, got[ns].ProviderPK)
		}
	}
}

// TestApplicationRefusesTakenSlug: an Application named after an existing
// application's slug, without consent, is not Synced and leaves the
// existing application byte-identical, also when it is deleted.
func TestApplicationRefusesTakenSlug(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const ns, slug = "failclosed-takeover", "e2e-someone-elses"
	req := api.NewApplicationRequest("Someone else's", slug)
	req.SetMetaDescription("made by hand in Authentik")
	if _, resp, err := e.ak.API.CoreAPI.CoreApplicationsCreate(context.Background()).ApplicationRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
		t.Fatal(authentik.Classify(resp, err))
	}
	t.Cleanup(func() { _, _ = e.ak.API.CoreAPI.CoreApplicationsDestroy(context.Background(), slug).Execute() })
	before := e.rawApplication(t, slug)

	e.ensureNamespace(t, ns)
	t.Cleanup(func() { _, _ = e.kubectl("", "delete", "namespace", ns, "--wait=false") })
	e.mustKubectl(t, `apiVersion: authentik.m.crossplane.io/v1alpha1
kind: Application
metadata: {name: mine, namespace: `+ns+`}
spec:
  forProvider: {name: Mine, slug: `+slug+`}
  providerConfigRef: {kind: ClusterProviderConfig, name: default}
`, "apply", "-f", "-")
	waitUntil(t, "Application mine Synced=False", time.Minute, func() (bool, string) {
		out, _ := e.kubectl("", "get", "application.authentik.m.crossplane.io", "mine", "-n", ns, "-o", `jsonpath={.status.conditions[?(@.type=="Synced")].status} {.status.conditions[?(@.type=="Synced")].message}`)
		return strings.HasPrefix(out, "False ") && strings.Contains(out, "already exists in Authentik and this resource did not create it"), out
	})
	out, _ := e.kubectl("", "get", "application.authentik.m.crossplane.io", "mine", "-n", ns, "-o", `jsonpath={.status.conditions[?(@.type=="Synced")].message}`)
	t.Logf("Synced=False: %s", out)
	e.mustKubectl(t, "", "delete", "application.authentik.m.crossplane.io", "mine", "-n", ns, "--timeout=60s")
	if after := e.rawApplication(t, slug); after != before {
		t.Errorf("the existing application changed:\nbefore %s\nafter  %s", before, after)
	}
}

// rawApplication is the simulator's answer for an application, byte for byte.
func (e *env) rawApplication(t *testing.T, slug string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, os.Getenv("E2E_SIM_URL")+"/api/v3/core/applications/"+slug+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+os.Getenv("E2E_TOKEN"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET application %s: %d %s %v", slug, resp.StatusCode, b, err)
	}
	return string(b)
}
