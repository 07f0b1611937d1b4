package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
)

// started is a simulator run in-process, as main would run it.
type started struct {
	url    string
	stop   context.CancelFunc
	done   chan error
	stderr *strings.Builder
}

func start(t *testing.T, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out, w := io.Pipe()
	s := &started{stop: cancel, done: make(chan error, 1), stderr: &strings.Builder{}}
	go func() {
		s.done <- run(ctx, append([]string{"--listen", "127.0.0.1:0", "--token", "t"}, args...), w, s.stderr)
		_ = w.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no listening line (stderr %q): %v", s.stderr, err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "authentik-sim listening on ")
	if !ok {
		t.Fatalf("first line %q does not announce the URL", line)
	}
	s.url = url
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return s
}

// wait stops the simulator as SIGTERM would and returns what run returned.
func (s *started) wait(t *testing.T) error {
	t.Helper()
	s.stop()
	select {
	case err := <-s.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its context ended")
		return nil
	}
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestRun(t *testing.T) {
	t.Parallel()
	const flows = "/api/v3/flows/instances/?slug=default-provider-invalidation-flow"
	cases := map[string]struct {
		reason  string
		args    []string
		path    string
		token   string
		status  int
		body    string // a part of the answer
		wantErr bool
	}{
		"Serves": {
			reason: "With the token the simulator answers, and stops cleanly.",
			path:   flows, token: "t", status: http.StatusOK,
		},
		"RefusesWithoutToken": {
			reason: "Without the token every API call is 403.",
			path:   flows, status: http.StatusForbidden,
		},
		"Fault": {
			reason: "--fault injects errors from the first call.",
			args:   []string{"--fault", "flows_instances_list:status=503,times=1"},
			path:   flows, token: "t", status: http.StatusServiceUnavailable,
		},
		"NoSchema": {
			reason: "--no-schema serves without checking.",
			args:   []string{"--no-schema"},
			path:   "/api/v3/outposts/instances/not-a-uuid/", token: "t", status: http.StatusNotFound,
		},
		"OlderLine": {
			reason: "--authentik-version answers as that release line.",
			args:   []string{"--authentik-version", "2024.12"},
			path:   "/api/v3/admin/version/", token: "t", status: http.StatusOK, body: `"version_current":"2024.12.3"`,
		},
		"DefaultLine": {
			reason: "Without --authentik-version the simulator answers as the newest supported line.",
			path:   "/api/v3/admin/version/", token: "t", status: http.StatusOK, body: `"version_current":"2026.5.3"`,
		},
		"ViolationFailsTheRun": {
			reason: "A request that breaks the schema makes the run end in an error.",
			path:   "/api/v3/outposts/instances/not-a-uuid/", token: "t", status: http.StatusBadRequest,
			wantErr: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := start(t, tc.args...)
			got, body := get(t, s.url+tc.path, tc.token)
			if got != tc.status {
				t.Errorf("%s\nGET %s: status %d, want %d", tc.reason, tc.path, got, tc.status)
			}
			if !strings.Contains(body, tc.body) {
				t.Errorf("%s\nGET %s: answer %s lacks %s", tc.reason, tc.path, body, tc.body)
			}
			if err := s.wait(t); (err != nil) != tc.wantErr {
				t.Errorf("%s\nrun returned %v (stderr %q), want error: %t", tc.reason, err, s.stderr, tc.wantErr)
			}
		})
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		args   []string
	}{
		"NoToken":        {reason: "--token is required.", args: []string{"--listen", "127.0.0.1:0"}},
		"BadFault":       {reason: "A fault needs an operation.", args: []string{"--token", "t", "--fault", "status=503"}},
		"BadFaultKey":    {reason: "Unknown fault keys are refused.", args: []string{"--token", "t", "--fault", "op:colour=red"}},
		"UnknownVersion": {reason: "A release line the simulator does not speak is refused.", args: []string{"--token", "t", "--authentik-version", "2023.10"}},
		"MissingSchema":  {reason: "A schema that cannot be read is refused.", args: []string{"--token", "t", "--schema", "/nonexistent.yaml"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if err := run(t.Context(), tc.args, io.Discard, io.Discard); err == nil {
				t.Errorf("%s\nrun(%v) succeeded", tc.reason, tc.args)
			}
		})
	}
}

func TestParseFault(t *testing.T) {
	t.Parallel()
	op, got, err := parseFault("providers_proxy_update:status=502,latency=250ms,drop,probability=0.25,times=3,after")
	if err != nil {
		t.Fatalf("parseFault: %v", err)
	}
	want := authentiksim.Fault{Status: 502, Latency: 250 * time.Millisecond, Drop: true, Probability: 0.25, Times: 3, AfterHandler: true}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" || op != "providers_proxy_update" {
		t.Errorf("parseFault: op %q; -want, +got:\n%s", op, diff)
	}
}

// TestStateFileSurvivesRestart stops a simulator and starts another on the
// same state file, as an Authentik outage does: the objects are the same
// and a new object gets a new id.
func TestStateFileSurvivesRestart(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state.jsonl")
	const groups = "/api/v3/core/groups/"
	first := start(t, "--state-file", state)
	post(t, first.url+groups, `{"name": "ops"}`)
	post(t, first.url+groups, `{"name": "dev"}`)
	before := groupNames(t, first.url+groups)
	if err := first.wait(t); err != nil {
		t.Fatalf("first run: %v", err)
	}

	second := start(t, "--state-file", state)
	if diff := cmp.Diff(before, groupNames(t, second.url+groups)); diff != "" {
		t.Errorf("groups after restart (-before, +after):\n%s", diff)
	}
	post(t, second.url+groups, `{"name": "qa"}`)
	after := groupNames(t, second.url+groups)
	if len(after) != len(before)+1 {
		t.Errorf("after one more create: %v, want %v and qa with a new id", after, before)
	}
	if err := second.wait(t); err != nil {
		t.Fatalf("second run: %v", err)
	}
}

func post(t *testing.T, url, body string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: status %d", url, resp.StatusCode)
	}
}

// groupNames maps each group's pk to its name.
func groupNames(t *testing.T, url string) map[string]string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l struct {
		Results []struct {
			Pk   string `json:"pk"`
			Name string `json:"name"`
		} `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, g := range l.Results {
		out[g.Pk] = g.Name
	}
	return out
}
