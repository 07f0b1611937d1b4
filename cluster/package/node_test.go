//go:build node

package pkgtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-lifecycle/provider-authentik/cluster/e2e/providerpod"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

// The tests behind the build tag node run on the local node after
// cluster/package/node-test.sh applied examples/gitops: Crossplane runs the
// provider as a pod with the permissions its RBAC manager grants plus
// discovery-rbac.yaml. Each takes one permission away, shows what the
// provider does without it, and gives it back. They read KUBECONFIG and
// NODE_TEST_ROOT, and NODE_TEST_SIM_URL and NODE_TEST_TOKEN for the
// Authentik simulator.

const (
	xpNamespace      = providerpod.Namespace
	providerSelector = providerpod.Selector
	discoveryRole    = "provider-authentik-discovery" // examples/gitops' discovery-rbac.yaml
	nodeWait         = 120 * time.Second
)

type node struct{ root string }

func setupNode(t *testing.T) *node {
	t.Helper()
	root := os.Getenv("NODE_TEST_ROOT")
	if root == "" || os.Getenv("KUBECONFIG") == "" {
		t.Fatal("NODE_TEST_ROOT and KUBECONFIG must be set: run cluster/package/node-test.sh")
	}
	return &node{root: root}
}

func (n *node) kubectl(stdin string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(n.root, "_output", "bin", "kubectl"), args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (n *node) mustKubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := n.kubectl(stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// eventually polls cond until it holds or nodeWait passes.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(nodeWait)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(time.Second)
	}
	t.Fatalf("%s: not within %s; last: %s", what, nodeWait, last)
}

// rule is one rule of a ClusterRole.
type rule struct {
	APIGroups []string `json:"apiGroups"`
	Resources []string `json:"resources"`
	Verbs     []string `json:"verbs"`
}

// setRules replaces the discovery ClusterRole's rules.
func (n *node) setRules(t *testing.T, rules []rule) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"rules": rules})
	if err != nil {
		t.Fatal(err)
	}
	n.mustKubectl(t, "", "patch", "clusterrole", discoveryRole, "--type=merge", "-p", string(b))
}

// without returns rules with verb taken off resource; a rule left with no
// verb goes.
func without(rules []rule, resource, verb string) []rule {
	var out []rule
	for _, r := range rules {
		if len(r.Resources) == 1 && r.Resources[0] == resource {
			var vs []string
			for _, v := range r.Verbs {
				if v != verb {
					vs = append(vs, v)
				}
			}
			if len(vs) == 0 {
				continue
			}
			r.Verbs = vs
		}
		out = append(out, r)
	}
	return out
}

func (n *node) rules(t *testing.T) []rule {
	t.Helper()
	var rs []rule
	if err := json.Unmarshal([]byte(n.mustKubectl(t, "", "get", "clusterrole", discoveryRole, "-o", "jsonpath={.rules}")), &rs); err != nil {
		t.Fatal(err)
	}
	return rs
}

// restartProvider deletes the provider's pod and waits for the kubelet to
// run the one its Deployment makes instead.
func (n *node) restartProvider(t *testing.T) {
	t.Helper()
	old := n.mustKubectl(t, "", "get", "pods", "-n", xpNamespace, "-l", providerSelector, "-o", "jsonpath={.items[*].metadata.name}")
	n.mustKubectl(t, "", "delete", "pods", "-n", xpNamespace, "-l", providerSelector, "--wait=true")
	eventually(t, "a new provider pod Ready", func() (bool, string) {
		out, err := n.kubectl("", "get", "pods", "-n", xpNamespace, "-l", providerSelector, "-o",
			`jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
		if err != nil {
			return false, out
		}
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			if len(f) == 2 && f[1] == "True" && !strings.Contains(old, f[0]) {
				return true, out
			}
		}
		return false, out
	})
}

// providerLog is the log of the provider's running pod.
func (n *node) providerLog(t *testing.T) string {
	t.Helper()
	out, _ := providerpod.Log(n.kubectl)
	return out
}

// discoveryCondition is the ClusterProviderConfig's RouteDiscovery
// condition as "status: message".
func (n *node) discoveryCondition() string {
	out, _ := n.kubectl("", "get", "clusterproviderconfig", "default", "-o",
		`jsonpath={.status.conditions[?(@.type=="RouteDiscovery")].status}: {.status.conditions[?(@.type=="RouteDiscovery")].message}`)
	return out
}

// proxyConfigReady applies a ProxyConfig like the layout's and waits for it
// to be Ready, then deletes it.
func (n *node) proxyConfigReady(t *testing.T, name string) {
	t.Helper()
	pc := `apiVersion: gitops.io/v1
kind: ProxyConfig
metadata: {name: ` + name + `, namespace: longhorn-system}
spec:
  serviceName: longhorn-frontend
  serviceNamespace: longhorn-system
  externalHost: ` + name + `.k8s.example.com
  internalHost: http://longhorn-frontend.longhorn-system.svc.cluster.local:80
  authentikConfig: {providerName: ` + name + `, mode: forward_single}
`
	n.mustKubectl(t, pc, "apply", "-f", "-")
	n.mustKubectl(t, "", "wait", "--for=condition=Ready", "--timeout=120s", "-n", "longhorn-system", "proxyconfig/"+name)
	n.mustKubectl(t, "", "delete", "-n", "longhorn-system", "proxyconfig/"+name, "--wait=true", "--timeout=120s")
}

func TestProviderRunsAsAPod(t *testing.T) {
	n := setupNode(t)
	out := n.mustKubectl(t, "", "get", "pods", "-n", xpNamespace, "-l", providerSelector, "-o",
		`jsonpath={range .items[*]}{.spec.serviceAccountName} {.spec.containers[0].image} {.status.phase}{"\n"}{end}`)
	f := strings.Fields(out)
	if len(f) != 3 || f[0] != "provider-authentik" || !strings.HasSuffix(f[1], "/gitops-lifecycle/provider-authentik:v0.1.0") || f[2] != "Running" {
		t.Errorf("provider pod (ServiceAccount image phase): got %q, want provider-authentik <registry>/gitops-lifecycle/provider-authentik:v0.1.0 Running", out)
	}
	if c := n.discoveryCondition(); !strings.HasPrefix(c, "True: ") {
		t.Errorf("ClusterProviderConfig's RouteDiscovery with discovery-rbac.yaml applied: got %q, want True", c)
	}
	// The kubelet ran it through containerd: its parent is the runtime's
	// shim, not a script of ours.
	pids := providerPIDs(t)
	if len(pids) != 1 {
		t.Errorf("%d provider processes on this machine, want 1: %v", len(pids), pids)
	}
	for _, pid := range pids {
		if p := parentProgram(t, pid); filepath.Base(p) != "containerd-shim-runc-v2" {
			t.Errorf("the parent of the provider's process %d runs %q, want containerd-shim-runc-v2", pid, p)
		}
	}
}

// TestPackagesInstalledOnce checks what Flux's health checks and the
// Configuration's dependencies leave: every package Installed and Healthy,
// and one package object per package path (registry and tag aside). A
// layout Function named otherwise than Crossplane names a dependency would
// make it install that function a second time.
func TestPackagesInstalledOnce(t *testing.T) {
	n := setupNode(t)
	out := n.mustKubectl(t, "", "get", "providers.pkg.crossplane.io,functions.pkg.crossplane.io,configurations.pkg.crossplane.io", "-o",
		`jsonpath={range .items[*]}{.kind}/{.metadata.name} {.spec.package} {.status.conditions[?(@.type=="Installed")].status}{.status.conditions[?(@.type=="Healthy")].status}{"\n"}{end}`)
	got := map[string][]string{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			t.Errorf("package %q: want kind/name, package and its Installed and Healthy conditions", l)
			continue
		}
		if f[2] != "TrueTrue" {
			t.Errorf("%s (%s): Installed and Healthy are %q, want both True", f[0], f[1], f[2])
		}
		_, ref, _ := strings.Cut(f[1], "/")
		ref, _, _ = strings.Cut(ref, "@")
		if i := strings.LastIndex(ref, ":"); i >= 0 {
			ref = ref[:i]
		}
		got[ref] = append(got[ref], f[0])
	}
	want := map[string][]string{
		"gitops-lifecycle/provider-authentik":                  {"Provider/provider-authentik"},
		"gitops-lifecycle/configuration-authentik-proxyconfig": {"Configuration/configuration-authentik-proxyconfig"},
		"crossplane-contrib/function-go-templating":            {"Function/crossplane-contrib-function-go-templating"},
		"crossplane-contrib/function-auto-ready":               {"Function/crossplane-contrib-function-auto-ready"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("package objects by package path: -want, +got:\n%s", diff)
	}
}

// parentProgram is the program pid's parent runs, its first argument.
func parentProgram(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	// After the command's name in parentheses: the state, then the parent's PID.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 2 {
		t.Fatalf("/proc/%d/stat: %q", pid, b)
	}
	cmd, err := os.ReadFile(filepath.Join("/proc", f[1], "cmdline"))
	if err != nil {
		t.Fatal(err)
	}
	prog, _, _ := strings.Cut(string(cmd), "\x00")
	return prog
}

func TestRBACIngressListRemoved(t *testing.T) {
	n := setupNode(t)
	rules := n.rules(t)
	const want = "Ingress discovery is off: the provider may not list ingresses.networking.k8s.io"

	n.setRules(t, without(rules, "ingresses", "list"))
	restored := false
	t.Cleanup(func() {
		if !restored {
			n.setRules(t, rules)
			n.restartProvider(t)
		}
	})
	n.restartProvider(t)
	eventually(t, "the ClusterProviderConfig names the missing permission", func() (bool, string) {
		c := n.discoveryCondition()
		return strings.HasPrefix(c, "False: "+want), c
	})
	if l := n.providerLog(t); !strings.Contains(l, want) {
		t.Errorf("the provider's log does not say %q", want)
	}
	// Only Ingress discovery is off: the managed resources and the
	// Composition's functions work.
	n.proxyConfigReady(t, "rbac-ingress-list")

	n.setRules(t, rules)
	restored = true
	n.restartProvider(t)
	eventually(t, "with the rule back, Ingress discovery runs", func() (bool, string) {
		c := n.discoveryCondition()
		return strings.HasPrefix(c, "True: "), c
	})
	eventually(t, "the provider's log says Ingress discovery started", func() (bool, string) {
		return strings.Contains(n.providerLog(t), `"msg":"Route discovery started","controller":"discovery","kind":"Ingress"`), "not yet"
	})
}

func TestRBACServicesGetRemoved(t *testing.T) {
	n := setupNode(t)
	rules := n.rules(t)
	const ns = "rbac-node"
	n.mustKubectl(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n", "apply", "-f", "-")
	t.Cleanup(func() { _, _ = n.kubectl("", "delete", "namespace", ns, "--wait=false") })
	n.mustKubectl(t, `apiVersion: v1
kind: Service
metadata: {name: whoami, namespace: `+ns+`}
spec:
  ports: [{name: http, port: 8080, targetPort: 80}]
  selector: {app: whoami}
`, "apply", "-f", "-")

	n.setRules(t, without(rules, "services", "get"))
	t.Cleanup(func() { n.setRules(t, rules) })
	// A port given by name makes discovery read the Service, which it may
	// no longer do.
	n.mustKubectl(t, `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: whoami
  namespace: `+ns+`
  annotations: {authentik.m.crossplane.io/proxy: "true"}
spec:
  rules:
  - host: whoami.k8s.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: whoami, port: {name: http}}}}
`, "apply", "-f", "-")
	const want = `cannot get resource \"services\" in API group \"\" in the namespace \"` + ns + `\"`
	eventually(t, "the provider's log names the permission", func() (bool, string) {
		return strings.Contains(n.providerLog(t), want), "no log line with " + want
	})
	if out, err := n.kubectl("", "get", "proxyconfig", "whoami", "-n", ns); err == nil {
		t.Errorf("a ProxyConfig was made without reading the Service: %s", out)
	}

	n.setRules(t, rules)
	eventually(t, "with the rule back, the Ingress's ProxyConfig is made", func() (bool, string) {
		out, err := n.kubectl("", "get", "proxyconfig", "whoami", "-n", ns, "-o", "jsonpath={.spec.internalHost}")
		return err == nil && out == "http://whoami."+ns+".svc.cluster.local:8080", out
	})
}

// proxyConfigs are count ProxyConfigs named prefix-NN in ns, each with its
// own Authentik provider name.
func proxyConfigs(ns, prefix string, count int) string {
	var b strings.Builder
	for i := range count {
		name := fmt.Sprintf("%s-%02d", prefix, i)
		fmt.Fprintf(&b, `---
apiVersion: gitops.io/v1
kind: ProxyConfig
metadata: {name: %s, namespace: %s}
spec:
  serviceName: longhorn-frontend
  serviceNamespace: longhorn-system
  externalHost: %s.k8s.example.com
  internalHost: http://longhorn-frontend.longhorn-system.svc.cluster.local:80
  authentikConfig: {providerName: %s, mode: forward_single}
`, name, ns, name, name)
	}
	return b.String()
}

// allReady waits until every ProxyConfig in ns is Ready.
func (n *node) allReady(t *testing.T, ns string, count int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		out, _ := n.kubectl("", "get", "proxyconfigs", "-n", ns, "-o", `jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
		if strings.Count(out, "True") == count {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d ProxyConfigs in %s Ready after 5 minutes", strings.Count(out, "True"), count, ns)
		}
		time.Sleep(2 * time.Second)
	}
}

// authentikProviders is how many proxy providers Authentik has by each name.
func authentikProviders(t *testing.T, names []string) map[string]int {
	t.Helper()
	ak, err := authentik.New(authentik.Config{URL: os.Getenv("NODE_TEST_SIM_URL"), Token: os.Getenv("NODE_TEST_TOKEN")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, name := range names {
		l, resp, err := ak.API.ProvidersAPI.ProvidersProxyList(context.Background()).NameIexact(name).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			t.Fatal(err)
		}
		got[name] = len(l.Results)
	}
	return got
}

func TestProviderPodDeletedDuringCreation(t *testing.T) {
	n := setupNode(t)
	const ns, count = "node-restart", 20
	n.mustKubectl(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n", "apply", "-f", "-")
	t.Cleanup(func() { _, _ = n.kubectl("", "delete", "namespace", ns, "--wait=false") })

	n.mustKubectl(t, proxyConfigs(ns, ns, count), "apply", "-f", "-")
	time.Sleep(2 * time.Second) // the provider is mid-way through them
	start := time.Now()
	n.restartProvider(t)
	n.allReady(t, ns, count)
	t.Logf("%d ProxyConfigs Ready %s after the provider's pod was deleted", count, time.Since(start).Round(time.Second))

	names := make([]string, count)
	want := map[string]int{}
	for i := range names {
		names[i] = fmt.Sprintf("%s-%02d", ns, i)
		want[names[i]] = 1
	}
	if diff := cmp.Diff(want, authentikProviders(t, names)); diff != "" {
		t.Errorf("proxy providers in Authentik by name: -want, +got:\n%s", diff)
	}
}

func TestProviderContainerKilled(t *testing.T) {
	n := setupNode(t)
	const ns, count = "node-kill", 5
	pod := n.mustKubectl(t, "", "get", "pods", "-n", xpNamespace, "-l", providerSelector, "-o", "jsonpath={.items[0].metadata.name}")
	restarts := func() string {
		out, _ := n.kubectl("", "get", "pod", "-n", xpNamespace, pod, "-o", "jsonpath={.status.containerStatuses[0].restartCount}")
		return out
	}
	before := restarts()
	// As an OOM kill does: SIGKILL to the container's process, no lease
	// released; the kubelet starts the container again in the same pod.
	pids := providerPIDs(t)
	if len(pids) != 1 {
		t.Fatalf("%d provider processes on this machine, want 1: %v", len(pids), pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	eventually(t, "the kubelet restarts the provider's container", func() (bool, string) {
		r := restarts()
		return r != before && r != "", r
	})
	n.mustKubectl(t, "", "wait", "--for=condition=Ready", "--timeout=120s", "-n", xpNamespace, "pod/"+pod)
	n.mustKubectl(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n", "apply", "-f", "-")
	t.Cleanup(func() { _, _ = n.kubectl("", "delete", "namespace", ns, "--wait=false") })
	n.mustKubectl(t, proxyConfigs(ns, ns, count), "apply", "-f", "-")
	n.allReady(t, ns, count)
	t.Logf("container restarted (restartCount %s -> %s); %d new ProxyConfigs Ready %s after the kill (the old lease runs out first)",
		before, restarts(), count, time.Since(killed).Round(time.Second))
}

// providerPIDs are the processes on this machine that run the provider's
// image's entrypoint.
func providerPIDs(t *testing.T) []int {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !strings.HasPrefix(string(b), "/usr/local/bin/provider\x00") {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(d))
		if err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// providerPods are the names and IPs of the provider's Ready pods.
func (n *node) providerPods(t *testing.T) map[string]string {
	t.Helper()
	pods, _ := providerpod.Ready(n.kubectl)
	return pods
}

// leaseHolder is the pod that leads, as the provider's Lease names it
// (controller-runtime's identity is the host name, then _ and a UUID).
func (n *node) leaseHolder() string {
	out, _ := n.kubectl("", "get", "lease", "-n", xpNamespace, "crossplane-leader-election-provider-authentik", "-o", "jsonpath={.spec.holderIdentity}")
	pod, _, _ := strings.Cut(out, "_")
	return pod
}

// apiRequests is the provider pod's count of requests to Authentik, read
// from its metrics port on the pod's address.
func apiRequests(t *testing.T, ip string) float64 {
	t.Helper()
	resp, err := http.Get(providerpod.MetricsURL(ip))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, metrics.NameAPIRequests+"{") {
			continue
		}
		f := strings.Fields(l)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	return sum
}

func TestLeaderHandOverTwoReplicas(t *testing.T) {
	n := setupNode(t)
	const ns, count = "node-leader", 10
	replicas := func(r int) {
		n.mustKubectl(t, "", "patch", "deploymentruntimeconfig", "provider-authentik", "--type=merge", "-p",
			fmt.Sprintf(`{"spec":{"deploymentTemplate":{"spec":{"replicas":%d}}}}`, r))
	}
	replicas(2)
	t.Cleanup(func() { replicas(1) })
	var pods map[string]string
	eventually(t, "two provider pods Ready", func() (bool, string) {
		pods = n.providerPods(t)
		return len(pods) == 2, fmt.Sprint(pods)
	})
	var leader, follower string
	eventually(t, "one of them leads", func() (bool, string) {
		leader = n.leaseHolder()
		_, ok := pods[leader]
		return ok, leader
	})
	for p := range pods {
		if p != leader {
			follower = p
		}
	}
	n.mustKubectl(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n", "apply", "-f", "-")
	t.Cleanup(func() { _, _ = n.kubectl("", "delete", "namespace", ns, "--wait=false") })
	n.mustKubectl(t, proxyConfigs(ns, ns, count), "apply", "-f", "-")
	n.allReady(t, ns, count)

	// As in a drain: the node is cordoned, so the pod the ReplicaSet makes
	// for the deleted leader stays Pending and cannot win the race for the
	// lease; the follower must take over.
	nodeName := n.mustKubectl(t, "", "get", "nodes", "-o", "jsonpath={.items[0].metadata.name}")
	n.mustKubectl(t, "", "cordon", nodeName)
	t.Cleanup(func() { _, _ = n.kubectl("", "uncordon", nodeName) })
	if c := apiRequests(t, pods[follower]); c != 0 {
		t.Fatalf("the follower %s made %v Authentik requests while %s led, want 0", follower, c, leader)
	}
	deleted := time.Now()
	n.mustKubectl(t, "", "delete", "pod", "-n", xpNamespace, leader, "--wait=false")
	var next string
	eventually(t, "another pod takes the lease", func() (bool, string) {
		next = n.leaseHolder()
		return next != "" && next != leader, next
	})
	if next != follower {
		t.Fatalf("%s took the lease after the leader's pod %s was deleted, want the follower %s", next, leader, follower)
	}
	t.Logf("hand-over to the follower %s %s after the leader's pod %s was deleted", follower, time.Since(deleted).Round(100*time.Millisecond), leader)
	if p := n.mustKubectl(t, "", "get", "pods", "-n", xpNamespace, "-l", providerSelector, "--field-selector=status.phase=Pending", "-o", "name"); p == "" {
		t.Errorf("no Pending provider pod on the cordoned node: the leader's replacement ran")
	}
	n.mustKubectl(t, proxyConfigs(ns, ns+"-after", count), "apply", "-f", "-")
	n.allReady(t, ns, 2*count)
	if c := apiRequests(t, pods[follower]); c == 0 {
		t.Errorf("the follower %s made no Authentik request after it took the lease, want the new ProxyConfigs made by it", follower)
	}
}
