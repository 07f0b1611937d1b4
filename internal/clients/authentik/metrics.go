package authentik

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

// routeTemplates are the API paths the provider uses, with their
// parameters as templates: an operation is named by one of them, never by
// a path holding ids, so the metrics' label sets stay bounded.
var routeTemplates = func() [][]string {
	var out [][]string
	for _, r := range answerRoutes {
		t := strings.Split(strings.Trim(r.path, "/"), "/")
		if !slices.ContainsFunc(out, func(o []string) bool { return slices.Equal(o, t) }) {
			out = append(out, t)
		}
	}
	return out
}()

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
	path := req.URL.Path
	i := strings.Index(path, APIPath+"/")
	if i < 0 {
		return method + " other"
	}
	segments := strings.Split(strings.Trim(path[i+len(APIPath):], "/"), "/")
	var best []string
	bestLiterals := -1
	for _, t := range routeTemplates {
		if len(t) != len(segments) {
			continue
		}
		literals, ok := 0, true
		for j, w := range t {
			switch {
			case strings.HasPrefix(w, "{"):
			case w == segments[j]:
				literals++
			default:
				ok = false
			}
		}
		if ok && literals > bestLiterals {
			best, bestLiterals = t, literals
		}
	}
	if best == nil {
		return method + " other"
	}
	return method + " /" + strings.Join(best, "/") + "/"
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
