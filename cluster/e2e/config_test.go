//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
)

// The config tests work in their own namespace, with ProviderConfigs of
// their own; the examples' ClusterProviderConfig default is only read.
const (
	tenantNamespace = "tenant"
	// configChange bounds how long a config's status takes to follow a
	// change: the provider runs with --poll=5s.
	configChange = 45 * time.Second
)

func simURL() string     { return os.Getenv("E2E_SIM_URL") }
func tokenValue() string { return os.Getenv("E2E_TOKEN") }

// readyOf returns the Ready condition and the Authentik version of a
// ProviderConfig in the tenant namespace, or of the ClusterProviderConfig
// name when namespaced is false.
func (e *env) readyOf(t *testing.T, namespaced bool, name string) (xpv2.Condition, string) {
	t.Helper()
	var pc interface {
		GetCondition(xpv2.ConditionType) xpv2.Condition
		GetAuthentikVersion() string
	}
	var err error
	if namespaced {
		o := &v1alpha1.ProviderConfig{}
		err = e.kube.Get(context.Background(), types.NamespacedName{Namespace: tenantNamespace, Name: name}, o)
		pc = o
	} else {
		o := &v1alpha1.ClusterProviderConfig{}
		err = e.kube.Get(context.Background(), types.NamespacedName{Name: name}, o)
		pc = o
	}
	if err != nil {
		t.Fatal(err)
	}
	return pc.GetCondition(xpv2.TypeReady), pc.GetAuthentikVersion()
}

// waitReady waits until a config's Ready condition has status and reason
// and its message contains messageHas.
func (e *env) waitReady(t *testing.T, namespaced bool, name string, status corev1.ConditionStatus, reason xpv2.ConditionReason, messageHas string) xpv2.Condition {
	t.Helper()
	var c xpv2.Condition
	waitUntil(t, fmt.Sprintf("config %s Ready=%s %s", name, status, reason), configChange, func() (bool, string) {
		c, _ = e.readyOf(t, namespaced, name)
		return c.Status == status && c.Reason == reason && strings.Contains(c.Message, messageHas), fmt.Sprintf("%s %s: %s", c.Status, c.Reason, c.Message)
	})
	return c
}

// tokenSecretYAML is a token Secret in the tenant namespace.
func tokenSecretYAML(name, token string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: %s, namespace: %s}
stringData: {token: %q}
`, name, tenantNamespace, token)
}

// providerConfigYAML is a ProviderConfig in the tenant namespace reading
// the token Secret secret there.
func providerConfigYAML(name, url, secret string) string {
	return fmt.Sprintf(`apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ProviderConfig
metadata: {name: %s, namespace: %s}
spec:
  url: %s
  credentials:
    source: Secret
    secretRef: {name: %s, key: token}
`, name, tenantNamespace, url, secret)
}

// configRow returns the line of `kubectl get providerconfig,clusterproviderconfig -A`
// for the config named name, and the header.
func (e *env) configRow(t *testing.T, name string) (header, row string) {
	t.Helper()
	out := e.mustKubectl(t, "", "get", "providerconfig,clusterproviderconfig", "-A")
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "NAMESPACE") {
			header = l
		}
		if strings.Contains(l, "providerconfig.authentik.m.crossplane.io/"+name+" ") {
			row = l
		}
	}
	t.Logf("kubectl get providerconfig,clusterproviderconfig -A:\n%s", out)
	return header, row
}

func TestClusterProviderConfigShowsReadyAndVersion(t *testing.T) {
	e := setup(t)
	h := e.ak.CheckHealth(context.Background())
	if h.Version == "" {
		t.Fatalf("the simulator did not say its version: %+v", h)
	}
	c := e.waitReady(t, false, "default", corev1.ConditionTrue, xpv2.ReasonAvailable, h.Version)
	header, row := e.configRow(t, "default")
	for _, col := range []string{"READY", "REASON", "VERSION", "URL"} {
		if !strings.Contains(header, col) {
			t.Errorf("kubectl get has no %s column: %q", col, header)
		}
	}
	if f := strings.Fields(row); len(f) < 4 || f[1] != "True" || f[2] != "Available" || f[3] != h.Version {
		t.Errorf("kubectl get shows %q for the default config, want READY True, REASON Available, VERSION %s", row, h.Version)
	}
	t.Logf("Ready: %s", c.Message)
}

func TestProviderConfigWithWrongToken(t *testing.T) {
	e := setup(t)
	e.ensureNamespace(t, tenantNamespace)
	const name, secret = "wrong-token", "wrong-token"
	e.mustKubectl(t, tokenSecretYAML(secret, "not-the-token")+"---\n"+providerConfigYAML(name, simURL(), secret), "apply", "-f", "-")
	t.Cleanup(func() {
		// The Group goes first. Its management policies leave out Delete, so
		// it leaves its Authentik group behind: deleting that would take a
		// round of reconciles and need the token.
		_, _ = e.kubectl("", "delete", "group", "wrong-token-group", "-n", tenantNamespace, "--timeout=60s")
		_, _ = e.kubectl("", "delete", "providerconfig/"+name, "secret/"+secret, "-n", tenantNamespace, "--wait=false")
	})

	c := e.waitReady(t, true, name, corev1.ConditionFalse, v1alpha1.ReasonTokenRefused, "refused the token: Token invalid/expired")
	t.Logf("Ready: %s", c.Message)
	if _, row := e.configRow(t, name); !strings.Contains(row, "False") || !strings.Contains(row, "TokenRefused") {
		t.Errorf("kubectl get shows %q, want READY False, REASON TokenRefused", row)
	}

	e.mustKubectl(t, `apiVersion: authentik.m.crossplane.io/v1alpha1
kind: Group
metadata: {name: wrong-token-group, namespace: tenant}
spec:
  providerConfigRef: {kind: ProviderConfig, name: wrong-token}
  managementPolicies: [Observe, Create, Update, LateInitialize]
  forProvider: {name: e2e-wrong-token-group}
`, "apply", "-f", "-")
	want := "ProviderConfig tenant/wrong-token is not ready: Authentik at " + simURL() + " refused the token"
	waitUntil(t, "the Group names its unhealthy config in Synced", configChange, func() (bool, string) {
		g := &v1alpha1.Group{}
		if err := e.kube.Get(context.Background(), types.NamespacedName{Namespace: tenantNamespace, Name: "wrong-token-group"}, g); err != nil {
			return false, err.Error()
		}
		s := g.GetCondition(xpv2.TypeSynced)
		return s.Status == corev1.ConditionFalse && strings.Contains(s.Message, want), s.Message
	})

	// The right token makes the config Ready again without touching it, and
	// lets the Group through, so it can be deleted from Authentik.
	e.mustKubectl(t, tokenSecretYAML(secret, tokenValue()), "apply", "-f", "-")
	e.waitReady(t, true, name, corev1.ConditionTrue, xpv2.ReasonAvailable, "accepts the token")
	if out, err := e.kubectl("", "wait", "--for=condition=Ready", "group/wrong-token-group", "-n", tenantNamespace, "--timeout=60s"); err != nil {
		t.Errorf("the Group did not become Ready once the token was right: %v: %s", err, out)
	}
}

func TestProviderConfigWithSimulatorStopped(t *testing.T) {
	e := setup(t)
	e.ensureNamespace(t, tenantNamespace)
	const name, secret, token = "second-authentik", "second-token", "second-simulator-token"
	url, stop := startSimulator(t, e.root, token)
	e.mustKubectl(t, tokenSecretYAML(secret, token)+"---\n"+providerConfigYAML(name, url, secret), "apply", "-f", "-")
	t.Cleanup(func() {
		_, _ = e.kubectl("", "delete", "providerconfig/"+name, "secret/"+secret, "-n", tenantNamespace, "--wait=false")
	})
	e.waitReady(t, true, name, corev1.ConditionTrue, xpv2.ReasonAvailable, "accepts the token")

	stop()
	c := e.waitReady(t, true, name, corev1.ConditionFalse, v1alpha1.ReasonUnreachable, "Authentik at "+url+" is unreachable")
	t.Logf("Ready: %s", c.Message)
	if _, row := e.configRow(t, name); !strings.Contains(row, "False") || !strings.Contains(row, "Unreachable") {
		t.Errorf("kubectl get shows %q, want READY False, REASON Unreachable", row)
	}
}

func TestProviderConfigRefusesBorrowedCredentials(t *testing.T) {
	e := setup(t)
	e.ensureNamespace(t, tenantNamespace)
	cases := map[string]struct {
		manifest string
		field    string
	}{
		"SecretInCrossplaneSystem": {
			manifest: `apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ProviderConfig
metadata: {name: borrowed-secret, namespace: tenant}
spec:
  url: https://authentik.example.com
  credentials:
    source: Secret
    secretRef: {namespace: crossplane-system, name: authentik-token, key: token}
`,
			field: "spec.credentials.secretRef.namespace",
		},
		"CABundleInCrossplaneSystem": {
			manifest: `apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ProviderConfig
metadata: {name: borrowed-ca, namespace: tenant}
spec:
  url: https://authentik.example.com
  credentials:
    secretRef: {name: authentik-token, key: token}
  tls:
    caBundleSecretRef: {namespace: crossplane-system, name: authentik-ca, key: ca.crt}
`,
			field: "spec.tls.caBundleSecretRef.namespace",
		},
		"Environment": {
			manifest: `apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ProviderConfig
metadata: {name: borrowed-env, namespace: tenant}
spec:
  url: https://authentik.example.com
  credentials:
    source: Environment
    secretRef: {name: authentik-token, key: token}
`,
			field: "spec.credentials.source",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := e.kubectl(tc.manifest, "apply", "-f", "-")
			if err == nil {
				_, _ = e.kubectl(tc.manifest, "delete", "-f", "-", "--wait=false")
				t.Fatalf("kubectl apply accepted a ProviderConfig that borrows credentials: %s", out)
			}
			if !strings.Contains(out, tc.field) {
				t.Errorf("the refusal does not name %s: %s", tc.field, out)
			}
			t.Logf("kubectl apply refused it: %s", strings.TrimSpace(out))
		})
	}
}

// startSimulator runs a second Authentik simulator on a free port of the
// first one's address, where the provider reaches it, and returns its URL
// and a function that stops it (also run at cleanup).
func startSimulator(t *testing.T, root, token string) (string, func()) {
	t.Helper()
	first, err := url.Parse(simURL())
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(first.Hostname(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, "_output", "bin", "authentik-sim"), "--listen", addr, "--token", token)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	second := "http://" + addr
	waitUntil(t, "the second simulator answers", 30*time.Second, func() (bool, string) {
		resp, err := http.Get(second + "/_sim/counters")
		if err != nil {
			return false, err.Error()
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	return second, stop
}
