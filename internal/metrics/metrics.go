// Package metrics holds the provider's own Prometheus metrics, registered on
// controller-runtime's registry so the manager serves them beside its own
// and crossplane-runtime's at --metrics-bind-address. Every label set is
// bounded: operations come from Authentik's route templates, kinds and
// states from fixed lists, and no label holds a user resource's name except
// the outpost one, since outposts are few and each is worth watching alone.
package metrics

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The names of the provider's metrics. The alert rules, the dashboard and
// the end-to-end test refer to them.
const (
	NameAPIRequests            = "provider_authentik_api_requests_total"
	NameAPIRequestDuration     = "provider_authentik_api_request_duration_seconds"
	NameAPIRetries             = "provider_authentik_api_retries_total"
	NameOutpostListWrites      = "provider_authentik_outpost_provider_list_writes_total"
	NameOutpostListMismatches  = "provider_authentik_outpost_provider_list_mismatches_total"
	NameOutpostListRewrites    = "provider_authentik_outpost_provider_list_rewrites_total"
	NameOpenApplications       = "provider_authentik_applications_open_to_everyone"
	NameConfigs                = "provider_authentik_provider_configs"
	NameAuthentikVersion       = "provider_authentik_authentik_version_info"
	NameUnmanagedObjects       = "provider_authentik_unmanaged_objects"
	NameUnmanagedScanErrors    = "provider_authentik_unmanaged_scan_errors_total"
	NameDeletionAge            = "provider_authentik_managed_resource_deletion_age_seconds"
	labelOperation             = "operation"
	labelCodeClass             = "code_class"
	labelOutpost               = "outpost"
	labelKind                  = "kind"
	labelCondition             = "condition"
	labelStatus                = "status"
	labelVersion               = "version"
	codeClassTransportError    = "error"
	unmanagedProxyProviderKind = "ProxyProvider"
	unmanagedApplicationKind   = "Application"
)

// UnmanagedKinds are the Authentik object kinds checked for objects no
// managed resource owns.
var UnmanagedKinds = []string{unmanagedProxyProviderKind, unmanagedApplicationKind}

var (
	apiRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: NameAPIRequests,
		Help: "Requests sent to Authentik's API, by operation (method and route template) and status class (2xx, 4xx, 5xx, or error when no answer came).",
	}, []string{labelOperation, labelCodeClass})
	apiRequestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    NameAPIRequestDuration,
		Help:    "Time Authentik took to answer one request, by operation.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{labelOperation})
	apiRetries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: NameAPIRetries,
		Help: "Requests to Authentik's API sent again after a transient failure, by operation.",
	}, []string{labelOperation})

	outpostListWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: NameOutpostListWrites,
		Help: "Writes of an outpost's provider list, by outpost UUID.",
	}, []string{labelOutpost})
	outpostListMismatches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: NameOutpostListMismatches,
		Help: "Provider-list writes whose read-back lacked the change (another writer replaced the list), by outpost UUID.",
	}, []string{labelOutpost})
	outpostListRewrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: NameOutpostListRewrites,
		Help: "Provider-list writes made again because a read-back lacked the change, by outpost UUID.",
	}, []string{labelOutpost})

	unmanagedScanErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: NameUnmanagedScanErrors,
		Help: "Scans for Authentik objects no managed resource owns that failed.",
	})
)

// States are the gauges computed from one state per resource or config.
// The connector owns them, and cmd/provider registers them once.
type States struct {
	// OpenApplications counts PolicyBindings whose group, and with it the
	// binding, is gone while their application has no other enabled
	// binding: the application admits every user.
	OpenApplications *stateSet[bool]
	// Configs holds what the last health check of each provider config
	// found.
	Configs *configSet
	// Unmanaged holds, per provider config, the last scan of its Authentik
	// for objects that no managed resource owns. Configs that reach one
	// Authentik count its objects once, from the latest of their scans.
	Unmanaged *stateSet[UnmanagedScan]
}

// NewStates returns states that hold nothing yet.
func NewStates() *States {
	return &States{
		OpenApplications: newStateSet[bool](prometheus.NewDesc(NameOpenApplications,
			"Applications open to every user although a PolicyBinding meant to restrict them (its group was deleted in Authentik).", nil, nil),
			func(d *prometheus.Desc, states map[string]bool, ch chan<- prometheus.Metric) {
				n := 0
				for _, open := range states {
					if open {
						n++
					}
				}
				ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(n))
			}),
		Configs: newConfigSet(),
		Unmanaged: newStateSet[UnmanagedScan](prometheus.NewDesc(NameUnmanagedObjects,
			"Objects in Authentik that no managed resource owns (their sum over provider configs), by kind; from a scan once per poll per provider config.", []string{labelKind}, nil),
			func(d *prometheus.Desc, states map[string]UnmanagedScan, ch chan<- prometheus.Metric) {
				latest := map[string]UnmanagedScan{}
				for _, s := range states {
					if l, ok := latest[s.URL]; !ok || s.At.After(l.At) {
						latest[s.URL] = s
					}
				}
				for _, k := range UnmanagedKinds {
					n := 0
					for _, s := range latest {
						n += s.Counts[k]
					}
					ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(n), k)
				}
			}),
	}
}

// Collectors are the states as Prometheus collectors, to register.
func (s *States) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.OpenApplications, s.Configs, s.Unmanaged}
}

// An UnmanagedScan is what one scan of an Authentik found.
type UnmanagedScan struct {
	// URL of the Authentik scanned.
	URL string
	// Counts are the objects no managed resource owns, by kind.
	Counts map[string]int
	// At is when the scan ended.
	At time.Time
}

func init() {
	ctrlmetrics.Registry.MustRegister(apiRequests, apiRequestDuration, apiRetries,
		outpostListWrites, outpostListMismatches, outpostListRewrites,
		unmanagedScanErrors)
}

// A stateSet is a gauge computed from one state per key (a resource or a
// config, by UID or name). The keys never become labels: collect turns the
// states into a bounded set of series.
type stateSet[T any] struct {
	desc    *prometheus.Desc
	collect func(*prometheus.Desc, map[string]T, chan<- prometheus.Metric)

	mu     sync.Mutex
	states map[string]T
}

func newStateSet[T any](d *prometheus.Desc, collect func(*prometheus.Desc, map[string]T, chan<- prometheus.Metric)) *stateSet[T] {
	return &stateSet[T]{desc: d, collect: collect, states: map[string]T{}}
}

// Set records the state of key.
func (s *stateSet[T]) Set(key string, v T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states[key] = v
}

// Forget drops key, for a resource or config that is gone.
func (s *stateSet[T]) Forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.states, key)
}

// Reset drops every state, so that a test starts from none.
func (s *stateSet[T]) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.states)
}

// Describe implements prometheus.Collector.
func (s *stateSet[T]) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

// Collect implements prometheus.Collector.
func (s *stateSet[T]) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	states := maps.Clone(s.states)
	s.mu.Unlock()
	s.collect(s.desc, states, ch)
}

// A ConfigState is what one health check of a provider config found. The
// conditions hold "True", "False" or "Unknown", as the config's status does.
type ConfigState struct {
	// Kind is ProviderConfig or ClusterProviderConfig.
	Kind             string
	Reachable        string
	TokenAccepted    string
	VersionSupported string
	// Version is the Authentik version, "" when unknown.
	Version string
}

// The conditions a ConfigState reports, as named in a config's status.
const (
	ConditionReachable        = "AuthentikReachable"
	ConditionTokenAccepted    = "TokenAccepted"
	ConditionVersionSupported = "VersionSupported"
)

type configSet struct {
	*stateSet[ConfigState]
	versionDesc *prometheus.Desc
}

func newConfigSet() *configSet {
	c := &configSet{versionDesc: prometheus.NewDesc(NameAuthentikVersion,
		"Provider configs whose Authentik reports this version.", []string{labelVersion}, nil)}
	c.stateSet = newStateSet[ConfigState](prometheus.NewDesc(NameConfigs,
		"Provider configs by kind and by the status of each health condition.", []string{labelKind, labelCondition, labelStatus}, nil),
		c.collectStates)
	return c
}

// Describe implements prometheus.Collector.
func (c *configSet) Describe(ch chan<- *prometheus.Desc) {
	c.stateSet.Describe(ch)
	ch <- c.versionDesc
}

func (c *configSet) collectStates(d *prometheus.Desc, states map[string]ConfigState, ch chan<- prometheus.Metric) {
	type series struct{ kind, cond, status string }
	counts := map[series]int{}
	versions := map[string]int{}
	for _, s := range states {
		counts[series{s.Kind, ConditionReachable, s.Reachable}]++
		counts[series{s.Kind, ConditionTokenAccepted, s.TokenAccepted}]++
		counts[series{s.Kind, ConditionVersionSupported, s.VersionSupported}]++
		if s.Version != "" {
			versions[s.Version]++
		}
	}
	for s, n := range counts {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(n), s.kind, s.cond, s.status)
	}
	for _, v := range slices.Sorted(maps.Keys(versions)) {
		ch <- prometheus.MustNewConstMetric(c.versionDesc, prometheus.GaugeValue, float64(versions[v]), v)
	}
}

// ObserveRequest records one answer (or, with statusCode 0, a transport
// error) to a request for operation that took seconds.
func ObserveRequest(operation string, statusCode int, seconds float64) {
	apiRequests.WithLabelValues(operation, codeClass(statusCode)).Inc()
	apiRequestDuration.WithLabelValues(operation).Observe(seconds)
	// Known from the first request on, so a rate over it is never absent.
	apiRetries.WithLabelValues(operation)
}

// ObserveRetry records that a request for operation is sent again.
func ObserveRetry(operation string) { apiRetries.WithLabelValues(operation).Inc() }

func codeClass(statusCode int) string {
	if statusCode < 100 || statusCode > 599 {
		return codeClassTransportError
	}
	return string(rune('0'+statusCode/100)) + "xx"
}

// OutpostListEdit records writes of the provider list of the outpost with
// UUID outpost: how many were made, how many of them wrote again an edit a
// read-back found undone (rewrites), and how many read-backs found an edit
// undone (mismatches). Recording none still makes the outpost's series
// exist at 0.
func OutpostListEdit(outpost string, writes, rewrites, mismatches int) {
	outpostListWrites.WithLabelValues(outpost).Add(float64(writes))
	outpostListMismatches.WithLabelValues(outpost).Add(float64(mismatches))
	outpostListRewrites.WithLabelValues(outpost).Add(float64(rewrites))
}

// UnmanagedScanFailed records a failed scan for unmanaged objects.
func UnmanagedScanFailed() { unmanagedScanErrors.Inc() }
