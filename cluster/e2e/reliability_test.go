//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	api "goauthentik.io/api/v3"

	"github.com/gitops-lifecycle/provider-authentik/cluster/e2e/claims"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// proxyConfigsReady reports how many of the ProxyConfigs in ns are Ready.
func (e *env) proxyConfigsReady(ns string) (int, string) {
	out, err := e.kubectl("", "get", "proxyconfig", "-n", ns, "-o", `jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}`)
	if err != nil {
		return 0, out
	}
	return strings.Count(out, "=True"), out
}

func (e *env) newGroup(t *testing.T, name string) string {
	t.Helper()
	g, resp, err := e.ak.API.CoreAPI.CoreGroupsCreate(context.Background()).GroupRequest(*api.NewGroupRequest(name)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = e.ak.API.CoreAPI.CoreGroupsDestroy(context.Background(), g.Pk).Execute() })
	return g.Pk
}

// TestNamespaceDeletion deletes a namespace holding ProxyConfigs and a plain
// managed resource, as a Flux prune does: everything they made leaves
// Authentik and the namespace goes away.
func TestNamespaceDeletion(t *testing.T) {
	e := setup(t)
	const ns = "e2e-nsdel"
	names := []string{"e2e-nsdel-a", "e2e-nsdel-b", "e2e-nsdel-c"}
	const plain = "e2e-nsdel-plain"
	e.newGroup(t, "e2e-nsdel-admins")
	before := e.embeddedOutpost(t).Providers

	e.ensureNamespace(t, ns)
	t.Cleanup(func() { _, _ = e.kubectl("", "delete", "namespace", ns, "--ignore-not-found", "--wait=false") })
	docs := []string{claims.ProxyConfig(ns, names[0], "e2e-nsdel-admins"), claims.ProxyConfig(ns, names[1]), claims.ProxyConfig(ns, names[2]), fmt.Sprintf(`apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ProxyProvider
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  forProvider:
    name: %[1]s
    mode: forward_single
    externalHost: https://%[1]s.e2e.example.com
`, plain, ns)}
	e.mustKubectl(t, strings.Join(docs, "---\n"), "apply", "-f", "-")
	waitUntil(t, "three ProxyConfigs Ready", proxyConfigReady, func() (bool, string) {
		n, out := e.proxyConfigsReady(ns)
		return n == len(names), out
	})
	e.mustKubectl(t, "", "wait", "--for=condition=Ready", "proxyprovider/"+plain, "-n", ns, "--timeout=60s")

	var pks []int32
	for _, n := range append(slices.Clone(names), plain) {
		ps := e.providerByName(t, n)
		if len(ps) != 1 {
			t.Fatalf("Authentik has %d providers named %s, want 1", len(ps), n)
		}
		pks = append(pks, ps[0].Pk)
	}
	app := e.application(t, names[0])
	if app == nil {
		t.Fatalf("Authentik has no application %s", names[0])
	}
	// The group's binding and the access policy's.
	if n := e.bindingsOf(t, app.Pk); n != 2 {
		t.Fatalf("application %s has %d policy bindings, want 2", names[0], n)
	}

	start := time.Now()
	e.mustKubectl(t, "", "delete", "namespace", ns, "--wait=false")
	waitUntil(t, "namespace "+ns+" gone", 2*time.Minute, func() (bool, string) {
		out, err := e.kubectl("", "get", "namespace", ns, "-o", "jsonpath={.status.phase}")
		if err != nil && strings.Contains(out, "NotFound") {
			return true, ""
		}
		left, _ := e.kubectl("", "get", "managed,proxyconfig", "-n", ns, "-o", "name")
		return false, out + "; left: " + strings.Join(strings.Fields(left), " ")
	})
	t.Logf("namespace gone %s after its deletion", time.Since(start).Round(time.Second))

	var left []string
	for _, n := range append(slices.Clone(names), plain) {
		if len(e.providerByName(t, n)) != 0 {
			left = append(left, "provider "+n)
		}
	}
	for _, n := range names {
		if e.application(t, n) != nil {
			left = append(left, "application "+n)
		}
	}
	if n := e.bindingsOf(t, app.Pk); n != 0 {
		left = append(left, fmt.Sprintf("%d policy bindings of %s", n, names[0]))
	}
	if n := e.expressionPolicies(t, names[0]+": allowed groups"); n != 0 {
		left = append(left, fmt.Sprintf("%d access policies of %s", n, names[0]))
	}
	o := e.embeddedOutpost(t)
	for _, pk := range pks {
		if slices.Contains(o.Providers, pk) {
			left = append(left, fmt.Sprintf("provider %d on the embedded outpost", pk))
		}
	}
	if !sameSet(o.Providers, before) {
		left = append(left, fmt.Sprintf("embedded outpost serves %v, before the namespace %v", o.Providers, before))
	}
	if len(left) > 0 {
		t.Errorf("Authentik still holds after the namespace was deleted: %v", left)
	}
}

// TestNamespacedConfigDeletion deletes a namespace whose managed resources
// use a ProviderConfig in that namespace. The namespace controller deletes
// the config and its token Secret in the same sweep as the resources, in
// no particular order; the resources still need the token to delete what
// they made in Authentik. Everything leaves Authentik and the namespace
// goes away.
func TestNamespacedConfigDeletion(t *testing.T) {
	e := setup(t)
	const ns, config, secret = "e2e-nspc", "tenant-authentik", "tenant-token"
	const claim, plain = "e2e-nspc-claim", "e2e-nspc-plain"
	e.newGroup(t, "e2e-nspc-admins")
	before := e.embeddedOutpost(t).Providers

	e.ensureNamespace(t, ns)
	t.Cleanup(func() { _, _ = e.kubectl("", "delete", "namespace", ns, "--ignore-not-found", "--wait=false") })
	docs := []string{
		fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\nstringData: {token: %q}\n", secret, ns, tokenValue()),
		fmt.Sprintf(`apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ProviderConfig
metadata: {name: %s, namespace: %s}
spec:
  url: %s
  credentials:
    source: Secret
    secretRef: {name: %s, key: token}
`, config, ns, simURL(), secret),
		claims.ProxyConfig(ns, claim, "e2e-nspc-admins") + fmt.Sprintf("  providerConfigRef: {kind: ProviderConfig, name: %s}\n", config),
		fmt.Sprintf(`apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ProxyProvider
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  providerConfigRef: {kind: ProviderConfig, name: %[3]s}
  forProvider:
    name: %[1]s
    mode: forward_single
    externalHost: https://%[1]s.e2e.example.com
`, plain, ns, config),
	}
	e.mustKubectl(t, strings.Join(docs, "---\n"), "apply", "-f", "-")
	waitUntil(t, "the claim Ready", proxyConfigReady, func() (bool, string) {
		n, out := e.proxyConfigsReady(ns)
		return n == 1, out
	})
	e.mustKubectl(t, "", "wait", "--for=condition=Ready", "proxyprovider/"+plain, "-n", ns, "--timeout=60s")
	if out := e.mustKubectl(t, "", "get", "managed", "-n", ns, "-o", "jsonpath={range .items[*]}{.spec.providerConfigRef.kind} {end}"); strings.Contains(out, "ClusterProviderConfig") || out == "" {
		t.Fatalf("the namespace's managed resources use configs %q, want only its ProviderConfig", out)
	}
	var pks []int32
	for _, n := range []string{claim, plain} {
		ps := e.providerByName(t, n)
		if len(ps) != 1 {
			t.Fatalf("Authentik has %d providers named %s, want 1", len(ps), n)
		}
		pks = append(pks, ps[0].Pk)
	}
	app := e.application(t, claim)
	if app == nil {
		t.Fatalf("Authentik has no application %s", claim)
	}

	start := time.Now()
	e.mustKubectl(t, "", "delete", "namespace", ns, "--wait=false")
	waitUntil(t, "namespace "+ns+" gone", 2*time.Minute, func() (bool, string) {
		out, err := e.kubectl("", "get", "namespace", ns, "-o", "jsonpath={.status.phase}")
		if err != nil && strings.Contains(out, "NotFound") {
			return true, ""
		}
		left, _ := e.kubectl("", "get", "managed,proxyconfig,providerconfig,secret", "-n", ns, "-o", "name")
		return false, out + "; left: " + strings.Join(strings.Fields(left), " ")
	})
	t.Logf("namespace gone %s after its deletion", time.Since(start).Round(time.Second))

	var left []string
	for _, n := range []string{claim, plain} {
		if len(e.providerByName(t, n)) != 0 {
			left = append(left, "provider "+n)
		}
	}
	if e.application(t, claim) != nil {
		left = append(left, "application "+claim)
	}
	if n := e.bindingsOf(t, app.Pk); n != 0 {
		left = append(left, fmt.Sprintf("%d policy bindings of %s", n, claim))
	}
	if o := e.embeddedOutpost(t); !sameSet(o.Providers, before) {
		left = append(left, fmt.Sprintf("embedded outpost serves %v, before the namespace %v (providers %v)", o.Providers, before, pks))
	}
	if len(left) > 0 {
		t.Errorf("Authentik still holds after the namespace was deleted: %v", left)
	}
}

func (e *env) bindingsOf(t *testing.T, target string) int {
	t.Helper()
	l, resp, err := e.ak.API.PoliciesAPI.PoliciesBindingsList(context.Background()).Target(target).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return len(l.Results)
}

// TestTokenRotation writes a new token into the Secret and then makes
// Authentik refuse the old one: the provider uses the new token from its
// next reconcile, so its resources stay Synced, and it still repairs drift.
func TestTokenRotation(t *testing.T) {
	e := setup(t)
	const ns, name = "default", "e2e-rotation"
	e.mustKubectl(t, fmt.Sprintf(`apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ProxyProvider
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  forProvider:
    name: %[1]s
    mode: forward_single
    externalHost: https://%[1]s.e2e.example.com
`, name, ns), "apply", "-f", "-")
	t.Cleanup(func() { _, _ = e.kubectl("", "delete", "proxyprovider", name, "-n", ns, "--timeout=60s") })
	e.mustKubectl(t, "", "wait", "--for=condition=Ready", "proxyprovider/"+name, "-n", ns, "--timeout=60s")

	old := os.Getenv("E2E_TOKEN")
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	rotated := hex.EncodeToString(b)
	e.rotate(t, rotated)
	t.Cleanup(func() { e.rotate(t, old) })

	// Two polls (run.sh polls every 5 s): Synced never leaves True.
	deadline := time.Now().Add(12 * time.Second)
	for time.Now().Before(deadline) {
		out := e.mustKubectl(t, "", "get", "proxyprovider", name, "-n", ns, "-o", `jsonpath={.status.conditions[?(@.type=="Synced")].status} {.status.conditions[?(@.type=="Synced")].message}`)
		if !strings.HasPrefix(out, "True") {
			t.Fatalf("Synced after the token rotation: %s", out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// The provider writes with the new token: drift made now is repaired.
	ps := e.providerByName(t, name)
	if len(ps) != 1 {
		t.Fatalf("Authentik has %d providers named %s, want 1", len(ps), name)
	}
	p := ps[0]
	req := api.NewProxyProviderRequest(p.Name, p.AuthorizationFlow, p.InvalidationFlow, "https://drifted.example.com")
	req.Mode = p.Mode
	if _, resp, err := e.ak.API.ProvidersAPI.ProvidersProxyUpdate(context.Background(), p.Pk).ProxyProviderRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
		t.Fatal(authentik.Classify(resp, err))
	}
	eventually(t, "drift repaired with the new token", func() (bool, string) {
		ps := e.providerByName(t, name)
		return len(ps) == 1 && ps[0].ExternalHost == "https://"+name+".e2e.example.com", fmt.Sprint(ps)
	})
}

// rotate stores token in the provider's Secret, gives the provider's cache
// a moment to see it, then makes the simulator accept only token, and
// moves the test's own client to it.
func (e *env) rotate(t *testing.T, token string) {
	t.Helper()
	e.mustKubectl(t, "", "-n", "crossplane-system", "patch", "secret", "authentik-token", "--type=merge", "-p", `{"stringData":{"token":"`+token+`"}}`)
	time.Sleep(2 * time.Second)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPut, os.Getenv("E2E_SIM_URL")+"/_sim/token", strings.NewReader(`{"token":"`+token+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT /_sim/token: status %d", resp.StatusCode)
	}
	ak, err := authentik.New(authentik.Config{URL: os.Getenv("E2E_SIM_URL"), Token: token}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.ak = ak
}
