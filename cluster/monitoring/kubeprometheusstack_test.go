package monitoring

import (
	"bufio"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

const (
	monitoringDir = "../../examples/gitops/infrastructure/monitoring/"
	// runbookBase is where every runbook_url points: a file of this
	// repository, as GitHub shows it.
	runbookBase = "https://github.com/gitops-lifecycle/provider-authentik/blob/main/"
	// kpsRelease is the Helm release name the manifests assume, the chart's
	// own name as its README installs it.
	kpsRelease = "kube-prometheus-stack"
)

// The selectors kube-prometheus-stack's default values give its Prometheus
// and its Grafana dashboard sidecar (chart 88.5.3):
// templates/prometheus/prometheus.yaml selects PodMonitors and
// PrometheusRules by `release: <release name>` while
// podMonitorSelectorNilUsesHelmValues and ruleSelectorNilUsesHelmValues are
// true (their defaults), and values.yaml's grafana.sidecar.dashboards loads
// ConfigMaps labelled grafana_dashboard: "1" from every namespace
// (searchNamespace: ALL).
var (
	kpsReleaseSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"release": kpsRelease}}
	kpsSidecarSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"grafana_dashboard": "1"}}
)

type object struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
}

func TestKubePrometheusStackSelects(t *testing.T) {
	cases := map[string]struct {
		reason   string
		file     string
		kind     string
		selector *metav1.LabelSelector
	}{
		"PodMonitor": {
			reason:   "Prometheus must scrape the provider.",
			file:     "podmonitor.yaml",
			kind:     "monitoring.coreos.com/v1 PodMonitor",
			selector: kpsReleaseSelector,
		},
		"PrometheusRule": {
			reason:   "Prometheus must load the alert rules.",
			file:     "prometheusrule.yaml",
			kind:     "monitoring.coreos.com/v1 PrometheusRule",
			selector: kpsReleaseSelector,
		},
		"DashboardConfigMap": {
			reason:   "Grafana's sidecar must load the dashboard.",
			file:     "grafana-dashboard.yaml",
			kind:     "v1 ConfigMap",
			selector: kpsSidecarSelector,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(monitoringDir + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			o := object{}
			if err := yaml.Unmarshal(b, &o); err != nil {
				t.Fatal(err)
			}
			if got := o.APIVersion + " " + o.Kind; got != tc.kind {
				t.Fatalf("%s is a %s, want a %s: %s", tc.file, got, tc.kind, tc.reason)
			}
			sel, err := metav1.LabelSelectorAsSelector(tc.selector)
			if err != nil {
				t.Fatal(err)
			}
			if !sel.Matches(labels.Set(o.Metadata.Labels)) {
				t.Errorf("%s's labels %v do not match kube-prometheus-stack's default selector %s: %s", tc.file, o.Metadata.Labels, sel, tc.reason)
			}
		})
	}
}

// anchorID matches an explicit anchor, <a id="...">, in Markdown.
var anchorID = regexp.MustCompile(`<a id="([^"]+)"></a>`)

// TestRunbookURLs checks every alert's runbook_url leads to a line of this
// repository that names the alert: a file that exists, and in it an explicit
// anchor on a line naming the alert.
func TestRunbookURLs(t *testing.T) {
	pr, err := LoadRules(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range pr.Alerts() {
		t.Run(r.Alert, func(t *testing.T) {
			raw := r.Annotations["runbook_url"]
			if raw == "" {
				t.Fatalf("alert %s has no runbook_url annotation", r.Alert)
			}
			if _, ok := r.Annotations["runbook"]; ok {
				t.Errorf("alert %s has a runbook annotation; the convention is runbook_url", r.Alert)
			}
			if !strings.HasPrefix(raw, runbookBase) {
				t.Fatalf("alert %s: runbook_url %q is not under %s", r.Alert, raw, runbookBase)
			}
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			file := path.Join("../..", strings.TrimPrefix(u.Path, "/gitops-lifecycle/provider-authentik/blob/main/"))
			f, err := os.Open(file)
			if err != nil {
				t.Fatalf("alert %s: runbook_url %q: %v", r.Alert, raw, err)
			}
			defer func() { _ = f.Close() }()
			s := bufio.NewScanner(f)
			s.Buffer(nil, 1<<20)
			for s.Scan() {
				for _, m := range anchorID.FindAllStringSubmatch(s.Text(), -1) {
					if m[1] != u.Fragment {
						continue
					}
					if !strings.Contains(s.Text(), "`"+r.Alert+"`") {
						t.Errorf("alert %s: the anchor %q in %s is on a line that does not name the alert: %s", r.Alert, u.Fragment, file, s.Text())
					}
					return
				}
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			t.Errorf("alert %s: runbook_url %q: no anchor %q in %s", r.Alert, raw, u.Fragment, file)
		})
	}
}
