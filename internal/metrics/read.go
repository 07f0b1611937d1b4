package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Value returns the sum of the samples of the metric name on
// controller-runtime's registry whose labels include labels (a counter's or
// gauge's value, a histogram's count), and 0 when there are none. Tests use
// it to watch a metric move. prometheus/testutil reads one series of a
// collector; this sums over a subset of labels and reads the state gauges,
// which only the registry reaches.
func Value(name string, labels map[string]string) float64 {
	return valueIn(ctrlmetrics.Registry, name, labels)
}

func valueIn(g prometheus.Gatherer, name string, labels map[string]string) float64 {
	families, err := g.Gather()
	if err != nil {
		return 0
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	samples:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue samples
				}
			}
			switch {
			case m.GetCounter() != nil:
				total += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				total += m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				total += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return total
}
