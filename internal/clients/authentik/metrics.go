package authentik

import (
	"net/http"
	"strings"
	"time"

	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

// operationOf names the operation a request performs: its method and the
// route template its path matches, as "GET /providers/proxy/{id}/". A
// path outside the known routes is "<method> other".
func operationOf(req *http.Request) string {
	method := req.Method
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "OTHER"
	}
	r, ok := routeOf(req.URL.Path, func(responseRoute) bool { return true })
	if !ok {
		return method + " other"
	}
	// The template, never the path: paths hold ids, and the metrics' label
	// sets must stay bounded.
	return method + " /" + strings.Trim(r.path, "/") + "/"
}

// metricsTransport records each request sent to Authentik: its operation,
// status class and latency. It sits below the retry transport, so every
// attempt is counted.
type metricsTransport struct {
	next http.RoundTripper
}

func (t *metricsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	metrics.ObserveRequest(operationOf(req), status, time.Since(start).Seconds())
	return resp, err
}
