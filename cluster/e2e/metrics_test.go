//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	api "goauthentik.io/api/v3"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/cluster/monitoring"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

// madeByPrometheus are series Prometheus adds to every target itself; the
// provider cannot serve them.
var madeByPrometheus = []string{"up"}

// poll is the --poll run.sh starts the provider with.
const poll = 5 * time.Second

// readsPerPoll is how often per poll the provider renews the list of a
// kind its resources share (authentik.SetReadAge is a quarter poll).
const readsPerPoll = 4

// scrape reads the running provider's metrics endpoint.
func scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(metricsURL(t)) //nolint:noctx // The local provider's metrics.
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// served returns the series names the families expose: a histogram's
// family serves its _bucket, _sum and _count series.
func served(families map[string]*dto.MetricFamily) map[string]bool {
	out := map[string]bool{}
	for name, f := range families {
		out[name] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				out[name+s] = true
			}
		}
	}
	return out
}

// value sums the samples of the metric name whose labels include labels.
func value(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f, ok := families[name]
	if !ok {
		return 0
	}
	total := 0.0
samples:
	for _, m := range f.GetMetric() {
		for k, v := range labels {
			if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == k && l.GetValue() == v }) {
				continue samples
			}
		}
		switch {
		case m.GetCounter() != nil:
			total += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			total += m.GetGauge().GetValue()
		}
	}
	return total
}

// TestMetricsServeWhatRulesAndDashboardUse scrapes the provider and checks
// that every metric the alert rules and the dashboard name is served, so a
// renamed metric fails here.
func TestMetricsServeWhatRulesAndDashboardUse(t *testing.T) {
	e := setup(t)
	pr, err := monitoring.LoadRules(filepath.Join(e.root, monitoring.RulesFile))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string][]string{}
	for _, r := range pr.Alerts() {
		for _, n := range monitoring.MetricNames(r.Expr) {
			used[n] = append(used[n], "alert "+r.Alert)
		}
	}
	exprs, err := monitoring.DashboardExprs(filepath.Join(e.root, "examples", "gitops", "infrastructure", "monitoring", "dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range exprs {
		for _, n := range monitoring.MetricNames(x) {
			used[n] = append(used[n], "dashboard")
		}
	}
	if len(used) < 10 {
		t.Fatalf("found only %d metric names in the rules and the dashboard: %v", len(used), used)
	}
	var have map[string]bool
	var missing []string
	// A histogram or a per-kind series appears with the first reconcile of
	// its kind; give the stack a few polls.
	eventually(t, "every metric the rules and the dashboard use is served", func() (bool, string) {
		have, missing = served(scrape(t)), nil
		for n, by := range used {
			if !have[n] && !slices.Contains(madeByPrometheus, n) {
				missing = append(missing, fmt.Sprintf("%s (used by %s)", n, strings.Join(slices.Compact(by), ", ")))
			}
		}
		slices.Sort(missing)
		return len(missing) == 0, strings.Join(missing, "; ")
	})
	t.Logf("the provider serves all %d metric names the rules and the dashboard use", len(used))
}

// simControl sends a request to the simulator's control API.
func simControl(t *testing.T, method, path string, body any) {
	t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequestWithContext(context.Background(), method, simURL()+"/_sim/"+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s /_sim/%s: %s", method, path, resp.Status)
	}
}

// TestAPIErrorCounterRisesOnFault makes the simulator answer 500 to lists
// of proxy providers (which the resources' shared reads and the scan for
// unmanaged objects make) and checks the provider counts server errors for
// that operation, and for no other.
func TestAPIErrorCounterRisesOnFault(t *testing.T) {
	setup(t)
	const op, other = "GET /providers/proxy/", "GET /core/groups/{group_uuid}/"
	serverErrors := func(f map[string]*dto.MetricFamily, op string) float64 {
		return value(f, metrics.NameAPIRequests, map[string]string{"operation": op, "code_class": "5xx"})
	}
	before := scrape(t)
	t.Cleanup(func() { simControl(t, http.MethodDelete, "faults", nil) })
	simControl(t, http.MethodPut, "faults/providers_proxy_list", map[string]any{"status": http.StatusInternalServerError, "times": 3})
	eventually(t, "the 5xx counter of "+op+" rises", func() (bool, string) {
		now := scrape(t)
		got := serverErrors(now, op) - serverErrors(before, op)
		return got >= 1, fmt.Sprintf("%v more 5xx answers counted", got)
	})
	after := scrape(t)
	if d := serverErrors(after, other) - serverErrors(before, other); d != 0 {
		t.Errorf("%v 5xx answers counted for %s, which the fault did not touch", d, other)
	}
	t.Logf("%s: 5xx %v -> %v", op, serverErrors(before, op), serverErrors(after, op))
}

// TestOpenApplicationMetric binds an application to a group by name, deletes
// the group in Authentik (which deletes the binding with it), and checks the
// open-application metric goes to 1, and back to 0 once the group returns.
func TestOpenApplicationMetric(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	const group, slug, binding = "metrics-e2e-users", "metrics-e2e-app", "metrics-e2e-binding"
	open := func() float64 { return value(scrape(t), metrics.NameOpenApplications, nil) }
	base := open()

	makeGroup := func() string {
		g, resp, err := e.ak.API.CoreAPI.CoreGroupsCreate(ctx).GroupRequest(*api.NewGroupRequest(group)).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			t.Fatal(err)
		}
		return g.Pk
	}
	groupID := makeGroup()
	app, resp, err := e.ak.API.CoreAPI.CoreApplicationsCreate(ctx).ApplicationRequest(*api.NewApplicationRequest(slug, slug)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = e.kubectl("", "delete", "policybinding", binding, "-n", exampleNamespace, "--wait=true", "--timeout=60s")
		_, _ = e.ak.API.CoreAPI.CoreApplicationsDestroy(context.Background(), slug).Execute()
		if l, _, err := e.ak.API.CoreAPI.CoreGroupsList(context.Background()).Name(group).Execute(); err == nil {
			for _, g := range l.Results {
				_, _ = e.ak.API.CoreAPI.CoreGroupsDestroy(context.Background(), g.Pk).Execute()
			}
		}
	})
	e.mustKubectl(t, fmt.Sprintf(`apiVersion: authentik.m.crossplane.io/v1alpha1
kind: PolicyBinding
metadata:
  name: %s
  namespace: %s
spec:
  forProvider:
    application: %s
    groupName: %s
    order: 0
  providerConfigRef:
    kind: ClusterProviderConfig
    name: default
`, binding, exampleNamespace, app.Pk, group), "apply", "-f", "-")
	e.mustKubectl(t, "", "wait", "--for=condition=Ready", "policybinding/"+binding, "-n", exampleNamespace, "--timeout=90s")
	if got := open(); got != base {
		t.Fatalf("%s is %v with the binding in place, want %v", metrics.NameOpenApplications, got, base)
	}

	if resp, err := e.ak.API.CoreAPI.CoreGroupsDestroy(ctx, groupID).Execute(); authentik.Classify(resp, err) != nil {
		t.Fatal(authentik.Classify(resp, err))
	}
	eventually(t, "the open-application metric counts the application", func() (bool, string) {
		got := open()
		return got == base+1, fmt.Sprintf("%s = %v, want %v", metrics.NameOpenApplications, got, base+1)
	})

	makeGroup()
	eventually(t, "the open-application metric drops once the group is back", func() (bool, string) {
		got := open()
		return got == base, fmt.Sprintf("%s = %v, want %v", metrics.NameOpenApplications, got, base)
	})
}

// TestUnmanagedProviderMetric makes a proxy provider directly in Authentik
// and checks the unmanaged-objects metric counts it within one poll, and
// forgets it once it is deleted.
func TestUnmanagedProviderMetric(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	unmanaged := func() float64 {
		return value(scrape(t), metrics.NameUnmanagedObjects, map[string]string{"kind": "ProxyProvider"})
	}
	// Wait for one scan after the tests before this one settled.
	time.Sleep(2 * poll)
	base := unmanaged()
	authz, err := e.ak.FlowUUID(ctx, "default-provider-authorization-implicit-consent")
	if err != nil {
		t.Fatal(err)
	}
	inval, err := e.ak.FlowUUID(ctx, "default-provider-invalidation-flow")
	if err != nil {
		t.Fatal(err)
	}
	req := api.NewProxyProviderRequest("metrics-e2e-unmanaged", authz, inval, "https://unmanaged.example.com")
	req.Mode = api.PROXYMODE_FORWARD_SINGLE.Ptr()
	p, resp, err := e.ak.API.ProvidersAPI.ProvidersProxyCreate(ctx).ProxyProviderRequest(*req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	created := time.Now()
	deleted := false
	t.Cleanup(func() {
		if !deleted {
			_, _ = e.ak.API.ProvidersAPI.ProvidersProxyDestroy(context.Background(), p.Pk).Execute()
		}
	})
	waitUntil(t, "the unmanaged-objects metric counts the provider", 2*poll, func() (bool, string) {
		got := unmanaged()
		return got == base+1, fmt.Sprintf("%s{kind=ProxyProvider} = %v, want %v", metrics.NameUnmanagedObjects, got, base+1)
	})
	t.Logf("counted %s after %s (poll %s)", "metrics-e2e-unmanaged", time.Since(created).Round(100*time.Millisecond), poll)

	if resp, err := e.ak.API.ProvidersAPI.ProvidersProxyDestroy(ctx, p.Pk).Execute(); authentik.Classify(resp, err) != nil {
		t.Fatal(authentik.Classify(resp, err))
	}
	deleted = true
	waitUntil(t, "the unmanaged-objects metric forgets the deleted provider", 2*poll, func() (bool, string) {
		got := unmanaged()
		return got == base, fmt.Sprintf("%s{kind=ProxyProvider} = %v, want %v", metrics.NameUnmanagedObjects, got, base)
	})
}

// TestAPICallsPerPoll counts the requests the simulator receives over a few
// polls in the steady state and checks that reading Authentik costs lists
// per kind and config, not one request per resource: the scan for
// unmanaged objects one list per kind per config and poll, the resources'
// shared reads one per kind and config per read age (a quarter poll).
func TestAPICallsPerPoll(t *testing.T) {
	e := setup(t)
	const polls = 6
	counters := func() map[string]int {
		resp, err := http.Get(simURL() + "/_sim/counters")
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
	configs := func() int {
		cl, nl := &v1alpha1.ClusterProviderConfigList{}, &v1alpha1.ProviderConfigList{}
		if err := e.kube.List(context.Background(), cl); err != nil {
			t.Fatal(err)
		}
		if err := e.kube.List(context.Background(), nl); err != nil {
			t.Fatal(err)
		}
		return len(cl.Items) + len(nl.Items)
	}
	simControl(t, http.MethodPost, "reset-counters", nil)
	time.Sleep(polls * poll)
	got, n := counters(), configs()
	total := 0
	for _, c := range got {
		total += c
	}
	mrs := value(scrape(t), "crossplane_managed_resource_exists", nil)
	t.Logf("over %d polls (%s each), %v managed resources, %d provider configs: %d requests (%.1f per poll); by operation: %v",
		polls, poll, mrs, n, total, float64(total)/polls, got)
	for _, op := range []string{"providers_proxy_list", "core_applications_list"} {
		if most := n * (polls + 1) * (1 + readsPerPoll); got[op] > most {
			t.Errorf("%s called %d times in %d polls with %d configs, want at most %d (one scan and %d shared reads per config and poll)", op, got[op], polls, n, most, readsPerPoll)
		}
	}
}
