//go:build e2e

// Package faults is the fault suite (make e2e-faults): the provider on a
// real kube-apiserver and Crossplane while the Authentik simulator fails,
// loses answers, stops and restarts, and while provider processes are
// killed. Unlike cluster/e2e the tests own the simulator and provider
// processes. cluster/e2e/faults.sh brings up the control plane, installs
// the CRDs, the ProxyConfig Configuration and the ClusterProviderConfig,
// and runs these tests; they read E2E_ROOT, E2E_TOKEN, E2E_SIM_PORT,
// E2E_LOGS, KUBECONFIG and, optionally, E2E_BIN and E2E_PROVIDER_PORT_BASE.
package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	api "goauthentik.io/api/v3"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

const (
	poll             = 10 * time.Second
	maxReconcileRate = 10
	embeddedOutpost  = "goauthentik.io/outposts/embedded"
	leaseNamespace   = "crossplane-system"
	leaseName        = "crossplane-leader-election-provider-authentik"
)

type env struct {
	root, bin, token, simURL, simPort, logs string
	providerPortBase                        int
	ak                                      *authentik.Client
}

func setup(t *testing.T) *env {
	t.Helper()
	for _, v := range []string{"E2E_ROOT", "E2E_TOKEN", "E2E_SIM_PORT", "E2E_LOGS", "KUBECONFIG"} {
		if os.Getenv(v) == "" {
			t.Fatalf("%s is not set: run cluster/e2e/faults.sh (make e2e-faults)", v)
		}
	}
	e := &env{root: os.Getenv("E2E_ROOT"), token: os.Getenv("E2E_TOKEN"), simPort: os.Getenv("E2E_SIM_PORT"), logs: os.Getenv("E2E_LOGS")}
	e.simURL = "http://127.0.0.1:" + e.simPort
	// E2E_BIN runs another build of the provider and the simulator, for
	// showing that a broken provider fails the suite.
	e.bin = filepath.Join(e.root, "_output", "bin")
	if b := os.Getenv("E2E_BIN"); b != "" {
		e.bin = b
	}
	e.providerPortBase = 18080
	if v := os.Getenv("E2E_PROVIDER_PORT_BASE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("E2E_PROVIDER_PORT_BASE: %v", err)
		}
		e.providerPortBase = n
	}
	ak, err := authentik.New(authentik.Config{URL: e.simURL, Token: e.token}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.ak = ak
	e.noLeftovers(t)
	return e
}

// noLeftovers fails the test if managed resources of an earlier test are
// still in the cluster. Each test starts a simulator with fresh state,
// whose ids start again from 1: a leftover's deletion would delete another
// test's object of the same id.
func (e *env) noLeftovers(t *testing.T) {
	t.Helper()
	out, err := e.kubectl("", "get", "managed", "-A", "-o", "name")
	if err != nil {
		t.Fatalf("kubectl get managed: %v: %s", err, out)
	}
	if left := strings.Fields(out); len(left) > 0 {
		t.Fatalf("%d managed resources of an earlier test are left, first %v: each test deletes its own before it ends", len(left), head(left, 5))
	}
}

// deleteNamespaces deletes the namespaces and waits until they are gone,
// while the test's simulator and provider still run to delete what their
// resources made.
func (e *env) deleteNamespaces(t *testing.T, names ...string) {
	t.Helper()
	for _, ns := range names {
		e.mustKubectl(t, "", "delete", "namespace", ns, "--wait=false")
	}
	waitUntil(t, "namespaces "+strings.Join(names, ", ")+" gone", 10*time.Minute, 5*time.Second, func() (bool, string) {
		var left []string
		for _, ns := range names {
			if _, err := e.kubectl("", "get", "namespace", ns); err == nil {
				left = append(left, ns)
			}
		}
		return len(left) == 0, strings.Join(left, " ")
	})
}

// A proc is a process a test started, in its own process group.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan error
}

func (e *env) start(t *testing.T, name string, bin string, args ...string) *proc {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(e.logs, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "=== %s started %s\n", time.Now().Format(time.TimeOnly), strings.Join(args, " "))
	cmd := exec.Command(filepath.Join(e.bin, bin), args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); _ = f.Close() }()
	t.Cleanup(func() { _ = p.stop(syscall.SIGKILL) })
	return p
}

// stop signals the process group and waits for it; it returns what the
// process returned, or nil if it had already stopped.
func (p *proc) stop(sig syscall.Signal) error {
	select {
	case err := <-p.done:
		p.done <- err
		return nil
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		err := <-p.done
		p.done <- err
		return err
	}
}

// startSim starts the simulator on the suite's port, keeping its state in
// stateFile, and waits until it answers.
func (e *env) startSim(t *testing.T, stateFile string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"--listen", "127.0.0.1:" + e.simPort, "--token", e.token, "--seed", "7", "--state-file", stateFile}, extra...)
	p := e.start(t, "authentik-sim", "authentik-sim", args...)
	waitUntil(t, "the simulator answers", 30*time.Second, time.Second/5, func() (bool, string) {
		resp, err := http.Get(e.simURL + "/_sim/counters")
		if err != nil {
			return false, err.Error()
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	return p
}

// startProvider starts provider process n (its own metrics and health ports).
func (e *env) startProvider(t *testing.T, n int) *proc {
	t.Helper()
	return e.start(t, fmt.Sprintf("provider-%d", n), "provider", "--debug",
		"--poll="+poll.String(), fmt.Sprintf("--max-reconcile-rate=%d", maxReconcileRate),
		// The hand-over test kills the leader: shorter than the default
		// lease, so that the follower takes over within its bound.
		"--leader-election", "--leader-election-namespace="+leaseNamespace,
		"--leader-election-lease-duration=15s", "--leader-election-renew-deadline=10s",
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", e.providerPortBase+2*n),
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", e.providerPortBase+2*n+1))
}

// waitUntil polls cond every interval until it holds or timeout passes.
func waitUntil(t *testing.T, what string, timeout, interval time.Duration, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	last := ""
	for time.Since(start) < timeout {
		ok, state := cond()
		if ok {
			return time.Since(start)
		}
		last = state
		time.Sleep(interval)
	}
	t.Fatalf("%s: not within %s; last state: %s", what, timeout, last)
	return 0
}

func (e *env) kubectl(stdin string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(e.root, "_output", "bin", "kubectl"), args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (e *env) mustKubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := e.kubectl(stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out
}

// leaseHolder is the identity holding the provider's leader Lease.
func (e *env) leaseHolder() string {
	out, err := e.kubectl("", "get", "lease", leaseName, "-n", leaseNamespace, "-o", "jsonpath={.spec.holderIdentity}")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// counts is the simulator's requests per operation since it started.
func (e *env) counts(t *testing.T) map[string]int {
	t.Helper()
	resp, err := http.Get(e.simURL + "/_sim/counters")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	counts := map[string]int{}
	if err := json.NewDecoder(resp.Body).Decode(&counts); err != nil {
		t.Fatal(err)
	}
	return counts
}

// requests is how many API requests the simulator has answered.
func (e *env) requests(t *testing.T) int {
	t.Helper()
	n := 0
	for _, c := range e.counts(t) {
		n += c
	}
	return n
}

func (e *env) ensureNamespace(t *testing.T, ns string) {
	t.Helper()
	e.mustKubectl(t, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+ns+"\n", "apply", "-f", "-")
}

// conditions maps "<kind>/<namespace>/<name>" of every object of kinds in
// ns ("" for all namespaces) to "<Ready> <Synced>" and its deletion mark.
func (e *env) conditions(t *testing.T, kinds, ns string) map[string]string {
	t.Helper()
	args := []string{"get", kinds, "-o", `jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name}={.status.conditions[?(@.type=="Ready")].status},{.status.conditions[?(@.type=="Synced")].status},{.metadata.deletionTimestamp}{"\n"}{end}`}
	if ns == "" {
		args = append(args, "-A")
	} else {
		args = append(args, "-n", ns)
	}
	out, err := e.kubectl("", args...)
	if err != nil {
		t.Logf("kubectl get %s: %v: %s", kinds, err, out)
		return nil
	}
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// notReady lists the objects whose Ready or Synced is not True (claims have
// no Synced of their own kind here, so only Ready counts for them).
func notReady(m map[string]string) []string {
	var out []string
	for k, v := range m {
		parts := strings.Split(v, ",")
		if parts[0] != "True" || (!strings.HasPrefix(k, "ProxyConfig/") && parts[1] != "True") || parts[2] != "" {
			out = append(out, k+"="+v)
		}
	}
	slices.Sort(out)
	return out
}

// snapshot is what Authentik holds, as the checks compare it.
type snapshot struct {
	Providers map[string][]int32  // name to pks
	Apps      map[string][]string // slug to the provider pk it uses, as text
	Bindings  map[string]int      // application slug to its policy bindings
	Embedded  []int32
}

// snapshot reads what Authentik holds of the claims called names (every
// provider, to see duplicates; applications by slug, as Authentik's list
// hides applications the caller is not admitted to).
func (e *env) snapshot(t *testing.T, names []string) snapshot {
	t.Helper()
	ctx := context.Background()
	s := snapshot{Providers: map[string][]int32{}, Apps: map[string][]string{}, Bindings: map[string]int{}}
	pl, resp, err := e.ak.API.ProvidersAPI.ProvidersProxyList(ctx).PageSize(1000).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	for _, p := range pl.Results {
		s.Providers[p.Name] = append(s.Providers[p.Name], p.Pk)
	}
	for _, name := range names {
		a, resp, err := e.ak.API.CoreAPI.CoreApplicationsRetrieve(ctx, name).Execute()
		err = authentik.Classify(resp, err)
		if authentik.IsNotFound(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		pk := "none"
		if p := a.Provider.Get(); p != nil {
			pk = fmt.Sprint(*p)
		}
		s.Apps[name] = []string{pk}
		bl, resp, err := e.ak.API.PoliciesAPI.PoliciesBindingsList(ctx).Target(a.Pk).PageSize(1000).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			t.Fatal(err)
		}
		if len(bl.Results) > 0 {
			s.Bindings[name] = len(bl.Results)
		}
	}
	ol, resp, err := e.ak.API.OutpostsAPI.OutpostsInstancesList(ctx).ManagedIexact(embeddedOutpost).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	if len(ol.Results) != 1 {
		t.Fatalf("Authentik has %d embedded outposts", len(ol.Results))
	}
	s.Embedded = slices.Sorted(slices.Values(ol.Results[0].Providers))
	return s
}

// checkClaims checks, from Authentik's state, that every claim made exactly
// one provider and one application using it, one policy binding per
// allowed group, and that its provider is on the embedded outpost.
func checkClaims(t *testing.T, s snapshot, claims map[string]int) {
	t.Helper()
	var bad []string
	for name, groups := range claims {
		pks := s.Providers[name]
		if len(pks) != 1 {
			bad = append(bad, fmt.Sprintf("%s: %d providers", name, len(pks)))
			continue
		}
		if apps := s.Apps[name]; len(apps) != 1 || apps[0] != fmt.Sprint(pks[0]) {
			bad = append(bad, fmt.Sprintf("%s: applications using providers %v, want one using %d", name, apps, pks[0]))
		}
		if s.Bindings[name] != groups {
			bad = append(bad, fmt.Sprintf("%s: %d policy bindings, want %d", name, s.Bindings[name], groups))
		}
		if !slices.Contains(s.Embedded, pks[0]) {
			bad = append(bad, fmt.Sprintf("%s: provider %d not on the embedded outpost", name, pks[0]))
		}
	}
	slices.Sort(bad)
	if len(bad) > 0 {
		t.Errorf("%d of %d claims are wrong in Authentik: %s", len(bad), len(claims), strings.Join(bad, "; "))
	}
}

// checkGone checks that Authentik holds nothing of the claims.
func checkGone(t *testing.T, s snapshot, names []string) {
	t.Helper()
	var left []string
	for _, n := range names {
		if len(s.Providers[n]) > 0 {
			left = append(left, "provider "+n)
		}
		if len(s.Apps[n]) > 0 {
			left = append(left, "application "+n)
		}
		if s.Bindings[n] > 0 {
			left = append(left, "bindings of "+n)
		}
	}
	if len(left) > 0 {
		t.Errorf("Authentik still holds: %s", strings.Join(left, "; "))
	}
}

func (e *env) newGroup(t *testing.T, name string) {
	t.Helper()
	_, resp, err := e.ak.API.CoreAPI.CoreGroupsCreate(context.Background()).GroupRequest(*api.NewGroupRequest(name)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
}
