//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// The ProxyConfig tests apply the seed's ProxyConfigs through the Configuration
// in package/configuration, whose XRD and Composition cluster/e2e/run.sh
// installs. Authentik provider names are unique, so no other resource may
// use the seed's provider name longhorn-proxy.
const (
	seedManifest       = "examples/proxyconfig/longhorn-proxy.yaml"
	seedNamespace      = "longhorn-system"
	seedName           = "longhorn-proxy"
	seedProviderName   = "longhorn-proxy"
	seedExternalHost   = "https://longhorn.k8s.home.geoffdavis.com"
	seedInternalHost   = "http://longhorn-frontend.longhorn-system.svc.cluster.local:80"
	embeddedOutpostKey = "goauthentik.io/outposts/embedded"
	proxyConfigReady   = 4 * time.Minute
)

// proxyConfigStatus is the part of a ProxyConfig the tests read.
type proxyConfigStatus struct {
	Status struct {
		ProviderPK      int32  `json:"providerPk"`
		ApplicationSlug string `json:"applicationSlug"`
		LaunchURL       string `json:"launchUrl"`
		Outpost         string `json:"outpost"`
		Conditions      []struct {
			Type    string `json:"type"`
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"conditions"`
	} `json:"status"`
}

// waitUntil polls cond every two seconds until it holds or timeout passes.
func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(2 * time.Second)
	}
	t.Fatalf("%s: not within %s; last state: %s", what, timeout, last)
}

// mustKubectl runs kubectl and fails the test when it fails.
func (e *env) mustKubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := e.kubectl(stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out
}

func (e *env) ensureNamespace(t *testing.T, ns string) {
	t.Helper()
	e.mustKubectl(t, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+ns+"\n", "apply", "-f", "-")
}

// embeddedOutpost returns Authentik's embedded outpost.
func (e *env) embeddedOutpost(t *testing.T) api.Outpost {
	t.Helper()
	l, resp, err := e.ak.API.OutpostsAPI.OutpostsInstancesList(context.Background()).ManagedIexact(embeddedOutpostKey).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	if len(l.Results) != 1 {
		t.Fatalf("Authentik has %d embedded outposts, want 1", len(l.Results))
	}
	return l.Results[0]
}

// application returns the application with the slug, or nil.
func (e *env) application(t *testing.T, slug string) *api.Application {
	t.Helper()
	a, resp, err := e.ak.API.CoreAPI.CoreApplicationsRetrieve(context.Background(), slug).Execute()
	err = authentik.Classify(resp, err)
	if authentik.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// proxyConfig reads a ProxyConfig.
func (e *env) proxyConfig(t *testing.T, ns, name string) proxyConfigStatus {
	t.Helper()
	var pc proxyConfigStatus
	out := e.mustKubectl(t, "", "get", "proxyconfig", name, "-n", ns, "-o", "json")
	if err := json.Unmarshal([]byte(out), &pc); err != nil {
		t.Fatalf("cannot parse ProxyConfig %s/%s: %v", ns, name, err)
	}
	return pc
}

// addBystander makes a proxy provider directly in Authentik and attaches
// it to the embedded outpost, as an administrator would in Authentik's UI.
// No ProxyConfig may take it off again. It is deleted when the test ends.
func (e *env) addBystander(t *testing.T, name string) int32 {
	t.Helper()
	ctx := context.Background()
	authz, err := e.ak.FlowUUID(ctx, "default-provider-authorization-implicit-consent")
	if err != nil {
		t.Fatal(err)
	}
	inval, err := e.ak.FlowUUID(ctx, "default-provider-invalidation-flow")
	if err != nil {
		t.Fatal(err)
	}
	req := api.NewProxyProviderRequest(name, authz, inval, "https://"+name+".example.com")
	req.Mode = api.PROXYMODE_FORWARD_SINGLE.Ptr()
	p, resp, err := e.ak.API.ProvidersAPI.ProvidersProxyCreate(ctx).ProxyProviderRequest(*req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		resp, err := e.ak.API.ProvidersAPI.ProvidersProxyDestroy(context.Background(), p.Pk).Execute()
		if err := authentik.Classify(resp, err); err != nil && !authentik.IsNotFound(err) {
			t.Errorf("cannot delete the bystander provider %s: %v", name, err)
		}
	})
	o := e.embeddedOutpost(t)
	patch := api.NewPatchedOutpostRequest()
	patch.Providers = append(slices.Clone(o.Providers), p.Pk)
	if _, resp, err := e.ak.API.OutpostsAPI.OutpostsInstancesPartialUpdate(ctx, o.Pk).PatchedOutpostRequest(*patch).Execute(); authentik.Classify(resp, err) != nil {
		t.Fatal(authentik.Classify(resp, err))
	}
	return p.Pk
}

// trace runs `crank beta trace` on a ProxyConfig, logs its output and returns
// the rows whose SYNCED or READY column is not True.
func (e *env) trace(t *testing.T, ns, name string) (rows int, notReady []string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(e.root, "_output", "bin", "crank"), "beta", "trace", "proxyconfig/"+name, "-n", ns)
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	t.Logf("crank beta trace proxyconfig/%s -n %s:\n%s", name, ns, out)
	if err != nil {
		t.Fatalf("crank beta trace: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	header := lines[0]
	synced, ready := strings.Index(header, "SYNCED"), strings.Index(header, "READY")
	if synced < 0 || ready < 0 {
		t.Fatalf("crank beta trace printed no SYNCED and READY columns")
	}
	for _, l := range lines[1:] {
		rows++
		// The tree drawing is multi-byte; the columns line up in runes.
		r := []rune(l)
		col := func(i int) string {
			if i >= len(r) {
				return ""
			}
			return strings.Fields(string(r[i:]) + " ")[0]
		}
		if col(synced) != "True" || col(ready) != "True" {
			notReady = append(notReady, l)
		}
	}
	return rows, notReady
}

func TestProxyConfigSeedLifecycle(t *testing.T) {
	e := setup(t)
	if n := len(e.providerByName(t, seedProviderName)); n != 0 {
		t.Fatalf("Authentik already has %d provider(s) named %s, the name the seed's ProxyConfig needs: another resource (examples/proxyprovider.yaml?) must use another name", n, seedProviderName)
	}
	bystander := e.addBystander(t, "e2e-bystander-longhorn")
	before := e.embeddedOutpost(t).Providers

	e.ensureNamespace(t, seedNamespace)
	e.mustKubectl(t, "", "apply", "-f", filepath.Join(e.root, seedManifest))
	t.Cleanup(func() {
		_, _ = e.kubectl("", "delete", "-f", filepath.Join(e.root, seedManifest), "--ignore-not-found", "--wait=false")
	})

	start := time.Now()
	waitUntil(t, "ProxyConfig "+seedName+" Ready", proxyConfigReady, func() (bool, string) {
		pc := e.proxyConfig(t, seedNamespace, seedName)
		for _, c := range pc.Status.Conditions {
			if c.Type == "Ready" {
				return c.Status == "True", c.Status + ": " + c.Message
			}
		}
		return false, "no Ready condition"
	})

	t.Logf("ProxyConfig Ready after %s", time.Since(start).Round(time.Second))
	e.noWriteLoop(t)

	// Authentik holds the forward_single provider with the seed's hosts.
	ps := e.providerByName(t, seedProviderName)
	if len(ps) != 1 {
		t.Fatalf("Authentik has %d providers named %s, want 1", len(ps), seedProviderName)
	}
	p := ps[0]
	if p.ExternalHost != seedExternalHost || p.InternalHost == nil || *p.InternalHost != seedInternalHost || p.Mode == nil || *p.Mode != api.PROXYMODE_FORWARD_SINGLE {
		t.Errorf("provider %s: external_host %q internal_host %v mode %v, want %q %q forward_single", seedProviderName, p.ExternalHost, p.InternalHost, p.Mode, seedExternalHost, seedInternalHost)
	}
	// The application, served by that provider.
	app := e.application(t, seedName)
	if app == nil {
		t.Fatalf("Authentik has no application %s", seedName)
	}
	if got := app.Provider.Get(); got == nil || *got != p.Pk {
		t.Errorf("application %s has provider %v, want %d", seedName, got, p.Pk)
	}
	// The provider on the embedded outpost, next to what was there.
	o := e.embeddedOutpost(t)
	if !slices.Contains(o.Providers, p.Pk) || !slices.Contains(o.Providers, bystander) {
		t.Errorf("embedded outpost serves %v, want the ProxyConfig's provider %d and the bystander %d", o.Providers, p.Pk, bystander)
	}
	// The ProxyConfig's status says so.
	st := e.proxyConfig(t, seedNamespace, seedName).Status
	got := fmt.Sprintf("providerPk=%d applicationSlug=%s launchUrl=%s outpost=%s", st.ProviderPK, st.ApplicationSlug, st.LaunchURL, st.Outpost)
	want := fmt.Sprintf("providerPk=%d applicationSlug=%s launchUrl=%s outpost=%s", p.Pk, seedName, seedExternalHost, o.Name)
	if got != want {
		t.Errorf("ProxyConfig status: got %s, want %s", got, want)
	}

	// Every resource in the tree Ready and Synced: ProxyConfig, ProxyProvider,
	// Application, OutpostBinding.
	rows, notReady := e.trace(t, seedNamespace, seedName)
	if rows != 4 || len(notReady) > 0 {
		t.Errorf("crank beta trace: %d resources (want 4), not Ready and Synced: %q", rows, notReady)
	}

	// Deleting the ProxyConfig removes all of it from Authentik and nothing else.
	e.mustKubectl(t, "", "delete", "-f", filepath.Join(e.root, seedManifest), "--timeout=120s")
	waitUntil(t, "the ProxyConfig's resources gone from Authentik", proxyConfigReady, func() (bool, string) {
		n := len(e.providerByName(t, seedProviderName))
		a := e.application(t, seedName)
		o := e.embeddedOutpost(t)
		state := fmt.Sprintf("%d providers named %s, application %s exists: %t, embedded outpost serves %v (before the ProxyConfig: %v)", n, seedProviderName, seedName, a != nil, o.Providers, before)
		return n == 0 && a == nil && sameSet(o.Providers, before), state
	})
	waitUntil(t, "the ProxyConfig's managed resources deleted", time.Minute, func() (bool, string) {
		out, _ := e.kubectl("", "get", "managed", "-n", seedNamespace, "-l", "crossplane.io/composite="+seedName, "-o", "name")
		return strings.TrimSpace(out) == "", out
	})
}

func TestProxyConfigTenAtOnce(t *testing.T) {
	e := setup(t)
	const ns, count = "proxyconfig-many", 10
	bystander := e.addBystander(t, "e2e-bystander-many")
	before := e.embeddedOutpost(t).Providers

	e.ensureNamespace(t, ns)
	t.Cleanup(func() { _, _ = e.kubectl("", "delete", "namespace", ns, "--wait=false") })
	var docs []string
	for i := range count {
		docs = append(docs, fmt.Sprintf(`apiVersion: gitops.io/v1
kind: ProxyConfig
metadata:
  name: many-%02d
  namespace: %s
spec:
  serviceName: many-%02d
  serviceNamespace: %s
  externalHost: many-%02d.e2e.example.com
  internalHost: http://many-%02d.%s.svc.cluster.local:80
  authentikConfig:
    providerName: e2e-many-%02d
    mode: forward_single
`, i, ns, i, ns, i, i, ns, i))
	}
	e.mustKubectl(t, strings.Join(docs, "---\n"), "apply", "-f", "-")

	start := time.Now()
	waitUntil(t, "ten ProxyConfigs Ready", proxyConfigReady, func() (bool, string) {
		out, err := e.kubectl("", "get", "proxyconfig", "-n", ns, "-o", `jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}`)
		if err != nil {
			return false, out
		}
		return strings.Count(out, "=True") == count, out
	})
	t.Logf("ten ProxyConfigs Ready after %s", time.Since(start).Round(time.Second))

	var pks []int32
	for i := range count {
		name := fmt.Sprintf("e2e-many-%02d", i)
		ps := e.providerByName(t, name)
		if len(ps) != 1 {
			t.Fatalf("Authentik has %d providers named %s, want 1", len(ps), name)
		}
		pks = append(pks, ps[0].Pk)
	}
	o := e.embeddedOutpost(t)
	for _, pk := range append(slices.Clone(pks), bystander) {
		if !slices.Contains(o.Providers, pk) {
			t.Errorf("embedded outpost serves %v, want every ProxyConfig's provider %v and the bystander %d", o.Providers, pks, bystander)
			break
		}
	}

	e.mustKubectl(t, "", "delete", "proxyconfig", "--all", "-n", ns, "--timeout=180s")
	waitUntil(t, "the ten ProxyConfigs' providers and applications gone from Authentik and the embedded outpost", proxyConfigReady, func() (bool, string) {
		providers, apps := 0, 0
		for i := range count {
			providers += len(e.providerByName(t, fmt.Sprintf("e2e-many-%02d", i)))
			if e.application(t, fmt.Sprintf("many-%02d", i)) != nil {
				apps++
			}
		}
		o := e.embeddedOutpost(t)
		return providers+apps == 0 && sameSet(o.Providers, before), fmt.Sprintf("%d providers and %d applications left, embedded outpost serves %v (before the ProxyConfigs: %v)", providers, apps, o.Providers, before)
	})
	// Only then may the namespace go: a managed resource still deleting in a
	// terminating namespace cannot record its ProviderConfigUsage and keeps
	// its finalizer (crossplane/crossplane-runtime#1150).
	waitUntil(t, "the ten ProxyConfigs' managed resources deleted", time.Minute, func() (bool, string) {
		out, _ := e.kubectl("", "get", "managed", "-n", ns, "-o", "name")
		return strings.TrimSpace(out) == "", out
	})
}

func TestProxyConfigAllowedGroups(t *testing.T) {
	e := setup(t)
	const ns, name = "proxyconfig-groups", "wiki"
	ctx := context.Background()
	var groups []string
	for _, g := range []string{"e2e wiki editors", "e2e-wiki-readers"} {
		grp, resp, err := e.ak.API.CoreAPI.CoreGroupsCreate(ctx).GroupRequest(*api.NewGroupRequest(g)).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			t.Fatal(err)
		}
		groups = append(groups, grp.Pk)
		t.Cleanup(func() { _, _ = e.ak.API.CoreAPI.CoreGroupsDestroy(context.Background(), grp.Pk).Execute() })
	}

	e.ensureNamespace(t, ns)
	doc := `apiVersion: gitops.io/v1
kind: ProxyConfig
metadata: {name: ` + name + `, namespace: ` + ns + `}
spec:
  externalHost: https://wiki.e2e.example.com
  internalHost: http://wiki.` + ns + `.svc.cluster.local:3000
  authentikConfig:
    providerName: e2e-wiki
    allowedGroups: [e2e wiki editors, e2e-wiki-readers]
    application: {name: Wiki, slug: e2e-wiki}
`
	e.mustKubectl(t, doc, "apply", "-f", "-")
	t.Cleanup(func() {
		_, _ = e.kubectl("", "delete", "proxyconfig", name, "-n", ns, "--ignore-not-found", "--wait=false")
	})
	start := time.Now()
	waitUntil(t, "ProxyConfig "+name+" Ready", proxyConfigReady, func() (bool, string) {
		for _, c := range e.proxyConfig(t, ns, name).Status.Conditions {
			if c.Type == "Ready" {
				return c.Status == "True", c.Status + ": " + c.Message
			}
		}
		return false, "no Ready condition"
	})
	t.Logf("ProxyConfig Ready after %s", time.Since(start).Round(time.Second))

	app := e.application(t, "e2e-wiki")
	if app == nil {
		t.Fatal("Authentik has no application e2e-wiki")
	}
	l, resp, err := e.ak.API.PoliciesAPI.PoliciesBindingsList(ctx).Target(app.Pk).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	got := map[string]int32{}
	for _, b := range l.Results {
		if g := b.Group.Get(); g != nil {
			got[*g] = b.Order
		}
	}
	want := map[string]int32{groups[0]: 0, groups[1]: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("policy bindings of application e2e-wiki (group uuid: order): -want, +got:\n%s", diff)
	}
	// ProxyConfig, ProxyProvider, Application, OutpostBinding, two PolicyBindings, the access policy
	// and its PolicyBinding.
	rows, notReady := e.trace(t, ns, name)
	if rows != 8 || len(notReady) > 0 {
		t.Errorf("crank beta trace: %d resources (want 8), not Ready and Synced: %q", rows, notReady)
	}
	e.noWriteLoop(t)

	start = time.Now()
	e.mustKubectl(t, "", "delete", "proxyconfig", name, "-n", ns, "--timeout=120s")
	waitUntil(t, "the ProxyConfig's managed resources deleted", proxyConfigReady, func() (bool, string) {
		out, _ := e.kubectl("", "get", "managed", "-n", ns, "-o", "name")
		return strings.TrimSpace(out) == "", out
	})
	t.Logf("managed resources deleted %s after the ProxyConfig", time.Since(start).Round(time.Second))
	if a := e.application(t, "e2e-wiki"); a != nil {
		t.Errorf("application e2e-wiki still in Authentik after its ProxyConfig was deleted")
	}
	e.mustKubectl(t, "", "delete", "namespace", ns, "--wait=false")
}

func TestProxyConfigRefusesBadSpecs(t *testing.T) {
	e := setup(t)
	e.ensureNamespace(t, seedNamespace)
	cases := map[string]struct {
		reason string
		spec   string
		want   string
	}{
		"UnknownMode": {
			reason: "mode is one of Authentik's three.",
			spec:   "externalHost: app.example.com\n  authentikConfig: {mode: forward}",
			want:   `spec.authentikConfig.mode: Unsupported value: "forward"`,
		},
		"ProxyModeWithoutInternalHost": {
			reason: "In proxy mode, the default, the outpost needs an upstream.",
			spec:   "externalHost: app.example.com",
			want:   "spec.internalHost is required when spec.authentikConfig.mode is proxy",
		},
		"ExternalHostNotHTTP": {
			reason: "externalHost is a host name or an http(s) URL.",
			spec:   "externalHost: ftp://app.example.com\n  authentikConfig: {mode: forward_single}",
			want:   "spec.externalHost must be a host name such as app.example.com or an http(s) URL",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pc := strings.ToLower(name)
			doc := "apiVersion: gitops.io/v1\nkind: ProxyConfig\nmetadata: {name: " + pc + ", namespace: " + seedNamespace + "}\nspec:\n  " + tc.spec + "\n"
			out, err := e.kubectl(doc, "apply", "-f", "-")
			if err == nil {
				_, _ = e.kubectl("", "delete", "proxyconfig", pc, "-n", seedNamespace, "--wait=false")
				t.Fatalf("%s\nkubectl apply accepted it: %s", tc.reason, out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("%s\nthe refusal does not say %q: %s", tc.reason, tc.want, out)
			}
			t.Logf("kubectl apply refused it: %s", strings.TrimSpace(out))
		})
	}
}

func sameSet(a, b []int32) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
