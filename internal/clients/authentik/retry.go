package authentik

import (
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

// A retryPolicy bounds how transient failures are retried.
type retryPolicy struct {
	// Attempts is the most requests sent for one call, the first included.
	Attempts int
	// Backoff is the wait before the first retry; it doubles on each retry.
	Backoff time.Duration
	// MaxBackoff caps the wait between two attempts.
	MaxBackoff time.Duration
}

// defaultRetry retries a transient failure twice, within about a second, so
// a reconcile fails fast and the controller's own backoff takes over.
var defaultRetry = retryPolicy{Attempts: 3, Backoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second}

// retryTransport retries idempotent requests that failed transiently.
type retryTransport struct {
	next   http.RoundTripper
	policy retryPolicy
}

// newRetryTransport wraps a transport so that idempotent requests (GET, HEAD,
// PUT, DELETE) are retried with exponential backoff after a connection error
// or a 429, 502, 503 or 504 answer. POST is never retried: Authentik has no
// idempotency keys, so a retried create could make a duplicate.
func newRetryTransport(next http.RoundTripper, p retryPolicy) http.RoundTripper {
	return &retryTransport{next: next, policy: p}
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !idempotent(req.Method) || t.policy.Attempts <= 1 {
		return t.next.RoundTrip(req)
	}
	wait := t.policy.Backoff
	for attempt := 1; ; attempt++ {
		resp, err := t.next.RoundTrip(req)
		if attempt >= t.policy.Attempts || !retryable(resp, err) {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
		if req.Body != nil && req.GetBody == nil {
			return resp, err
		}
		timer := time.NewTimer(jitter(wait))
		select {
		case <-req.Context().Done():
			timer.Stop()
			return nil, req.Context().Err()
		case <-timer.C:
		}
		wait = min(2*wait, t.policy.MaxBackoff)
		metrics.ObserveRetry(operationOf(req))
		if req.GetBody != nil {
			body, gerr := req.GetBody()
			if gerr != nil {
				return nil, gerr
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

func retryable(resp *http.Response, err error) bool {
	if err != nil {
		return true
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// jitter spreads retries of many resources over half the wait and the wait.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1) //nolint:gosec // Jitter needs no cryptographic randomness.
}
