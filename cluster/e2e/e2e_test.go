//go:build e2e

// Package e2e checks the provider on a real kube-apiserver against the
// Authentik simulator. cluster/e2e/run.sh starts the stack, applies the
// examples and runs these tests; they read E2E_SIM_URL, E2E_TOKEN, E2E_ROOT
// and KUBECONFIG, and find the provider as the pod Crossplane runs from its
// package on the local node.
package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	api "goauthentik.io/api/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis"
	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/cluster/e2e/providerpod"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

const (
	exampleNamespace = "default"
	exampleProvider  = "longhorn"
	exampleName      = "longhorn-example"
	exampleHost      = "https://longhorn.k8s.example.com"
	waitFor          = 90 * time.Second
)

type env struct {
	kube client.Client
	ak   *authentik.Client
	root string
}

func setup(t *testing.T) *env {
	t.Helper()
	for _, v := range []string{"E2E_SIM_URL", "E2E_TOKEN", "E2E_ROOT", "KUBECONFIG"} {
		if os.Getenv(v) == "" {
			t.Fatalf("%s is not set: run cluster/e2e/run.sh (make e2e)", v)
		}
	}
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := apis.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.GetConfig()
	if err != nil {
		t.Fatal(err)
	}
	kube, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	ak, err := authentik.New(authentik.Config{URL: os.Getenv("E2E_SIM_URL"), Token: os.Getenv("E2E_TOKEN")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &env{kube: kube, ak: ak, root: os.Getenv("E2E_ROOT")}
}

// kubectl runs the kubectl built for the local control plane.
func (e *env) kubectl(stdin string, args ...string) (string, error) {
	return kubectl(stdin, args...)
}

func kubectl(stdin string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(os.Getenv("E2E_ROOT"), "_output", "bin", "kubectl"), args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// providerLog is the log of the provider's pod.
func providerLog(t *testing.T) string {
	t.Helper()
	out, err := providerpod.Log(kubectl)
	if err != nil {
		t.Fatalf("cannot read the provider pod's log: %v: %s", err, out)
	}
	return out
}

// metricsURL is the metrics endpoint of the provider's one Ready pod.
func metricsURL(t *testing.T) string {
	t.Helper()
	pods, err := providerpod.Ready(kubectl)
	if err != nil || len(pods) != 1 {
		t.Fatalf("want one Ready provider pod, have %v (%v)", pods, err)
	}
	for _, ip := range pods {
		return providerpod.MetricsURL(ip)
	}
	return ""
}

// eventually polls cond until it holds or waitFor passes.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(time.Second)
	}
	t.Fatalf("%s: not within %s; last state: %s", what, waitFor, last)
}

func (e *env) providerByName(t *testing.T, name string) []api.ProxyProvider {
	t.Helper()
	l, resp, err := e.ak.API.ProvidersAPI.ProvidersProxyList(context.Background()).NameIexact(name).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return l.Results
}

func TestExampleProxyProviderInAuthentik(t *testing.T) {
	e := setup(t)
	cr := &v1alpha1.ProxyProvider{}
	if err := e.kube.Get(context.Background(), types.NamespacedName{Namespace: exampleNamespace, Name: exampleProvider}, cr); err != nil {
		t.Fatal(err)
	}
	ps := e.providerByName(t, exampleName)
	if len(ps) != 1 {
		t.Fatalf("Authentik has %d providers named %s, want 1", len(ps), exampleName)
	}
	p := ps[0]
	if got := meta.GetExternalName(cr); got != itoa(p.Pk) {
		t.Errorf("external name %q, Authentik pk %d", got, p.Pk)
	}
	if p.ExternalHost != exampleHost || p.Mode == nil || *p.Mode != api.PROXYMODE_FORWARD_SINGLE {
		t.Errorf("Authentik holds external_host %q mode %v, want %q forward_single", p.ExternalHost, p.Mode, exampleHost)
	}
	for _, ct := range []xpv2.ConditionType{xpv2.TypeReady, xpv2.TypeSynced} {
		if c := cr.GetCondition(ct); c.Status != "True" {
			t.Errorf("%s = %s: %s", ct, c.Status, c.Message)
		}
	}
}

func TestCRDRefusesProxyModeWithoutInternalHost(t *testing.T) {
	e := setup(t)
	bad := `apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ProxyProvider
metadata:
  name: no-internal-host
  namespace: default
spec:
  forProvider:
    name: no-internal-host
    mode: proxy
    externalHost: https://app.example.com
`
	out, err := e.kubectl(bad, "apply", "-f", "-")
	if err == nil {
		_, _ = e.kubectl("", "delete", "proxyprovider", "no-internal-host", "-n", "default", "--wait=false")
		t.Fatalf("kubectl apply accepted a proxy-mode ProxyProvider without internalHost: %s", out)
	}
	if !strings.Contains(out, "internalHost") {
		t.Errorf("the refusal does not name internalHost: %s", out)
	}
	t.Logf("kubectl apply refused it: %s", strings.TrimSpace(out))
}

func TestDriftInAuthentikIsReverted(t *testing.T) {
	e := setup(t)
	ps := e.providerByName(t, exampleName)
	if len(ps) != 1 {
		t.Fatalf("Authentik has %d providers named %s, want 1", len(ps), exampleName)
	}
	p := ps[0]
	req := api.NewProxyProviderRequest(p.Name, p.AuthorizationFlow, p.InvalidationFlow, "https://changed-behind-its-back.example.com")
	req.Mode = p.Mode
	if _, resp, err := e.ak.API.ProvidersAPI.ProvidersProxyUpdate(context.Background(), p.Pk).ProxyProviderRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
		t.Fatal(authentik.Classify(resp, err))
	}
	eventually(t, "external_host restored", func() (bool, string) {
		got, resp, err := e.ak.API.ProvidersAPI.ProvidersProxyRetrieve(context.Background(), p.Pk).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return false, err.Error()
		}
		return got.ExternalHost == exampleHost, got.ExternalHost
	})
}

func TestDeletingResourceDeletesProvider(t *testing.T) {
	e := setup(t)
	doc := `apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ProxyProvider
metadata:
  name: e2e-short-lived
  namespace: default
spec:
  forProvider:
    name: e2e-short-lived
    mode: forward_domain
    externalHost: https://auth.example.com
    cookieDomain: example.com
`
	if out, err := e.kubectl(doc, "apply", "-f", "-"); err != nil {
		t.Fatalf("apply: %v: %s", err, out)
	}
	eventually(t, "provider created in Authentik", func() (bool, string) {
		n := len(e.providerByName(t, "e2e-short-lived"))
		return n == 1, itoa(int32(n)) + " providers"
	})
	if out, err := e.kubectl("", "delete", "proxyprovider", "e2e-short-lived", "-n", "default", "--timeout=90s"); err != nil {
		t.Fatalf("delete: %v: %s", err, out)
	}
	if n := len(e.providerByName(t, "e2e-short-lived")); n != 0 {
		t.Errorf("Authentik still has %d providers named e2e-short-lived after the resource was deleted", n)
	}
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }
