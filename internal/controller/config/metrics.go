package config

import (
	"context"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

// record puts what a check of the config found into the metrics: its
// health conditions, its Authentik version and, when Authentik can be
// used, the objects there that no managed resource owns.
func (r *HealthReconciler) record(ctx context.Context, key string, pc checkedConfig, h authentik.Health, cfgErr error) {
	status := func(t xpv2.ConditionType) string { return string(pc.GetCondition(t).Status) }
	r.conn.States().Configs.Set(key, metrics.ConfigState{
		Kind:             authentik.ConfigKind(pc),
		Reachable:        status(v1alpha1.TypeAuthentikReachable),
		TokenAccepted:    status(v1alpha1.TypeTokenAccepted),
		VersionSupported: status(v1alpha1.TypeVersionSupported),
		Version:          pc.GetAuthentikVersion(),
	})
	if cfgErr != nil || !h.Usable() || r.unmanaged == nil {
		return
	}
	url, counts, err := r.unmanaged.Count(ctx, pc)
	if err != nil {
		metrics.UnmanagedScanFailed()
		r.log.Debug("Cannot count the Authentik objects no managed resource owns", "config", key, "error", err)
		return
	}
	r.conn.States().Unmanaged.Set(key, metrics.UnmanagedScan{URL: url, Counts: counts, At: time.Now()})
}

// forget drops a config that is gone from the metrics: its Authentik's
// unmanaged objects stay counted while another config reaches it.
func (r *HealthReconciler) forget(key string) {
	r.conn.States().Configs.Forget(key)
	r.conn.States().Unmanaged.Forget(key)
	r.permsMu.Lock()
	delete(r.perms, key)
	r.permsMu.Unlock()
}
