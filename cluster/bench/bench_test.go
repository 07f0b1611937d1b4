//go:build bench

// Package bench measures the provider as its users run it (make
// bench-scale): claims like the seed's ProxyConfig on the real
// kube-apiserver and Crossplane, the provider binary and the Authentik
// simulator. cluster/bench/run.sh brings the stack up and runs
// TestScale, which reads BENCH_N, BENCH_POLL, BENCH_PROVIDER_PID,
// BENCH_SIM_URL, BENCH_TOKEN, BENCH_ROOT, BENCH_OUT and KUBECONFIG.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	api "goauthentik.io/api/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

const (
	// prefix names every claim, provider and application the bench makes.
	prefix = "bench-"
	// groupsEvery is the share of claims with allowedGroups: one in five.
	groupsEvery     = 5
	steadyPolls     = 3
	embeddedOutpost = "goauthentik.io/outposts/embedded"
)

// groups are the allowedGroups of a share of the claims; they exist in
// Authentik before the claims do, as a claim's groups must.
var groups = []string{"bench editors", "bench-readers"}

var claimList = schema.GroupVersionKind{Group: "gitops.io", Version: "v1", Kind: "ProxyConfigList"}

type env struct {
	root, simURL, out string
	// pprofURL is the provider's /debug/pprof ("" when it serves none).
	pprofURL     string
	kubectlCache string
	n, pid       int
	// singles is how many claims the one-claim figures take the median
	// of (BENCH_SINGLES, default 5; 0 leaves those figures out).
	singles int
	poll    time.Duration
	kube    client.Client
	ak      *authentik.Client
}

func setup(t *testing.T) *env {
	t.Helper()
	for _, v := range []string{"BENCH_N", "BENCH_POLL", "BENCH_PROVIDER_PID", "BENCH_SIM_URL", "BENCH_TOKEN", "BENCH_ROOT", "KUBECONFIG"} {
		if os.Getenv(v) == "" {
			t.Fatalf("%s is not set: run cluster/bench/run.sh (make bench-scale)", v)
		}
	}
	e := &env{root: os.Getenv("BENCH_ROOT"), simURL: os.Getenv("BENCH_SIM_URL"), out: os.Getenv("BENCH_OUT"), pprofURL: os.Getenv("BENCH_PPROF_URL")}
	var err error
	if e.n, err = strconv.Atoi(os.Getenv("BENCH_N")); err != nil || e.n < 1 {
		t.Fatalf("BENCH_N=%q: want a positive number", os.Getenv("BENCH_N"))
	}
	e.kubectlCache = filepath.Join(e.root, "_output", "run", "bench-kubectl-cache")
	if err := os.RemoveAll(e.kubectlCache); err != nil {
		t.Fatal(err)
	}
	e.singles = 5
	if v := os.Getenv("BENCH_SINGLES"); v != "" {
		if e.singles, err = strconv.Atoi(v); err != nil || e.singles < 0 {
			t.Fatalf("BENCH_SINGLES=%q: want a number, 0 or more", v)
		}
	}
	if e.pid, err = strconv.Atoi(os.Getenv("BENCH_PROVIDER_PID")); err != nil {
		t.Fatal(err)
	}
	if e.poll, err = time.ParseDuration(os.Getenv("BENCH_POLL")); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.GetConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	if e.kube, err = client.New(cfg, client.Options{}); err != nil {
		t.Fatal(err)
	}
	if e.ak, err = authentik.New(authentik.Config{URL: e.simURL, Token: os.Getenv("BENCH_TOKEN")}, nil); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) kubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	// A discovery cache of its own: the one in $HOME is shared with every
	// local control plane on this port and may list kinds this one lacks.
	args = append([]string{"--cache-dir=" + e.kubectlCache}, args...)
	cmd := exec.Command(filepath.Join(e.root, "_output", "bin", "kubectl"), args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// claimDoc is a claim like the seed's (examples/proxyconfig), with the
// bench's groups when withGroups is set.
func claimDoc(ns, name string, withGroups bool) string {
	doc := fmt.Sprintf(`apiVersion: gitops.io/v1
kind: ProxyConfig
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  serviceName: %[1]s
  serviceNamespace: %[2]s
  externalHost: %[1]s.bench.example.com
  internalHost: http://%[1]s.%[2]s.svc.cluster.local:80
  authentikConfig:
    providerName: %[1]s
    mode: forward_single
`, name, ns)
	if withGroups {
		doc += "    allowedGroups: [" + strings.Join(groups, ", ") + "]\n"
	}
	return doc
}

// ready is the set of claims in ns that are Ready; it lists them
// in one request, as the bench must not load the API server it measures.
func (e *env) ready(t *testing.T, ns string) map[string]bool {
	t.Helper()
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(claimList)
	if err := e.kube.List(context.Background(), l, client.InNamespace(ns)); err != nil {
		t.Logf("list claims: %v", err)
		return nil
	}
	out := map[string]bool{}
	for _, c := range l.Items {
		conds, _, _ := unstructured.NestedSlice(c.Object, "status", "conditions")
		for _, ci := range conds {
			m, _ := ci.(map[string]any)
			if m["type"] == "Ready" && m["status"] == "True" {
				out[c.GetName()] = true
			}
		}
	}
	return out
}

// waitReady waits until every claim in names is Ready and returns how long
// each took from start.
func (e *env) waitReady(t *testing.T, ns string, names []string, start time.Time, timeout time.Duration, every time.Duration) []time.Duration {
	t.Helper()
	took := map[string]time.Duration{}
	for time.Since(start) < timeout {
		now := time.Since(start)
		for name := range e.ready(t, ns) {
			if _, seen := took[name]; !seen && slices.Contains(names, name) {
				took[name] = now
			}
		}
		if len(took) == len(names) {
			out := make([]time.Duration, 0, len(took))
			for _, d := range took {
				out = append(out, d)
			}
			slices.Sort(out)
			return out
		}
		// A provider that stopped (in a cluster its pod would restart)
		// leaves the rest waiting for nothing.
		if err := syscall.Kill(e.pid, 0); err != nil {
			t.Fatalf("%d of %d claims in %s Ready after %s, and the provider (pid %d) has stopped: see its log", len(took), len(names), ns, now, e.pid)
		}
		time.Sleep(every)
	}
	t.Fatalf("%d of %d claims in %s Ready after %s", len(took), len(names), ns, timeout)
	return nil
}

func (e *env) counts(t *testing.T, what string) map[string]int {
	t.Helper()
	resp, err := http.Get(e.simURL + "/_sim/" + what)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]int{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func (e *env) resetCounts(t *testing.T) {
	t.Helper()
	resp, err := http.Post(e.simURL+"/_sim/reset-counters", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
}

// rss is the provider's resident set size, and how much of it is memory
// the process allocated (anonymous) rather than its mapped binary (file).
func (e *env) rss(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.pid))
	if err != nil {
		t.Fatal(err)
	}
	kb := map[string]float64{}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[2] == "kB" {
			n, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatal(err)
			}
			kb[strings.TrimSuffix(f[0], ":")] = float64(n)
		}
	}
	if _, ok := kb["VmRSS"]; !ok {
		t.Fatal("no VmRSS in the provider's /proc status")
	}
	return fmt.Sprintf("%.0f MiB (anonymous %.0f, file %.0f)", kb["VmRSS"]/1024, kb["RssAnon"]/1024, kb["RssFile"]/1024)
}

// goMemory is how the provider's Go runtime holds its memory, from its
// heap profile's text form after a GC: the heap's live objects and what
// the GC lets the heap grow to, the goroutines' stacks, and how many
// goroutines there are. It tells memory in use from GC headroom; "" without
// a pprof URL. Read after the RSS, as the GC it forces may lower it.
func (e *env) goMemory(t *testing.T) string {
	t.Helper()
	if e.pprofURL == "" {
		return ""
	}
	text := func(what string) string {
		resp, err := http.Get(e.pprofURL + "/" + what)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	stats := map[string]float64{}
	for _, l := range strings.Split(text("heap?debug=1&gc=1"), "\n") {
		// Lines like "# HeapAlloc = 123" and "# Stack = 456 / 789".
		if f := strings.Fields(l); len(f) >= 4 && f[0] == "#" && f[2] == "=" {
			if n, err := strconv.ParseFloat(f[3], 64); err == nil {
				stats[f[1]] = n
			}
		}
	}
	var goroutines int
	if _, err := fmt.Sscanf(text("goroutine?debug=1"), "goroutine profile: total %d", &goroutines); err != nil {
		t.Fatalf("goroutine count: %v", err)
	}
	const mib = 1 << 20
	return fmt.Sprintf("heap %.0f MiB (GC goal %.0f), stacks %.0f MiB, %d goroutines",
		stats["HeapAlloc"]/mib, stats["NextGC"]/mib, stats["Stack"]/mib, goroutines)
}

// managed counts the managed resources in ns.
func (e *env) managed(t *testing.T, ns string) int {
	t.Helper()
	out := strings.TrimSpace(e.kubectl(t, "", "get", "managed", "-n", ns, "-o", "name"))
	if out == "" {
		return 0
	}
	return len(strings.Split(out, "\n"))
}

// left is what Authentik still holds of the bench: providers and
// applications named with its prefix, bindings of its groups, and its
// providers on the embedded outpost.
func (e *env) left(t *testing.T, groupPKs []string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	benchPKs := map[int32]bool{}
	for page := int32(1); page > 0; {
		l, resp, err := e.ak.API.ProvidersAPI.ProvidersProxyList(ctx).Page(page).PageSize(1000).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			t.Fatal(err)
		}
		for _, p := range l.Results {
			if strings.HasPrefix(p.Name, prefix) {
				out = append(out, "provider "+p.Name)
				benchPKs[p.Pk] = true
			}
		}
		page = int32(l.Pagination.Next)
	}
	for page := int32(1); page > 0; {
		l, resp, err := e.ak.API.CoreAPI.CoreApplicationsList(ctx).SuperuserFullList(true).Page(page).PageSize(1000).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			t.Fatal(err)
		}
		for _, a := range l.Results {
			if strings.HasPrefix(a.Slug, prefix) {
				out = append(out, "application "+a.Slug)
			}
		}
		page = int32(l.Pagination.Next)
	}
	for page := int32(1); page > 0; {
		l, resp, err := e.ak.API.PoliciesAPI.PoliciesBindingsList(ctx).Page(page).PageSize(1000).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			t.Fatal(err)
		}
		for _, b := range l.Results {
			if g := b.Group.Get(); g != nil && slices.Contains(groupPKs, *g) {
				out = append(out, "policy binding "+b.Pk)
			}
		}
		page = int32(l.Pagination.Next)
	}
	ol, resp, err := e.ak.API.OutpostsAPI.OutpostsInstancesList(ctx).ManagedIexact(embeddedOutpost).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	for _, o := range ol.Results {
		for _, pk := range o.Providers {
			if benchPKs[pk] {
				out = append(out, fmt.Sprintf("provider %d on the embedded outpost", pk))
			}
		}
	}
	return out
}

// profile saves the provider's profile named what (with query) beside the
// table, as <table>-<file>.pprof; it does nothing without a pprof URL or a
// table path. A profile that cannot be read is logged, not fatal: it is
// for reading, not a figure.
func (e *env) profile(t *testing.T, what, file string) {
	t.Helper()
	if e.pprofURL == "" || e.out == "" {
		return
	}
	resp, err := http.Get(e.pprofURL + "/" + what)
	if err != nil {
		t.Logf("profile %s: %v", what, err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Logf("profile %s: %d %v", what, resp.StatusCode, err)
		return
	}
	path := strings.TrimSuffix(e.out, ".md") + "-" + file + ".pprof"
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Logf("profile %s: %v", what, err)
		return
	}
	t.Logf("profile %s saved to %s", what, path)
}

// apiRequests are the kube-apiserver's request counters by verb and
// resource ("APPLY proxyconfigs", "PUT applications/status"), from its
// metrics; watches and the reads of caches are left out.
func (e *env) apiRequests(t *testing.T) map[string]int {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(e.kubectl(t, "", "get", "--raw", "/metrics")))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, m := range families["apiserver_request_total"].GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		switch l["verb"] {
		case "WATCH", "LIST", "GET":
			continue
		}
		key := l["verb"] + " " + l["resource"]
		if l["subresource"] != "" {
			key += "/" + l["subresource"]
		}
		counts[key] += int(m.GetCounter().GetValue())
	}
	return counts
}

// since is after minus before, by key, leaving out what did not grow.
func since(before, after map[string]int) map[string]int {
	d := map[string]int{}
	for k, n := range after {
		if n > before[k] {
			d[k] = n - before[k]
		}
	}
	return d
}

func percentile(ds []time.Duration, p int) time.Duration {
	i := (len(ds)*p+99)/100 - 1
	return ds[max(i, 0)]
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func TestScale(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	var groupPKs []string
	for _, g := range groups {
		grp, resp, err := e.ak.API.CoreAPI.CoreGroupsCreate(ctx).GroupRequest(*api.NewGroupRequest(g)).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			t.Fatal(err)
		}
		groupPKs = append(groupPKs, grp.Pk)
	}
	var rows [][2]string
	row := func(what, figure string) {
		rows = append(rows, [2]string{what, figure})
		t.Logf("%s: %s", what, figure)
	}

	// One claim at a time, plain and with allowedGroups.
	const one = "bench-one"
	e.kubectl(t, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+one+"\n", "apply", "-f", "-")
	for _, withGroups := range []bool{false, true} {
		if e.singles == 0 {
			break
		}
		var took []time.Duration
		for i := range e.singles {
			name := fmt.Sprintf("%ssingle-%t-%d", prefix, withGroups, i)
			start := time.Now()
			e.kubectl(t, claimDoc(one, name, withGroups), "apply", "-f", "-")
			took = append(took, e.waitReady(t, one, []string{name}, start, 5*time.Minute, 100*time.Millisecond)...)
			e.kubectl(t, "", "delete", "proxyconfig", name, "-n", one, "--wait=false")
		}
		slices.Sort(took)
		what := fmt.Sprintf("one claim Ready, p50 of %d", e.singles)
		if withGroups {
			what += ", with allowedGroups"
		}
		row(what, secs(percentile(took, 50)))
	}
	waitGone := func(ns string, timeout time.Duration) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for e.managed(t, ns) > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("managed resources left in %s after %s", ns, timeout)
			}
			time.Sleep(time.Second)
		}
	}
	waitGone(one, 5*time.Minute)

	// N claims at once.
	const ns = "bench-many"
	e.kubectl(t, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+ns+"\n", "apply", "-f", "-")
	var docs []string
	var names []string
	for i := range e.n {
		name := fmt.Sprintf("%s%04d", prefix, i)
		names = append(names, name)
		docs = append(docs, claimDoc(ns, name, i%groupsEvery == 0))
	}
	e.resetCounts(t)
	kubeBefore := e.apiRequests(t)
	start := time.Now()
	cpu := make(chan struct{})
	go func() {
		defer close(cpu)
		e.profile(t, "profile?seconds=30", "cpu")
	}()
	e.kubectl(t, strings.Join(docs, "---\n"), "apply", "-f", "-")
	took := e.waitReady(t, ns, names, start, 30*time.Minute, time.Second)
	<-cpu
	created := e.counts(t, "counters")
	t.Logf("calls until all Ready, by operation: %v", created)
	kubeWrites := since(kubeBefore, e.apiRequests(t))
	t.Logf("Kubernetes API writes until all Ready, by verb and resource: %v", kubeWrites)
	row(fmt.Sprintf("%d claims applied at once (1 in %d with allowedGroups), Ready p50", e.n, groupsEvery), secs(percentile(took, 50)))
	row(fmt.Sprintf("%d claims applied at once, Ready p100", e.n), secs(percentile(took, 100)))
	row("Authentik API calls per claim created (until all Ready)", fmt.Sprintf("%.1f (%d calls; writes %d)", float64(sum(created))/float64(e.n), sum(created), sum(e.counts(t, "writes"))))
	// Crossplane applies a composite each time it reconciles it.
	row("Kubernetes API writes per claim created (until all Ready; composite reconciles)",
		fmt.Sprintf("%.1f (%.1f)", float64(sum(kubeWrites))/float64(e.n), float64(kubeWrites["APPLY proxyconfigs"])/float64(e.n)))
	row("provider RSS after create", e.rss(t))

	// Steady state: a poll for late writes to land, then steadyPolls polls.
	mrs := e.managed(t, ns)
	time.Sleep(e.poll)
	e.resetCounts(t)
	time.Sleep(steadyPolls * e.poll)
	steady, writes := e.counts(t, "counters"), e.counts(t, "writes")
	row(fmt.Sprintf("steady state: API calls per managed resource per poll (%d MRs, %d polls of %s)", mrs, steadyPolls, e.poll),
		fmt.Sprintf("%.2f", float64(sum(steady))/float64(mrs*steadyPolls)))
	row("steady state: writes to Authentik (must be 0)", fmt.Sprintf("%d %v", sum(writes), writes))
	row("provider RSS in steady state", e.rss(t))
	if m := e.goMemory(t); m != "" {
		row("provider Go memory in steady state", m)
	}
	e.profile(t, "heap", "heap")
	if sum(writes) != 0 {
		t.Errorf("steady state: %d writes to Authentik in %d polls, want none: %v", sum(writes), steadyPolls, writes)
	}

	// Delete them all.
	start = time.Now()
	e.kubectl(t, "", "delete", "proxyconfig", "--all", "-n", ns, "--wait=false")
	waitGone(ns, 30*time.Minute)
	var left []string
	for {
		if left = e.left(t, groupPKs); len(left) == 0 || time.Since(start) > 30*time.Minute {
			break
		}
		time.Sleep(time.Second)
	}
	row(fmt.Sprintf("delete all %d, until nothing is left in Authentik", e.n), secs(time.Since(start)))
	if len(left) > 0 {
		t.Errorf("Authentik still holds %d objects of the bench: %v", len(left), left)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "| N=%d, poll %s | figure |\n|---|---|\n", e.n, e.poll)
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s |\n", r[0], r[1])
	}
	fmt.Println(b.String())
	if e.out != "" {
		if err := os.WriteFile(e.out, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
