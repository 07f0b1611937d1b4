package config

import (
	"context"
	"sync"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

// record puts what a check of the config found into the metrics: its
// health conditions, its Authentik version and, when Authentik can be
// used, the objects there that no managed resource owns.
func (r *HealthReconciler) record(ctx context.Context, key string, pc CheckedConfig, h authentik.Health, cfgErr error) {
	status := func(t xpv2.ConditionType) string { return string(pc.GetCondition(t).Status) }
	metrics.Configs.Set(key, metrics.ConfigState{
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
	// Configs that reach one Authentik count its objects once.
	metrics.Unmanaged.Set(url, counts)
	r.scanned.set(key, url)
}

// forget drops a config that is gone from the metrics, and its
// Authentik's unmanaged objects when no other config reaches it.
func (r *HealthReconciler) forget(key string) {
	metrics.Configs.Forget(key)
	if url, last := r.scanned.drop(key); last {
		metrics.Unmanaged.Forget(url)
	}
}

// scannedURLs remembers which Authentik each config's last scan counted.
// One is shared by the health reconcilers of both config kinds.
type scannedURLs struct {
	mu   sync.Mutex
	urls map[string]string
}

var scanned = &scannedURLs{urls: map[string]string{}}

func (s *scannedURLs) set(key, url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.urls[key] = url
}

// drop forgets key and returns its URL, and whether no other key has it.
func (s *scannedURLs) drop(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	url, ok := s.urls[key]
	if !ok {
		return "", false
	}
	delete(s.urls, key)
	for _, u := range s.urls {
		if u == url {
			return url, false
		}
	}
	return url, true
}
