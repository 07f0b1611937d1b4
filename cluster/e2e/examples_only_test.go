//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// The tests cluster/e2e/run.sh --examples-only runs (make e2e at the oldest
// Authentik line), once every example and the seed's ProxyConfig are
// Ready: the provider runs at its defaults, without --enable-discovery.

func TestExamplesOnlyNoSchemaViolation(t *testing.T) {
	e := setup(t)
	b := sim(t, http.MethodGet, "violations", "")
	var violations []json.RawMessage
	if err := json.Unmarshal(b, &violations); err != nil {
		t.Fatalf("the simulator's violations: %v: %s", err, b)
	}
	if len(violations) != 0 {
		t.Errorf("the simulator saw %d answers or requests that break the schema: %s", len(violations), b)
	}
	t.Logf("the examples and the seed's ProxyConfig are Ready against Authentik %s", e.ak.CheckHealth(context.Background()).Version)
}

// TestExamplesOnlyDiscoveryOff: discovery is off by default, so it costs
// nothing: no discovery controller and no watch on routes or ProxyConfigs.
func TestExamplesOnlyDiscoveryOff(t *testing.T) {
	setup(t)
	log := providerLog(t)
	if !strings.Contains(log, "Route discovery is off: --enable-discovery not given") {
		t.Errorf("the provider's log does not say route discovery is off")
	}
	if w := regexp.MustCompile(`Starting EventSource.*(Ingress|HTTPRoute|ProxyConfig)`).FindString(log); w != "" {
		t.Errorf("the provider watches routes or ProxyConfigs although --enable-discovery was not given: %s", w)
	}
	managed, discovery := false, []string{}
	for c := range runningControllers(t) {
		managed = managed || strings.HasPrefix(c, "managed/proxyprovider")
		if strings.HasPrefix(c, "discovery/") {
			discovery = append(discovery, c)
		}
	}
	if !managed {
		t.Fatalf("the provider's metrics name no ProxyProvider controller: cannot tell whether discovery runs")
	}
	if len(discovery) != 0 {
		t.Errorf("discovery controllers %v run although --enable-discovery was not given", discovery)
	}
}
