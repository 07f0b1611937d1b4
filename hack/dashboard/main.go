// Command dashboard writes provider-authentik's Grafana dashboard, built with
// grafana-foundation-sdk, into examples/gitops/infrastructure/monitoring: the
// dashboard's JSON (to import by hand) and a ConfigMap holding it (for
// Grafana's dashboard sidecar). main_test.go checks the committed files are
// what it writes; cluster/e2e checks the provider serves every metric its
// queries name. `go generate ./...` runs it, or by hand:
//
//	go run ./hack/dashboard
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

//go:generate go run . -root ../..

const (
	// OutputDir is where the files go, relative to the repository root.
	OutputDir = "examples/gitops/infrastructure/monitoring"
	// JSONFile and ConfigMapFile are the files written.
	JSONFile      = "dashboard.json"
	ConfigMapFile = "grafana-dashboard.yaml"

	uid = "provider-authentik"
	// job is the label the PodMonitor gives the provider's series.
	job = `job="provider-authentik"`
)

// datasource is the dashboard's Prometheus, chosen in a variable.
var datasource = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

func query(expr, legend string) cog.Builder[variants.Dataquery] {
	q := prometheus.NewDataqueryBuilder().Expr(expr).Datasource(datasource)
	if legend != "" {
		q = q.LegendFormat(legend)
	}
	return q
}

// alarming colours a stat red from threshold up.
func alarming(threshold float64) cog.Builder[dashboard.ThresholdsConfig] {
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
		{Value: nil, Color: "green"},
		{Value: cog.ToPtr(threshold), Color: "red"},
	})
}

func statPanel(title, description, expr, legend string, threshold float64) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Title(title).Description(description).Datasource(datasource).
		Height(4).Span(4).Thresholds(alarming(threshold)).WithTarget(query(expr, legend))
}

func graph(title, description, unit string, queries ...cog.Builder[variants.Dataquery]) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().Title(title).Description(description).Datasource(datasource).
		Height(8).Span(12).Unit(unit).Min(0)
	for _, q := range queries {
		p = p.WithTarget(q)
	}
	return p
}

// Build returns the dashboard.
func Build() (dashboard.Dashboard, error) { //nolint:staticcheck // The classic JSON model, which Grafana's file provisioning loads in every version we support.
	mr := `gvk=~"authentik\\.m\\.crossplane\\.io/.*"`
	//nolint:staticcheck // As Build's result type.
	b := dashboard.NewDashboardBuilder("provider-authentik").
		Uid(uid).
		Description("Crossplane provider for Authentik: its health, its managed resources, the Authentik API as it sees it, and its outposts' provider lists.").
		Tags([]string{"crossplane", "authentik"}).
		Refresh("1m").
		Time("now-6h", "now").
		Timezone(common.TimeZoneBrowser).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("Prometheus").Type("prometheus")).
		WithRow(dashboard.NewRowBuilder("Alerts at a glance")).
		WithPanel(statPanel("Applications open to everyone", "Applications whose PolicyBinding's group was deleted in Authentik, so they admit every user.",
			`sum(provider_authentik_applications_open_to_everyone{`+job+`})`, "", 1)).
		WithPanel(statPanel("Configs: Authentik unreachable", "Provider configs whose last check found Authentik unreachable.",
			`sum(provider_authentik_provider_configs{`+job+`,condition="AuthentikReachable",status="False"}) or vector(0)`, "", 1)).
		WithPanel(statPanel("Configs: token refused", "Provider configs whose token Authentik refuses.",
			`sum(provider_authentik_provider_configs{`+job+`,condition="TokenAccepted",status="False"}) or vector(0)`, "", 1)).
		WithPanel(statPanel("Unmanaged objects", "Proxy providers and applications in Authentik that no managed resource owns.",
			`sum by (kind) (provider_authentik_unmanaged_objects{`+job+`})`, "{{kind}}", 1)).
		WithPanel(statPanel("Authentik version", "The version each provider config's Authentik reports (number of configs).",
			`sum by (version) (provider_authentik_authentik_version_info{`+job+`})`, "{{version}}", 1e9)).
		WithPanel(statPanel("Uptime", "Time since the provider's process started.",
			`time() - max(process_start_time_seconds{`+job+`})`, "", 1e12).Unit("s")).
		WithRow(dashboard.NewRowBuilder("Managed resources")).
		WithPanel(graph("Not Ready, by kind", "Managed resources that exist but are not Ready.", "short",
			query(`sum by (gvk) (crossplane_managed_resource_exists{`+job+`,`+mr+`} - crossplane_managed_resource_ready{`+job+`,`+mr+`})`, "{{gvk}}"))).
		WithPanel(graph("Not Synced, by kind", "Managed resources that exist but are not Synced.", "short",
			query(`sum by (gvk) (crossplane_managed_resource_exists{`+job+`,`+mr+`} - crossplane_managed_resource_synced{`+job+`,`+mr+`})`, "{{gvk}}"))).
		WithPanel(graph("Reconciles", "Managed resource reconciles per second, by controller and result.", "ops",
			query(`sum by (controller, result) (rate(controller_runtime_reconcile_total{`+job+`,controller=~"managed/.*"}[$__rate_interval]))`, "{{controller}} {{result}}"))).
		WithPanel(graph("Oldest deletion waiting", "Age of the oldest managed resource of each kind whose deletion has not finished.", "s",
			query(`max by (kind) (provider_authentik_managed_resource_deletion_age_seconds{`+job+`})`, "{{kind}}"))).
		WithRow(dashboard.NewRowBuilder("Authentik API")).
		WithPanel(graph("Requests by status class", "Requests to Authentik per second, by status class.", "reqps",
			query(`sum by (code_class) (rate(provider_authentik_api_requests_total{`+job+`}[$__rate_interval]))`, "{{code_class}}"))).
		WithPanel(graph("Server errors by operation", "Share of each operation's requests answered 5xx or not at all.", "percentunit",
			query(`sum by (operation) (rate(provider_authentik_api_requests_total{`+job+`,code_class=~"5xx|error"}[$__rate_interval])) / sum by (operation) (rate(provider_authentik_api_requests_total{`+job+`}[$__rate_interval]))`, "{{operation}}"))).
		WithPanel(graph("Latency p99 by operation", "99th percentile of Authentik's answer time.", "s",
			query(`histogram_quantile(0.99, sum by (le, operation) (rate(provider_authentik_api_request_duration_seconds_bucket{`+job+`}[$__rate_interval])))`, "{{operation}}"))).
		WithPanel(graph("Retries", "Requests sent again after a transient failure, per second.", "reqps",
			query(`sum by (operation) (rate(provider_authentik_api_retries_total{`+job+`}[$__rate_interval]))`, "{{operation}}"))).
		WithRow(dashboard.NewRowBuilder("Outposts")).
		WithPanel(graph("Provider-list writes", "Writes of each outpost's provider list, and those made again after a read-back found them undone.", "short",
			query(`sum by (outpost) (increase(provider_authentik_outpost_provider_list_writes_total{`+job+`}[$__rate_interval]))`, "writes {{outpost}}"),
			query(`sum by (outpost) (increase(provider_authentik_outpost_provider_list_rewrites_total{`+job+`}[$__rate_interval]))`, "rewrites {{outpost}}"))).
		WithPanel(graph("Provider-list conflicts", "Read-backs that found another writer had replaced the list.", "short",
			query(`sum by (outpost) (increase(provider_authentik_outpost_provider_list_mismatches_total{`+job+`}[$__rate_interval]))`, "{{outpost}}"))).
		WithRow(dashboard.NewRowBuilder("Process")).
		WithPanel(graph("Memory", "Resident memory and the Go memory limit (GOMEMLIMIT, from the container's limit).", "bytes",
			query(`process_resident_memory_bytes{`+job+`}`, "resident {{pod}}"),
			query(`go_gc_gomemlimit_bytes{`+job+`} < 1e15`, "limit {{pod}}"))).
		WithPanel(graph("Reconcile errors", "Failed reconciles per second, by controller.", "ops",
			query(`sum by (controller) (rate(controller_runtime_reconcile_errors_total{`+job+`}[$__rate_interval]))`, "{{controller}}")))
	d, err := b.Build()
	return d, errors.Wrap(err, "cannot build the dashboard")
}

// Render returns the files to write: the dashboard's JSON and the
// ConfigMap holding it.
func Render() (map[string][]byte, error) {
	d, err := Build()
	if err != nil {
		return nil, err
	}
	js, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, errors.Wrap(err, "cannot encode the dashboard")
	}
	js = append(js, '\n')
	cm := map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]any{
			"name":      "grafana-dashboard-provider-authentik",
			"namespace": "crossplane-system",
			// Grafana's dashboard sidecar (kube-prometheus-stack) loads
			// ConfigMaps with this label.
			"labels": map[string]string{"grafana_dashboard": "1", "app.kubernetes.io/name": "provider-authentik"},
		},
		"data": map[string]string{"provider-authentik.json": string(js)},
	}
	y, err := yaml.Marshal(cm)
	if err != nil {
		return nil, errors.Wrap(err, "cannot encode the dashboard's ConfigMap")
	}
	header := []byte("# Generated by `go run ./hack/dashboard` from hack/dashboard/main.go. DO NOT EDIT.\n")
	return map[string][]byte{JSONFile: js, ConfigMapFile: append(header, y...)}, nil
}

func main() {
	root := flag.String("root", ".", "The repository root.")
	flag.Parse()
	files, err := Render()
	if err == nil {
		for name, b := range files {
			if err = os.WriteFile(filepath.Join(*root, OutputDir, name), b, 0o644); err != nil { //nolint:gosec // Files in the repository, readable by all.
				break
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s/{%s,%s}\n", OutputDir, JSONFile, ConfigMapFile)
}
