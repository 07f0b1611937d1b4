package monitoring

import (
	"os"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

const (
	rulesFile     = "../../" + RulesFile
	ruleTestsFile = "rules_test.yaml"
	minRules      = 15
)

// ruleTests is the part of promtool's test file the checks read.
type ruleTests struct {
	Tests []struct {
		Name           string `json:"name"`
		AlertRuleTests []struct {
			Alertname string `json:"alertname"`
			ExpAlerts []any  `json:"exp_alerts"`
		} `json:"alert_rule_test"`
	} `json:"tests"`
}

func TestRulesAreComplete(t *testing.T) {
	pr, err := LoadRules(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if pr.APIVersion != "monitoring.coreos.com/v1" || pr.Kind != "PrometheusRule" {
		t.Errorf("%s is a %s %s, want a monitoring.coreos.com/v1 PrometheusRule", rulesFile, pr.APIVersion, pr.Kind)
	}
	alerts := pr.Alerts()
	if len(alerts) < minRules {
		t.Errorf("%d alert rules, want at least %d", len(alerts), minRules)
	}
	seen := map[string]bool{}
	for _, r := range alerts {
		if seen[r.Alert] {
			t.Errorf("alert %s is defined twice", r.Alert)
		}
		seen[r.Alert] = true
		if !slices.Contains([]string{"critical", "warning", "info"}, r.Labels["severity"]) {
			t.Errorf("alert %s: severity %q, want critical, warning or info", r.Alert, r.Labels["severity"])
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if r.Annotations[a] == "" {
				t.Errorf("alert %s has no %s annotation", r.Alert, a)
			}
		}
		if len(MetricNames(r.Expr)) == 0 {
			t.Errorf("alert %s: no metric found in %q", r.Alert, r.Expr)
		}
	}
}

// TestEveryRuleHasFiringAndQuietCases checks rules_test.yaml: each alert has
// a case where it fires and one where it does not, and no case names an
// alert that does not exist.
func TestEveryRuleHasFiringAndQuietCases(t *testing.T) {
	pr, err := LoadRules(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(ruleTestsFile)
	if err != nil {
		t.Fatal(err)
	}
	rt := ruleTests{}
	if err := yaml.Unmarshal(b, &rt); err != nil {
		t.Fatal(err)
	}
	type cases struct{ Firing, Quiet bool }
	got := map[string]cases{}
	for _, tc := range rt.Tests {
		for _, a := range tc.AlertRuleTests {
			c := got[a.Alertname]
			if len(a.ExpAlerts) > 0 {
				c.Firing = true
			} else {
				c.Quiet = true
			}
			got[a.Alertname] = c
		}
	}
	want := map[string]cases{}
	for _, r := range pr.Alerts() {
		want[r.Alert] = cases{Firing: true, Quiet: true}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alerts and their cases in %s, -want +got:\n%s", ruleTestsFile, diff)
	}
}

func TestMetricNames(t *testing.T) {
	cases := map[string]struct {
		expr string
		want []string
	}{
		"Selector":    {expr: `up{job="provider-authentik"} == 0`, want: []string{"up"}},
		"Aggregation": {expr: `sum by (operation) (rate(a_total{code_class=~"5xx|error"}[10m])) / sum by (operation) (rate(a_total[10m])) > 0.1`, want: []string{"a_total"}},
		"Joined": {
			expr: `process_resident_memory_bytes{job="p"} / go_gc_gomemlimit_bytes{job="p"} > 0.9 and go_gc_gomemlimit_bytes < 1e15`,
			want: []string{"go_gc_gomemlimit_bytes", "process_resident_memory_bytes"},
		},
		"Histogram":        {expr: `histogram_quantile(0.99, sum by (le, operation) (rate(d_bucket[$__rate_interval])))`, want: []string{"d_bucket"}},
		"GrafanaVariables": {expr: `sum(x{job="$job"}) by (kind) offset 5m`, want: []string{"x"}},
		"Absent":           {expr: `absent(up{job="provider-authentik"})`, want: []string{"up"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, MetricNames(tc.expr)); diff != "" {
				t.Errorf("MetricNames(%q), -want +got:\n%s", tc.expr, diff)
			}
		})
	}
}
