package authentiksim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	const op = "flows_instances_retrieve"
	cases := map[string]struct {
		reason string
		fault  Fault
		calls  int
		// want is the status of each call; 0 means the connection dropped.
		want []int
	}{
		"StatusNextTwoCalls": {
			reason: "Times limits the fault to the next calls, then the operation recovers.",
			fault:  Fault{Status: http.StatusServiceUnavailable, Times: 2},
			calls:  3,
			want:   []int{503, 503, 200},
		},
		"StatusAlways": {
			reason: "Without Times a fault stays.",
			fault:  Fault{Status: http.StatusBadGateway},
			calls:  3,
			want:   []int{502, 502, 502},
		},
		"Drop": {
			reason: "A dropped connection gives the client no answer, and the next call is answered.",
			fault:  Fault{Drop: true, Times: 1},
			calls:  2,
			want:   []int{0, 200},
		},
		"SeededProbability": {
			reason: "With Options.Seed 0 the same calls are hit on every run.",
			fault:  Fault{Status: http.StatusInternalServerError, Probability: 0.5},
			calls:  8,
			want:   []int{200, 200, 200, 200, 500, 500, 500, 500},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			// Go's transport retries an idempotent request that a reused
			// connection dropped, and whether the connection is reused
			// depends on timing: each call gets a connection of its own.
			e.c.GetConfig().HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			e.Sim.ResetCounts()
			e.Sim.SetFault(op, tc.fault)
			got := []int{}
			for range tc.calls {
				_, resp, err := e.c.FlowsAPI.FlowsInstancesRetrieve(e.ctx, slugProviderLogout).Execute()
				switch {
				case resp != nil:
					got = append(got, resp.StatusCode)
				case err != nil:
					got = append(got, 0)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nstatuses: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(map[string]int{op: tc.calls}, e.Sim.Counts()); diff != "" {
				t.Errorf("%s\ncounts: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestFaultAfterHandler(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason     string
		fault      Fault
		wantStatus int // 0: no answer
	}{
		"StatusAfterCreate": {
			reason:     "A proxy that fails after the backend answered: the client sees 502, the provider exists.",
			fault:      Fault{Status: http.StatusBadGateway, AfterHandler: true, Times: 1},
			wantStatus: http.StatusBadGateway,
		},
		"DropAfterCreate": {
			reason:     "A connection lost after the create: the client sees no answer (POST is not retried), the provider exists.",
			fault:      Fault{Drop: true, AfterHandler: true, Times: 1},
			wantStatus: 0,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.Sim.SetFault("providers_proxy_create", tc.fault)
			_, resp, err := e.c.ProvidersAPI.ProvidersProxyCreate(e.ctx).ProxyProviderRequest(*e.proxyRequest("app")).Execute()
			got := 0
			if resp != nil {
				got = resp.StatusCode
			}
			if err == nil || got != tc.wantStatus {
				t.Errorf("%s\ncreate: status %d, err %v; want status %d and an error", tc.reason, got, err, tc.wantStatus)
			}
			l, _, err := e.c.ProvidersAPI.ProvidersProxyList(e.ctx).NameIexact("app").Execute()
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			if len(l.Results) != 1 {
				t.Errorf("%s\ngot %d providers, want 1", tc.reason, len(l.Results))
			}
		})
	}
}

func TestFaultLatencyAndClear(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const latency = 150 * time.Millisecond
	e.Sim.SetFault("flows_instances_list", Fault{Latency: latency})
	start := time.Now()
	if _, _, err := e.c.FlowsAPI.FlowsInstancesList(e.ctx).Execute(); err != nil {
		t.Fatalf("list with latency: %v", err)
	}
	if d := time.Since(start); d < latency {
		t.Errorf("answered after %v, want at least %v", d, latency)
	}
	e.Sim.SetFault("flows_instances_list", Fault{Status: http.StatusServiceUnavailable})
	e.Sim.ClearFaults()
	if _, _, err := e.c.FlowsAPI.FlowsInstancesList(e.ctx).Execute(); err != nil {
		t.Errorf("list after ClearFaults: %v", err)
	}
}

func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	do := func(method, path, body string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(e.ctx, method, e.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}
	if _, _, err := e.c.FlowsAPI.FlowsInstancesList(e.ctx).Slug(slugProviderLogout).Execute(); err != nil {
		t.Fatal(err)
	}

	var counts map[string]int
	if err := json.NewDecoder(do(http.MethodGet, "/_sim/counters", "").Body).Decode(&counts); err != nil {
		t.Fatalf("decode counters: %v", err)
	}
	if diff := cmp.Diff(e.Sim.Counts(), counts); diff != "" {
		t.Errorf("GET /_sim/counters: -want, +got:\n%s", diff)
	}
	if counts["flows_instances_list"] == 0 {
		t.Errorf("flows_instances_list not counted: %v", counts)
	}
	if _, _, err := e.c.CoreAPI.CoreGroupsCreate(e.ctx).GroupRequest(*api.NewGroupRequest("counted")).Execute(); err != nil {
		t.Fatal(err)
	}
	var writes map[string]int
	if err := json.NewDecoder(do(http.MethodGet, "/_sim/writes", "").Body).Decode(&writes); err != nil {
		t.Fatalf("decode writes: %v", err)
	}
	if diff := cmp.Diff(map[string]int{"core_groups_create": 1}, writes); diff != "" {
		t.Errorf("GET /_sim/writes (reads left out): -want, +got:\n%s", diff)
	}
	if resp := do(http.MethodPost, "/_sim/reset-counters", ""); resp.StatusCode != http.StatusNoContent {
		t.Errorf("POST /_sim/reset-counters: %d", resp.StatusCode)
	}
	if diff := cmp.Diff(map[string]int{}, e.Sim.Counts()); diff != "" {
		t.Errorf("counts after reset: -want, +got:\n%s", diff)
	}

	if resp := do(http.MethodPut, "/_sim/faults/flows_instances_list", `{"status": 503, "times": 1}`); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT /_sim/faults: %d", resp.StatusCode)
	}
	_, resp, _ := e.c.FlowsAPI.FlowsInstancesList(e.ctx).Execute()
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a fault set over HTTP: got %v, want 503", resp)
	}
	if resp := do(http.MethodPut, "/_sim/faults/flows_instances_list", `{"latency": "soon"}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("PUT /_sim/faults with a bad latency: %d, want 400", resp.StatusCode)
	}

	var violations []string
	if err := json.NewDecoder(do(http.MethodGet, "/_sim/violations", "").Body).Decode(&violations); err != nil {
		t.Fatalf("decode violations: %v", err)
	}
	if diff := cmp.Diff([]string{}, violations); diff != "" {
		t.Errorf("GET /_sim/violations: -want, +got:\n%s", diff)
	}
}

func TestRewriteFault(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		op     string
		path   string
		fault  Fault
		want   map[string]any // keys of the (first) object, with their values
		absent string
	}{
		"EditObject": {
			reason: "RewriteObjects edits the answer's object, after the schema check, so the answer may break the schema.",
			op:     "flows_instances_retrieve", path: "/flows/instances/" + slugProviderLogout + "/",
			fault:  Fault{Rewrite: RewriteObjects(func(o map[string]any) { o["layout"] = "hologram"; delete(o, "title") })},
			want:   map[string]any{"layout": "hologram"},
			absent: "title",
		},
		"EditListItems": {
			reason: "In a list RewriteObjects edits each result, not the envelope.",
			op:     "flows_instances_list", path: "/flows/instances/",
			fault: Fault{Rewrite: RewriteObjects(func(o map[string]any) { o["unknown_key"] = true })},
			want:  map[string]any{"unknown_key": true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sim := newTest(t, Options{Token: testToken})
			sim.Sim.SetFault(tc.op, tc.fault)
			got := rawJSON(t, http.MethodGet, sim.URL+"/api/v3"+tc.path, "")
			if results, ok := got["results"].([]any); ok {
				got = results[0].(map[string]any)
			}
			for k, v := range tc.want {
				if diff := cmp.Diff(v, got[k]); diff != "" {
					t.Errorf("%s\n%s: -want, +got:\n%s", tc.reason, k, diff)
				}
			}
			if _, ok := got[tc.absent]; tc.absent != "" && ok {
				t.Errorf("%s\n%s is still in the answer", tc.reason, tc.absent)
			}
		})
	}
}
