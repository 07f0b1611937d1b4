//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	api "goauthentik.io/api/v3"

	"github.com/gitops-lifecycle/provider-authentik/cluster/e2e/claims"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// Route discovery: cluster/e2e/run.sh starts the provider with
// --enable-discovery for this suite. The Ingress test runs while the
// Gateway API CRDs are not installed; the HTTPRoute test installs them
// from the sigs.k8s.io/gateway-api module and removes them again.
const (
	discoveryNamespace = "discovery-e2e"
	annotationProxy    = "authentik.m.crossplane.io/proxy"
	annotationMode     = "authentik.m.crossplane.io/mode"
	httpRouteCRD       = "httproutes.gateway.networking.k8s.io"
)

// A routeKind writes the manifests of one kind of route for the tests.
type routeKind struct {
	kind     string // as kubectl names it
	resource string
	// manifest is a route called name to Service svc, port 8080 (by name
	// for Ingresses: the provider looks it up), for host ("" for none).
	manifest func(name, host string, annotations map[string]string) string
}

func annotationsYAML(a map[string]string) string {
	if len(a) == 0 {
		return ""
	}
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	s := "  annotations:\n"
	for _, k := range keys {
		s += fmt.Sprintf("    %s: %q\n", k, a[k])
	}
	return s
}

var ingressKind = routeKind{kind: "Ingress", resource: "ingress", manifest: func(name, host string, a map[string]string) string {
	hostLine := ""
	if host != "" {
		hostLine = "  - host: " + host + "\n    http:\n"
	} else {
		hostLine = "  - http:\n"
	}
	return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: %s
  namespace: %s
%sspec:
  rules:
%s      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: whoami
            port: {name: http}
`, name, discoveryNamespace, annotationsYAML(a), hostLine)
}}

var httpRouteKind = routeKind{kind: "HTTPRoute", resource: "httproute", manifest: func(name, host string, a map[string]string) string {
	hosts := ""
	if host != "" {
		hosts = "  hostnames: [" + host + "]\n"
	}
	return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: %s
  namespace: %s
%sspec:
  parentRefs:
  - name: homelab-gateway
%s  rules:
  - backendRefs:
    - name: whoami
      port: 8080
`, name, discoveryNamespace, annotationsYAML(a), hosts)
}}

const whoamiService = `apiVersion: v1
kind: Service
metadata:
  name: whoami
  namespace: ` + discoveryNamespace + `
spec:
  ports:
  - {name: http, port: 8080, targetPort: 80}
  selector: {app: whoami}
`

// routeEvents lists the reason and message of each Event on a route.
func (e *env) routeEvents(t *testing.T, rk routeKind, name string) string {
	t.Helper()
	return e.mustKubectl(t, "", "get", "events", "-n", discoveryNamespace,
		"--field-selector", "involvedObject.kind="+rk.kind+",involvedObject.name="+name,
		"-o", `jsonpath={range .items[*]}{.reason}: {.message}{"\n"}{end}`)
}

// runningControllers names the provider's controllers, from
// controller-runtime's metrics.
func runningControllers(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, m := range scrape(t)["controller_runtime_active_workers"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "controller" {
				out[l.GetValue()] = true
			}
		}
	}
	return out
}

// proxyConfigExists reports whether the ProxyConfig exists.
func (e *env) proxyConfigExists(t *testing.T, name string) bool {
	t.Helper()
	out := e.mustKubectl(t, "", "get", "proxyconfig", name, "-n", discoveryNamespace, "--ignore-not-found", "-o", "name")
	return strings.TrimSpace(out) != ""
}

// readyProxyConfig waits for the ProxyConfig to be Ready and returns its
// status.
func (e *env) readyProxyConfig(t *testing.T, name string) proxyConfigStatus {
	t.Helper()
	var pc proxyConfigStatus
	waitUntil(t, "ProxyConfig "+name+" Ready", proxyConfigReady, func() (bool, string) {
		if !e.proxyConfigExists(t, name) {
			return false, "no ProxyConfig"
		}
		pc = e.proxyConfig(t, discoveryNamespace, name)
		for _, c := range pc.Status.Conditions {
			if c.Type == "Ready" {
				return c.Status == "True" && pc.Status.ProviderPK != 0, c.Status + ": " + c.Message
			}
		}
		return false, "no Ready condition"
	})
	return pc
}

// proxyProvider returns the proxy provider with the pk, or nil.
func (e *env) proxyProvider(t *testing.T, pk int32) *api.ProxyProvider {
	t.Helper()
	p, resp, err := e.ak.API.ProvidersAPI.ProvidersProxyRetrieve(context.Background(), pk).Execute()
	err = authentik.Classify(resp, err)
	if authentik.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// discoveredIntoAuthentik checks that the route's ProxyConfig is owned by
// the route and Ready, and that Authentik serves the route's host, and
// returns the ProxyConfig's status.
func (e *env) discoveredIntoAuthentik(t *testing.T, rk routeKind, name, host string, mode api.ProxyMode) proxyConfigStatus {
	t.Helper()
	st := e.readyProxyConfig(t, name)
	owner := e.mustKubectl(t, "", "get", "proxyconfig", name, "-n", discoveryNamespace, "-o",
		`jsonpath={.metadata.ownerReferences[?(@.controller==true)].kind}/{.metadata.ownerReferences[?(@.controller==true)].uid}`)
	uid := e.mustKubectl(t, "", "get", rk.resource, name, "-n", discoveryNamespace, "-o", "jsonpath={.metadata.uid}")
	if owner != rk.kind+"/"+uid {
		t.Errorf("ProxyConfig %s is controlled by %q, want %s/%s", name, owner, rk.kind, uid)
	}
	p := e.proxyProvider(t, st.Status.ProviderPK)
	if p == nil {
		t.Fatalf("Authentik has no proxy provider %d (ProxyConfig %s's status)", st.Status.ProviderPK, name)
	}
	wantInternal := "http://whoami." + discoveryNamespace + ".svc.cluster.local:8080"
	if p.ExternalHost != "https://"+host || p.InternalHost == nil || *p.InternalHost != wantInternal || p.Mode == nil || *p.Mode != mode {
		t.Errorf("Authentik provider %d: external_host %q internal_host %v mode %v, want %q %q %s", p.Pk, p.ExternalHost, p.InternalHost, p.Mode, "https://"+host, wantInternal, mode)
	}
	if a := e.application(t, st.Status.ApplicationSlug); a == nil || a.Provider.Get() == nil || *a.Provider.Get() != p.Pk {
		t.Errorf("Authentik application %q does not use provider %d: %+v", st.Status.ApplicationSlug, p.Pk, a)
	}
	if !slices.Contains(e.embeddedOutpost(t).Providers, p.Pk) {
		t.Errorf("the embedded outpost does not serve provider %d", p.Pk)
	}
	t.Logf("%s %s: ProxyConfig Ready, Authentik provider %d %s -> %s (%s), application %s", rk.kind, name, p.Pk, p.ExternalHost, *p.InternalHost, *p.Mode, st.Status.ApplicationSlug)
	return st
}

// goneFromAuthentik waits until the ProxyConfig and what it made in
// Authentik are gone.
func (e *env) goneFromAuthentik(t *testing.T, name string, st proxyConfigStatus) {
	t.Helper()
	waitUntil(t, "ProxyConfig "+name+" and its Authentik objects gone", proxyConfigReady, func() (bool, string) {
		pc := e.proxyConfigExists(t, name)
		p := e.proxyProvider(t, st.Status.ProviderPK) != nil
		a := e.application(t, st.Status.ApplicationSlug) != nil
		served := slices.Contains(e.embeddedOutpost(t).Providers, st.Status.ProviderPK)
		return !pc && !p && !a && !served, fmt.Sprintf("ProxyConfig exists: %t, provider %d exists: %t, application %s exists: %t, on the embedded outpost: %t", pc, st.Status.ProviderPK, p, st.Status.ApplicationSlug, a, served)
	})
}

// testDiscovery runs the discovery checks for one kind of route: an
// annotated route whose annotation is removed, one that is deleted, one
// without the annotation, one without a host, and one whose name a
// hand-written ProxyConfig already has.
func testDiscovery(t *testing.T, e *env, rk routeKind, prefix string, mode api.ProxyMode) {
	asked := map[string]string{annotationProxy: "true"}
	if mode != api.PROXYMODE_PROXY {
		asked[annotationMode] = string(mode)
	}
	unannotate, remove := prefix+"-unannotate", prefix+"-delete"
	plain, noHost, handmade := prefix+"-plain", prefix+"-nohost", prefix+"-handmade"
	host := func(name string) string { return name + ".discovery.example.com" }

	t.Cleanup(func() {
		for _, n := range []string{unannotate, remove, plain, noHost, handmade} {
			_, _ = e.kubectl("", "delete", rk.resource, n, "-n", discoveryNamespace, "--ignore-not-found", "--wait=false")
		}
		_, _ = e.kubectl("", "delete", "proxyconfig", handmade, "-n", discoveryNamespace, "--ignore-not-found", "--wait=false")
	})
	handWritten := claims.ProxyConfig(discoveryNamespace, handmade)
	e.mustKubectl(t, handWritten, "apply", "-f", "-")
	const handSpecPath = "jsonpath={.spec.externalHost} {.spec.internalHost} {.spec.authentikConfig}"
	handSpec := e.mustKubectl(t, "", "get", "proxyconfig", handmade, "-n", discoveryNamespace, "-o", handSpecPath)
	var docs []string
	for _, n := range []string{unannotate, remove, handmade} {
		docs = append(docs, rk.manifest(n, host(n), asked))
	}
	docs = append(docs, rk.manifest(plain, host(plain), nil), rk.manifest(noHost, "", asked))
	e.mustKubectl(t, strings.Join(docs, "---\n"), "apply", "-f", "-")

	stUnannotate := e.discoveredIntoAuthentik(t, rk, unannotate, host(unannotate), mode)
	stRemove := e.discoveredIntoAuthentik(t, rk, remove, host(remove), mode)
	if ev := e.routeEvents(t, rk, unannotate); !strings.Contains(ev, "CreatedProxyConfig: Created ProxyConfig "+unannotate+": https://"+host(unannotate)) {
		t.Errorf("%s %s: no Event saying what was made; Events:\n%s", rk.kind, unannotate, ev)
	}
	e.notProtectedUntilWired(t, rk, unannotate)

	// By now discovery has seen every route: the unannotated one got
	// nothing, the one without a host an Event naming the problem, and the
	// hand-written ProxyConfig was left as it was.
	if e.proxyConfigExists(t, plain) {
		t.Errorf("%s %s has no annotation, yet has a ProxyConfig", rk.kind, plain)
	}
	if ev := e.routeEvents(t, rk, plain); ev != "" {
		t.Errorf("%s %s has no annotation, yet has Events:\n%s", rk.kind, plain, ev)
	}
	if e.proxyConfigExists(t, noHost) {
		t.Errorf("%s %s has no host, yet has a ProxyConfig", rk.kind, noHost)
	}
	waitUntil(t, rk.kind+" "+noHost+" has an Event naming the missing host", waitFor, func() (bool, string) {
		ev := e.routeEvents(t, rk, noHost)
		return strings.Contains(ev, "CannotDiscover:") && strings.Contains(ev, "host"), ev
	})
	t.Logf("%s %s: %s", rk.kind, noHost, strings.TrimSpace(e.routeEvents(t, rk, noHost)))
	waitUntil(t, rk.kind+" "+handmade+" has an Event saying the ProxyConfig is not discovery's", waitFor, func() (bool, string) {
		ev := e.routeEvents(t, rk, handmade)
		return strings.Contains(ev, "ProxyConfigNotOurs:"), ev
	})
	if got := e.mustKubectl(t, "", "get", "proxyconfig", handmade, "-n", discoveryNamespace, "-o", handSpecPath); got != handSpec {
		t.Errorf("hand-written ProxyConfig %s changed: %q, was %q", handmade, got, handSpec)
	}
	if refs := e.mustKubectl(t, "", "get", "proxyconfig", handmade, "-n", discoveryNamespace, "-o", "jsonpath={.metadata.ownerReferences}{.metadata.labels}"); strings.Contains(refs, rk.kind) {
		t.Errorf("hand-written ProxyConfig %s got discovery's owner reference or label: %s", handmade, refs)
	}

	// Removing the annotation removes the ProxyConfig and so the Authentik
	// objects; deleting the route does the same, through the garbage
	// collector following the owner reference.
	e.mustKubectl(t, "", "annotate", rk.resource, unannotate, "-n", discoveryNamespace, annotationProxy+"-")
	e.mustKubectl(t, "", "delete", rk.resource, remove, "-n", discoveryNamespace, "--wait=false")
	e.goneFromAuthentik(t, unannotate, stUnannotate)
	e.goneFromAuthentik(t, remove, stRemove)
	if ev := e.routeEvents(t, rk, unannotate); !strings.Contains(ev, "DeletedProxyConfig:") {
		t.Errorf("%s %s: no Event saying the ProxyConfig was deleted; Events:\n%s", rk.kind, unannotate, ev)
	}
}

// notProtectedPhrase is what discovery says of a route that does not ask
// the outpost, in its Event and the ProxyConfig's accessReason.
const notProtectedPhrase = "does not ask Authentik's outpost"

// nginxAuthURL is the ingress-nginx wiring as Authentik documents it.
const nginxAuthURL = "nginx.ingress.kubernetes.io/auth-url=http://ak-outpost-authentik-embedded-outpost.authentik.svc.cluster.local:9000/outpost.goauthentik.io/auth/nginx"

// notProtectedUntilWired checks that the route, which has no forward-auth
// wiring, got a NotProtected Event and its ProxyConfig's accessReason says
// so while ACCESS shows what Authentik enforces; and, for an Ingress, that
// ingress-nginx's annotations to the outpost take that back.
func (e *env) notProtectedUntilWired(t *testing.T, rk routeKind, name string) {
	t.Helper()
	waitUntil(t, rk.kind+" "+name+" has a NotProtected Event and its ProxyConfig says so", waitFor, func() (bool, string) {
		ev := e.routeEvents(t, rk, name)
		a := e.access(t, discoveryNamespace, name)
		return strings.Contains(ev, "NotProtected: the "+rk.kind+" "+notProtectedPhrase) && strings.Contains(a.AccessReason, notProtectedPhrase) && a.Access == "open to every user",
			fmt.Sprintf("access %q: %q; Events:\n%s", a.Access, a.AccessReason, ev)
	})
	if rk.kind != "Ingress" {
		return
	}
	e.mustKubectl(t, "", "annotate", rk.resource, name, "-n", discoveryNamespace, nginxAuthURL)
	waitUntil(t, rk.kind+" "+name+" wired to the outpost: its ProxyConfig no longer says it is not protected", waitFor, func() (bool, string) {
		a := e.access(t, discoveryNamespace, name)
		return !strings.Contains(a.AccessReason, notProtectedPhrase) && a.Access == "open to every user", fmt.Sprintf("access %q: %q", a.Access, a.AccessReason)
	})
}

func TestDiscoveryIngress(t *testing.T) {
	e := setup(t)
	if out, err := e.kubectl("", "get", "crd", httpRouteCRD); err == nil {
		t.Fatalf("the Gateway API's HTTPRoute CRD is installed; Ingress discovery must be shown without it: %s", out)
	}
	if !strings.Contains(providerLog(t), "HTTPRoute discovery is off") {
		t.Errorf("the provider's log does not say HTTPRoute discovery is off while its CRD is not installed")
	}
	// Without the CRD, only the Ingress controller exists: nothing watches
	// HTTPRoutes.
	if c := runningControllers(t); !c["discovery/ingress"] || c["discovery/httproute"] {
		t.Errorf("want the discovery/ingress controller and no discovery/httproute controller; the provider runs %v", c)
	}
	e.ensureNamespace(t, discoveryNamespace)
	e.mustKubectl(t, whoamiService, "apply", "-f", "-")
	testDiscovery(t, e, ingressKind, "ing", api.PROXYMODE_PROXY)
}

func TestDiscoveryHTTPRoute(t *testing.T) {
	e := setup(t)
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api")
	cmd.Dir = e.root
	dir, err := cmd.Output()
	if err != nil {
		t.Fatalf("cannot find the sigs.k8s.io/gateway-api module: %v", err)
	}
	crd := filepath.Join(strings.TrimSpace(string(dir)), "config", "crd", "standard", "gateway.networking.k8s.io_httproutes.yaml")
	e.mustKubectl(t, "", "apply", "--server-side", "-f", crd)
	t.Cleanup(func() { _, _ = e.kubectl("", "delete", "-f", crd, "--ignore-not-found", "--wait=false") })
	// kubectl wait fails at once on a CRD that has no conditions yet.
	waitUntil(t, "CRD "+httpRouteCRD+" Established", time.Minute, func() (bool, string) {
		out, _ := e.kubectl("", "get", "crd", httpRouteCRD, "-o", `jsonpath={.status.conditions[?(@.type=="Established")].status}`)
		return out == "True", out
	})
	start := time.Now()

	e.ensureNamespace(t, discoveryNamespace)
	e.mustKubectl(t, whoamiService, "apply", "-f", "-")
	testDiscovery(t, e, httpRouteKind, "hr", api.PROXYMODE_FORWARD_SINGLE)
	t.Logf("HTTPRoute discovery, from installing the CRD to the last check: %s", time.Since(start).Round(time.Second))
}
