package proxyprovider

import (
	"context"
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"

	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// BenchmarkObserveUpToDate measures the steady state: one poll of a
// provider that matches its spec. With the flow cache and the shared list
// of providers warm it costs no API call until the list is older than the
// read age.
func BenchmarkObserveUpToDate(b *testing.B) {
	env := mrtest.New(b)
	cr := proxyProvider()
	e := providers.External(env.Authentik)
	if _, err := e.Create(context.Background(), cr); err != nil {
		b.Fatal(err)
	}
	if _, err := e.Observe(context.Background(), cr); err != nil {
		b.Fatal(err)
	}
	env.Sim.ResetCounts()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		obs, err := e.Observe(context.Background(), cr)
		if err != nil || !obs.ResourceUpToDate {
			b.Fatalf("Observe: %v, up to date %v, diff %s", err, obs.ResourceUpToDate, obs.Diff)
		}
	}
	b.StopTimer()
	calls := 0
	for _, n := range env.Sim.Counts() {
		calls += n
	}
	b.ReportMetric(float64(calls)/float64(b.N), "api-calls/op")
	if meta.GetExternalName(cr) == "" {
		b.Fatal("no external name after create")
	}
}
