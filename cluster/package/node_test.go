//go:build node

package pkgtest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The tests behind the build tag node run on the local node after
// cluster/package/node-test.sh applied examples/gitops: Crossplane runs the
// provider as a pod with the permissions its RBAC manager grants plus
// discovery-rbac.yaml. Each takes one permission away, shows what the
// provider does without it, and gives it back. They read KUBECONFIG and
// NODE_TEST_ROOT.

const (
	xpNamespace      = "crossplane-system"
	providerSelector = "pkg.crossplane.io/provider=provider-authentik"
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
	out, _ := n.kubectl("", "logs", "-n", xpNamespace, "-l", providerSelector, "--tail=-1")
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
