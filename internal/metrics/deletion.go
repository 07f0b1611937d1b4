package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
)

// A DeletionRecorder records, every interval, how long the oldest managed
// resource of one kind has waited for its deletion to finish (0 when none
// is being deleted), from the manager's cache: it makes no request to
// Authentik and none to the API server beyond the informer the kind's
// controller already runs. It is the collector of its kind's series.
type DeletionRecorder struct {
	prometheus.Gauge
	kube     client.Reader
	list     resource.ManagedList
	interval time.Duration
	now      func() time.Time
}

// NewDeletionRecorder returns a recorder for the kind whose empty list is
// list.
func NewDeletionRecorder(kube client.Reader, kind string, list resource.ManagedList, interval time.Duration) *DeletionRecorder {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        NameDeletionAge,
		Help:        "Seconds since the oldest managed resource of the kind was asked to be deleted and still exists (0 when none is being deleted).",
		ConstLabels: prometheus.Labels{labelKind: kind},
	})
	return &DeletionRecorder{Gauge: g, kube: kube, list: list, interval: interval, now: time.Now}
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
	r.Set(oldest)
}
