package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-lifecycle/provider-authentik/cluster/monitoring"
)

// TestCommittedDashboardIsUpToDate fails when the committed dashboard is not
// what the generator writes: run `go run ./hack/dashboard`.
func TestCommittedDashboardIsUpToDate(t *testing.T) {
	files, err := Render()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", "..", OutputDir, name)) //nolint:gosec // The generator's own output files.
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s/%s is not what hack/dashboard writes; run `go run ./hack/dashboard`. -generated +committed:\n%s", OutputDir, name, diff)
		}
	}
}

// TestEveryPanelQueriesAMetric checks each query names a metric and uses the
// dashboard's datasource variable.
func TestEveryPanelQueriesAMetric(t *testing.T) {
	exprs, err := monitoring.DashboardExprs(filepath.Join("..", "..", OutputDir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(exprs) < 10 {
		t.Errorf("%d queries in the dashboard, want at least 10", len(exprs))
	}
	for _, e := range exprs {
		if len(monitoring.MetricNames(e)) == 0 {
			t.Errorf("query %q names no metric", e)
		}
	}
}
