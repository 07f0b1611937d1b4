package authentiksim

import "net/http"

// versionJSON is VersionSerializer of authentik/admin/api/version.py. The
// simulator is always the latest release of its line and has no outposts
// that report a version.
type versionJSON struct {
	VersionCurrent     string `json:"version_current"`
	VersionLatest      string `json:"version_latest"`
	VersionLatestValid bool   `json:"version_latest_valid"`
	BuildHash          string `json:"build_hash"`
	Outdated           bool   `json:"outdated"`
	OutpostOutdated    bool   `json:"outpost_outdated"`
}

// retrieveVersion answers VersionView (authentik/admin/api/version.py),
// which any authenticated caller may read; the simulator's one token
// belongs to an administrator anyway.
func retrieveVersion(st *state, _ *call) reply {
	return reply{status: http.StatusOK, body: versionJSON{
		VersionCurrent:     st.line.Release,
		VersionLatest:      st.line.Release,
		VersionLatestValid: true,
	}}
}

type errorReportingJSON struct {
	Enabled          bool    `json:"enabled"`
	SentryDSN        string  `json:"sentry_dsn"`
	Environment      string  `json:"environment"`
	SendPII          bool    `json:"send_pii"`
	TracesSampleRate float64 `json:"traces_sample_rate"`
}

type rootConfigJSON struct {
	ErrorReporting       errorReportingJSON `json:"error_reporting"`
	Capabilities         []string           `json:"capabilities"`
	CacheTimeout         int                `json:"cache_timeout"`
	CacheTimeoutFlows    int                `json:"cache_timeout_flows"`
	CacheTimeoutPolicies int                `json:"cache_timeout_policies"`
}

// retrieveRootConfig answers ConfigView (authentik/api/v3/config.py) with
// the defaults of authentik/lib/default.yml: error reporting off, five
// minute caches, impersonation allowed. The view allows anonymous callers.
func retrieveRootConfig(_ *state, _ *call) reply {
	return reply{status: http.StatusOK, body: rootConfigJSON{
		ErrorReporting:       errorReportingJSON{Environment: "customer", TracesSampleRate: 0.1},
		Capabilities:         []string{"can_save_media", "can_impersonate"},
		CacheTimeout:         300,
		CacheTimeoutFlows:    300,
		CacheTimeoutPolicies: 300,
	}}
}
