//go:build e2e

package faults

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"

	"github.com/gitops-lifecycle/provider-authentik/cluster/e2e/claims"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// TestLeaderElection runs two provider processes against one API server:
// only the lease holder talks to Authentik, killing it hands over within
// 30 s, and 50 OutpostBindings created across the hand-over all land.
func TestLeaderElection(t *testing.T) {
	e := setup(t)
	e.startSim(t, filepath.Join(t.TempDir(), "state.jsonl"))
	const ns, count = "e2e-leader", 50
	e.ensureNamespace(t, ns)
	t.Cleanup(func() { _, _ = e.kubectl("", "delete", "namespace", ns, "--wait=false") })

	ctx := context.Background()
	authz, err := e.ak.FlowUUID(ctx, authentik.DefaultAuthorizationFlow)
	if err != nil {
		t.Fatal(err)
	}
	inval, err := e.ak.FlowUUID(ctx, authentik.DefaultInvalidationFlow)
	if err != nil {
		t.Fatal(err)
	}
	var pks []int32
	var docs []string
	for i := range count {
		name := fmt.Sprintf("e2e-leader-%02d", i)
		req := api.NewProxyProviderRequest(name, authz, inval, "https://"+name+".example.com")
		req.Mode = api.PROXYMODE_FORWARD_SINGLE.Ptr()
		p, resp, err := e.ak.API.ProvidersAPI.ProvidersProxyCreate(ctx).ProxyProviderRequest(*req).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			t.Fatal(err)
		}
		pks = append(pks, p.Pk)
		docs = append(docs, fmt.Sprintf("apiVersion: authentik.m.crossplane.io/v1alpha1\nkind: OutpostBinding\nmetadata: {name: %s, namespace: %s}\nspec:\n  forProvider: {providerId: %d}\n", name, ns, p.Pk))
	}

	stale := e.leaseHolder()
	leader := e.startProvider(t, 0)
	var first string
	waitUntil(t, "provider 0 holds the lease", 60*time.Second, time.Second/2, func() (bool, string) {
		first = e.leaseHolder()
		return first != "" && first != stale, first
	})
	e.startProvider(t, 1)
	time.Sleep(5 * time.Second) // the follower is up and trying to acquire

	e.mustKubectl(t, strings.Join(docs[:count/2], "---\n"), "apply", "-f", "-")
	time.Sleep(2 * time.Second) // the leader is mid-way through them
	killed := time.Now()
	_ = leader.stop(syscall.SIGKILL)
	e.mustKubectl(t, strings.Join(docs[count/2:], "---\n"), "apply", "-f", "-")

	// Only the follower runs now. Until it holds the lease it must not
	// call Authentik at all.
	time.Sleep(time.Second)
	quiet := e.requests(t)
	var second string
	waitUntil(t, "provider 1 takes the lease", 60*time.Second, 200*time.Millisecond, func() (bool, string) {
		second = e.leaseHolder()
		return second != "" && second != first, second
	})
	if n := e.requests(t) - quiet; n > 0 {
		t.Errorf("the follower made %d Authentik requests before it held the lease, want 0", n)
	}
	t.Logf("hand-over %s after the leader was killed (lease holder %s -> %s)", (time.Since(killed)).Round(100*time.Millisecond), first, second)
	if d := time.Since(killed); d > 30*time.Second+5*time.Second {
		t.Errorf("hand-over took %s, want within 30 s", d)
	}

	waitUntil(t, "50 OutpostBindings Ready", 5*time.Minute, 2*time.Second, func() (bool, string) {
		bad := notReady(e.conditions(t, "outpostbinding", ns))
		return len(bad) == 0, strings.Join(bad, " ")
	})
	s := e.snapshot(t, nil)
	var lost []int32
	for _, pk := range pks {
		if !slices.Contains(s.Embedded, pk) {
			lost = append(lost, pk)
		}
	}
	t.Logf("%d OutpostBindings created across the hand-over, %d providers lost from the embedded outpost", count, len(lost))
	if len(lost) > 0 {
		t.Errorf("providers %v are not on the embedded outpost", lost)
	}
	e.mustKubectl(t, "", "delete", "outpostbinding", "--all", "-n", ns, "--timeout=120s")
}

// TestOutage stops the simulator for E2E_OUTAGE (default 3m) while claims
// exist, and starts it again with the same state: nothing is deleted or
// made twice, conditions say Authentik is unreachable while it is down, and
// everything is Ready and Synced within two polls of its return.
func TestOutage(t *testing.T) {
	e := setup(t)
	outage := 3 * time.Minute
	if v := os.Getenv("E2E_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		outage = d
	}
	state := filepath.Join(t.TempDir(), "state.jsonl")
	sim := e.startSim(t, state)
	e.newGroup(t, "e2e-outage-admins")
	e.startProvider(t, 0)
	const ns, count = "e2e-outage", 20
	e.ensureNamespace(t, ns)
	t.Cleanup(func() { _, _ = e.kubectl("", "delete", "namespace", ns, "--wait=false") })
	groupsByClaim := map[string]int{}
	var docs []string
	for i := range count {
		name := fmt.Sprintf("e2e-outage-%02d", i)
		if i%5 == 0 {
			docs = append(docs, claims.ProxyConfig(ns, name, "e2e-outage-admins"))
			groupsByClaim[name] = 1
		} else {
			docs = append(docs, claims.ProxyConfig(ns, name))
			groupsByClaim[name] = 0
		}
	}
	e.mustKubectl(t, strings.Join(docs, "---\n"), "apply", "-f", "-")
	const kinds = "proxyconfig,managed"
	took := waitUntil(t, "20 claims Ready", 10*time.Minute, 2*time.Second, func() (bool, string) {
		m := e.conditions(t, kinds, ns)
		bad := notReady(m)
		return len(m) > count && len(bad) == 0, strings.Join(bad, " ")
	})
	t.Logf("20 claims Ready after %s", took.Round(time.Second))
	objects := e.conditions(t, kinds, ns)
	names := slices.Sorted(maps.Keys(groupsByClaim))
	before := e.snapshot(t, names)
	checkClaims(t, before, groupsByClaim)

	if err := sim.stop(syscall.SIGTERM); err != nil {
		t.Errorf("the simulator exited with %v", err)
	}
	down := time.Now()
	sawUnreachable, sawConfigUnreachable := false, false
	for time.Since(down) < outage {
		time.Sleep(10 * time.Second)
		now := e.conditions(t, kinds, ns)
		if diff := cmp.Diff(keys(objects), keys(now)); diff != "" {
			t.Fatalf("objects changed during the outage (-before, +now):\n%s", diff)
		}
		for k, v := range now {
			if !strings.HasSuffix(v, ",") {
				t.Fatalf("%s was marked deleted during the outage: %s", k, v)
			}
		}
		out, _ := e.kubectl("", "get", "managed", "-n", ns, "-o", `jsonpath={range .items[*]}{.status.conditions[?(@.type=="Synced")].message}{"\n"}{end}`)
		sawUnreachable = sawUnreachable || strings.Contains(out, "unreachable")
		pc, _ := e.kubectl("", "get", "clusterproviderconfig", "default", "-o", "jsonpath={.status.conditions}")
		sawConfigUnreachable = sawConfigUnreachable || strings.Contains(pc, "unreachable")
	}
	if !sawUnreachable {
		t.Errorf("no managed resource said Authentik is unreachable during the %s outage", outage)
	}
	if !sawConfigUnreachable {
		t.Errorf("the ClusterProviderConfig never said Authentik is unreachable during the %s outage", outage)
	}

	e.startSim(t, state)
	back := time.Now()
	managedCount := len(objects) - count
	limit := 2*poll + time.Duration(managedCount/maxReconcileRate+1)*time.Second
	waitUntil(t, "everything Ready and Synced after the outage", 5*time.Minute, time.Second, func() (bool, string) {
		bad := notReady(e.conditions(t, kinds, ns))
		return len(bad) == 0, strings.Join(bad, " ")
	})
	recovered := time.Since(back)
	t.Logf("outage %s; all %d claims and %d managed resources Ready and Synced %s after Authentik's return (limit: two polls of %s plus %d resources at %d/s = %s)",
		outage, count, managedCount, recovered.Round(100*time.Millisecond), poll, managedCount, maxReconcileRate, limit)
	if recovered > limit {
		t.Errorf("recovery took %s, want within %s", recovered, limit)
	}
	after := e.snapshot(t, names)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("Authentik's objects changed across the outage (-before, +after):\n%s", diff)
	}
	if c := e.writesOf(t, "create", "destroy"); c > 0 {
		t.Errorf("%d creates or deletes reached Authentik after its return, want 0", c)
	}
	e.deleteNamespaces(t, ns)
	checkGone(t, e.snapshot(t, names), names)
}

// TestFaults creates 100 claims (a fifth with allowedGroups) while a fifth
// of Authentik's answers are 5xx after 200 ms and a fifth of its creates
// lose their answer; kills the provider at random moments; stops and
// restarts the simulator; deletes a namespace mid-create. From Authentik's
// state: every claim has exactly one provider, application and binding per
// group, every provider is on the embedded outpost, and nothing is left
// after deletion.
func TestFaults(t *testing.T) {
	e := setup(t)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0)) //nolint:gosec // test timing only
	t.Logf("seed %d", seed)
	start := time.Now()
	state := filepath.Join(t.TempDir(), "state.jsonl")
	sim := e.startSim(t, state)
	for _, g := range []string{"e2e-faults-admins", "e2e-faults-ops"} {
		e.newGroup(t, g)
	}
	before := e.snapshot(t, nil).Embedded
	e.setFaults(t)
	prov := e.startProvider(t, 0)

	const namespaces = 5
	perNamespace := 20
	if v := os.Getenv("E2E_FAULTS_PER_NAMESPACE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("E2E_FAULTS_PER_NAMESPACE: %v", err)
		}
		perNamespace = n
	}
	liveClaims := (namespaces - 1) * perNamespace
	doomed := fmt.Sprintf("e2e-faults-%d", namespaces-1)
	groupsByClaim := map[string]int{}
	var doomedNames, all []string
	for n := range namespaces {
		ns := fmt.Sprintf("e2e-faults-%d", n)
		e.ensureNamespace(t, ns)
		t.Cleanup(func() { _, _ = e.kubectl("", "delete", "namespace", ns, "--wait=false") })
		var docs []string
		for i := range perNamespace {
			name := fmt.Sprintf("e2e-faults-%d-%02d", n, i)
			all = append(all, name)
			groups := 0
			if i%5 == 0 {
				docs = append(docs, claims.ProxyConfig(ns, name, "e2e-faults-admins", "e2e-faults-ops"))
				groups = 2
			} else {
				docs = append(docs, claims.ProxyConfig(ns, name))
			}
			if ns == doomed {
				doomedNames = append(doomedNames, name)
			} else {
				groupsByClaim[name] = groups
			}
		}
		e.mustKubectl(t, strings.Join(docs, "---\n"), "apply", "-f", "-")
	}
	pause := func() { time.Sleep(time.Duration(5+rng.IntN(20)) * time.Second) }
	restartProvider := func() {
		pause()
		t.Logf("%s: provider killed", time.Since(start).Round(time.Second))
		_ = prov.stop(syscall.SIGKILL)
		prov = e.startProvider(t, 0)
	}
	restartProvider()
	pause()
	t.Logf("%s: namespace %s deleted mid-create", time.Since(start).Round(time.Second), doomed)
	e.mustKubectl(t, "", "delete", "namespace", doomed, "--wait=false")
	restartProvider()
	pause()
	t.Logf("%s: simulator stopped", time.Since(start).Round(time.Second))
	if err := sim.stop(syscall.SIGTERM); err != nil {
		t.Errorf("the simulator exited with %v", err)
	}
	time.Sleep(15 * time.Second)
	e.startSim(t, state)
	e.setFaults(t)
	t.Logf("%s: simulator started again", time.Since(start).Round(time.Second))
	restartProvider()

	ready := 20 * time.Minute
	if v := os.Getenv("E2E_FAULTS_READY_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		ready = d
	}
	waitUntil(t, fmt.Sprintf("%d claims Ready and namespace %s gone", liveClaims, doomed), ready, 5*time.Second, func() (bool, string) {
		m := e.conditions(t, "proxyconfig,managed", "")
		var bad []string
		for _, k := range notReady(m) {
			if strings.Contains(k, "/e2e-faults-") {
				bad = append(bad, k)
			}
		}
		_, err := e.kubectl("", "get", "namespace", doomed)
		return len(bad) == 0 && err != nil, fmt.Sprintf("%d not ready: %s", len(bad), strings.Join(head(bad, 5), " "))
	})
	t.Logf("%s: %d claims Ready, %s gone", time.Since(start).Round(time.Second), liveClaims, doomed)
	e.clearFaults(t)
	s := e.snapshot(t, all)
	checkClaims(t, s, groupsByClaim)
	checkGone(t, s, doomedNames)

	var live []string
	for n := range namespaces - 1 {
		live = append(live, fmt.Sprintf("e2e-faults-%d", n))
	}
	e.deleteNamespaces(t, live...)
	s = e.snapshot(t, all)
	checkGone(t, s, all)
	if !slices.Equal(s.Embedded, before) {
		t.Errorf("embedded outpost serves %v after every claim was deleted, before them %v", s.Embedded, before)
	}
	t.Logf("%s: every namespace deleted, nothing left in Authentik", time.Since(start).Round(time.Second))
}

func head(s []string, n int) []string { return s[:min(n, len(s))] }

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// faultedOps are the operations the provider calls; creates lose a fifth
// of their answers after taking effect, everything else answers a fifth
// of calls with a 5xx after 200 ms.
var faultedOps = []string{
	"providers_proxy_list", "providers_proxy_retrieve", "providers_proxy_update", "providers_proxy_destroy",
	"core_applications_retrieve", "core_applications_update", "core_applications_destroy",
	"outposts_instances_list", "outposts_instances_retrieve", "outposts_instances_partial_update",
	"policies_bindings_list", "policies_bindings_retrieve", "policies_bindings_update", "policies_bindings_destroy",
	"core_groups_list", "flows_instances_list", "flows_instances_retrieve",
}

var createOps = []string{"providers_proxy_create", "core_applications_create", "policies_bindings_create"}

func (e *env) setFaults(t *testing.T) {
	t.Helper()
	for _, op := range faultedOps {
		e.control(t, http.MethodPut, "faults/"+op, `{"status": 503, "latency": "200ms", "probability": 0.2}`)
	}
	for _, op := range createOps {
		e.control(t, http.MethodPut, "faults/"+op, `{"status": 502, "after_handler": true, "probability": 0.2}`)
	}
}

func (e *env) clearFaults(t *testing.T) { t.Helper(); e.control(t, http.MethodDelete, "faults", "") }

func (e *env) control(t *testing.T, method, path, body string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, e.simURL+"/_sim/"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("%s /_sim/%s: %s", method, path, resp.Status)
	}
}

// writesOf counts the simulator's requests to operations whose id ends
// in one of the suffixes, since it last started.
func (e *env) writesOf(t *testing.T, suffixes ...string) int {
	t.Helper()
	n := 0
	for op, c := range e.counts(t) {
		for _, s := range suffixes {
			if strings.HasSuffix(op, "_"+s) {
				n += c
			}
		}
	}
	return n
}
