package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
)

// DeletionAges holds, per managed resource kind, how long its oldest
// resource has waited for its deletion to finish: 0 when none is being
// deleted.
var DeletionAges = newStateSet[float64](prometheus.NewDesc(NameDeletionAge,
	"Seconds since the oldest managed resource of the kind was asked to be deleted and still exists (0 when none is being deleted).", []string{labelKind}, nil),
	func(d *prometheus.Desc, states map[string]float64, ch chan<- prometheus.Metric) {
		for kind, age := range states {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, age, kind)
		}
	})

func init() { ctrlmetrics.Registry.MustRegister(DeletionAges) }

// A DeletionRecorder records DeletionAges for one kind every interval, from
// the manager's cache: it makes no request to Authentik and none to the API
// server beyond the informer the kind's controller already runs.
type DeletionRecorder struct {
	kube     client.Reader
	kind     string
	list     resource.ManagedList
	interval time.Duration
	now      func() time.Time
}

// NewDeletionRecorder returns a recorder for the kind whose empty list is
// list.
func NewDeletionRecorder(kube client.Reader, kind string, list resource.ManagedList, interval time.Duration) *DeletionRecorder {
	return &DeletionRecorder{kube: kube, kind: kind, list: list, interval: interval, now: time.Now}
}

// Start records until ctx ends; it implements manager.Runnable.
func (r *DeletionRecorder) Start(ctx context.Context) error {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		r.Record(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Record lists the kind once and records the age of its oldest deletion.
// A failed list leaves the last value.
func (r *DeletionRecorder) Record(ctx context.Context) {
	list, ok := r.list.DeepCopyObject().(resource.ManagedList)
	// Read only: the cache's own objects, not a copy of every resource of
	// the kind each interval.
	if !ok || r.kube.List(ctx, list, client.UnsafeDisableDeepCopy) != nil {
		return
	}
	oldest := 0.0
	for _, mg := range list.GetItems() {
		if ts := mg.GetDeletionTimestamp(); ts != nil {
			oldest = max(oldest, r.now().Sub(ts.Time).Seconds())
		}
	}
	DeletionAges.Set(r.kind, oldest)
}
