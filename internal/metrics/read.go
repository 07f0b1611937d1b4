package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Value returns the sum of the samples of the metric name that g gathers
// whose labels include labels (a counter's or gauge's value, a histogram's
// count), and 0 when there are none. Tests use it to watch a metric move.
// prometheus/testutil reads one series of one collector; this sums over a
// subset of labels, across collectors.
func Value(g prometheus.Gatherer, name string, labels map[string]string) float64 {
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
