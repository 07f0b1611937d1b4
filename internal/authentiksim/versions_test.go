package authentiksim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"

	"github.com/crossplane/crossplane-runtime/v2/pkg/test"
)

func TestLookupLine(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason  string
		version string
		want    string
		wantErr bool
	}{
		"Default":      {reason: "No version is the newest line the client was generated for.", want: "2026.5.3"},
		"ByName":       {reason: "A line is found by its name.", version: "2025.10", want: "2025.10.4"},
		"ByRelease":    {reason: "A line is found by any release of it.", version: "2024.12.1", want: "2024.12.3"},
		"NotAPrefix":   {reason: "2025.1 is not a prefix match for 2025.10.", version: "2025.1", wantErr: true},
		"Unknown":      {reason: "A line the simulator does not speak is refused.", version: "2023.10", wantErr: true},
		"NewerUnknown": {reason: "Lines after the newest known one are refused too.", version: "2027.2", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l, err := LookupLine(tc.version)
			if (err != nil) != tc.wantErr {
				t.Fatalf("%s\nLookupLine(%q): %v, want error %t", tc.reason, tc.version, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, l.Release); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestVersionEndpoint(t *testing.T) {
	t.Parallel()
	for _, line := range Lines {
		t.Run(line.Name, func(t *testing.T) {
			t.Parallel()
			sim := newTest(t, Options{Token: testToken, AuthentikVersion: line.Name})
			v, resp, err := newClient(sim.URL, testToken).AdminAPI.AdminVersionRetrieve(context.Background()).Execute()
			if err != nil {
				t.Fatalf("GET /admin/version/: %v", err)
			}
			want := outcome{Status: http.StatusOK}
			if diff := cmp.Diff(want, outcomeOf(t, resp, err)); diff != "" {
				t.Errorf("-want, +got:\n%s", diff)
			}
			if diff := cmp.Diff(line.Release, v.VersionCurrent); diff != "" {
				t.Errorf("version_current: -want, +got:\n%s", diff)
			}
		})
	}
}

func TestVersionNeedsToken(t *testing.T) {
	t.Parallel()
	sim := newTest(t, Options{Token: testToken})
	_, resp, err := newClient(sim.URL, "wrong").AdminAPI.AdminVersionRetrieve(context.Background()).Execute()
	if diff := cmp.Diff(detailError(http.StatusForbidden, "Token invalid/expired"), outcomeOf(t, resp, err)); diff != "" {
		t.Errorf("-want, +got:\n%s", diff)
	}
}

func TestRootConfig(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		header string
		want   outcome
	}{
		"Anonymous": {
			reason: "ConfigView allows callers without a token.",
			want:   outcome{Status: http.StatusOK},
		},
		"Token": {
			reason: "A valid token is accepted.",
			header: "Bearer " + testToken,
			want:   outcome{Status: http.StatusOK},
		},
		"BadToken": {
			reason: "Authentication runs before permissions, so a bad token is refused even here.",
			header: "Bearer wrong",
			want:   detailError(http.StatusForbidden, "Token invalid/expired"),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sim := newTest(t, Options{Token: testToken})
			cfg := api.NewConfiguration()
			cfg.Servers = api.ServerConfigurations{{URL: sim.URL + "/api/v3"}}
			if tc.header != "" {
				cfg.AddDefaultHeader("Authorization", tc.header)
			}
			_, resp, err := api.NewAPIClient(cfg).RootAPI.RootConfigRetrieve(context.Background()).Execute()
			if diff := cmp.Diff(tc.want, outcomeOf(t, resp, err)); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestNewRefusesUnknownVersion(t *testing.T) {
	t.Parallel()
	_, err := New(Options{Token: testToken, AuthentikVersion: "2023.10", DisableSchema: true})
	want := errors.New(`unknown Authentik release line "2023.10"; the simulator speaks 2024.12, 2025.2, 2025.4, 2025.6, 2025.8, 2025.10, 2025.12, 2026.2, 2026.5, 2026.8`)
	if diff := cmp.Diff(want, err, test.EquateErrors()); diff != "" {
		t.Errorf("-want, +got:\n%s", diff)
	}
}

// rawJSON sends a request with the test token and decodes the JSON answer,
// so that keys an older line leaves out can be seen.
func rawJSON(t *testing.T, method, url, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode >= http.StatusMultipleChoices {
		t.Fatalf("%s %s: status %d", method, url, resp.StatusCode)
	}
	out := map[string]any{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLinesShapeResponses(t *testing.T) {
	t.Parallel()
	// What each line sends of the keys that differ, from
	// ../shared/authentik-versions.md. Keys not named are checked nowhere.
	type sent map[string]bool
	cases := map[string]struct {
		list, flow, application, group sent
		nullIcon                       bool
	}{
		"2024.12": {
			list:        sent{"autocomplete": false},
			flow:        sent{"background_url": false, "background_themed_urls": false},
			application: sent{"meta_icon_url": false, "meta_icon_themed_urls": false},
			group:       sent{"parents_obj": false, "inherited_roles_obj": false, "children": false, "children_obj": false},
			nullIcon:    true,
		},
		"2025.6": {
			list:        sent{"autocomplete": false},
			flow:        sent{"background_url": false},
			application: sent{"meta_icon_url": false},
			group:       sent{"parents_obj": false, "children": false, "children_obj": false},
			nullIcon:    true,
		},
		"2025.8": {
			list:        sent{"autocomplete": true},
			flow:        sent{"background_url": false},
			application: sent{"meta_icon_url": false},
			group:       sent{"parents_obj": false, "children": false, "children_obj": true},
			nullIcon:    true,
		},
		"2025.10": {
			list:        sent{"autocomplete": true},
			flow:        sent{"background_url": false, "background_themed_urls": false},
			application: sent{"meta_icon_url": false, "meta_icon_themed_urls": false},
			group:       sent{"parents_obj": false, "inherited_roles_obj": false, "children": false, "children_obj": true},
			nullIcon:    true,
		},
		"2025.12": {
			list:        sent{"autocomplete": true},
			flow:        sent{"background_url": true, "background_themed_urls": true},
			application: sent{"meta_icon_url": true, "meta_icon_themed_urls": true},
			group:       sent{"parents_obj": true, "inherited_roles_obj": true, "children": true, "children_obj": true},
		},
		"2026.8": {
			list:        sent{"autocomplete": true},
			flow:        sent{"background_url": true},
			application: sent{"meta_icon_url": true},
			group:       sent{"parents_obj": true, "children": true},
		},
	}
	check := func(t *testing.T, what string, obj map[string]any, want sent) {
		t.Helper()
		for k, present := range want {
			if _, ok := obj[k]; ok != present {
				t.Errorf("%s: key %s sent %t, want %t", what, k, ok, present)
			}
		}
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// newTest fails the test if any answer breaks the schema beyond
			// what the line really sends.
			sim := newTest(t, Options{Token: testToken, AuthentikVersion: name})
			api := sim.URL + "/api/v3"
			g := rawJSON(t, http.MethodPost, api+"/core/groups/", `{"name":"devs"}`)
			check(t, "created group", g, tc.group)
			check(t, "group", rawJSON(t, http.MethodGet, api+"/core/groups/"+g["pk"].(string)+"/", ""), tc.group)
			groups := rawJSON(t, http.MethodGet, api+"/core/groups/", "")
			check(t, "group list", groups, tc.list)
			check(t, "group in a list", groups["results"].([]any)[0].(map[string]any), tc.group)

			a := rawJSON(t, http.MethodPost, api+"/core/applications/", `{"name":"Wiki","slug":"wiki"}`)
			check(t, "created application", a, tc.application)
			if icon, ok := a["meta_icon"]; (ok && icon == nil) != tc.nullIcon {
				t.Errorf("meta_icon of an application without one is %v, want null: %t", icon, tc.nullIcon)
			}
			apps := rawJSON(t, http.MethodGet, api+"/core/applications/", "")
			check(t, "application list", apps, tc.list)
			check(t, "application in a list", apps["results"].([]any)[0].(map[string]any), tc.application)

			flows := rawJSON(t, http.MethodGet, api+"/flows/instances/", "")
			check(t, "flow list", flows, tc.list)
			check(t, "flow in a list", flows["results"].([]any)[0].(map[string]any), tc.flow)
			check(t, "flow", rawJSON(t, http.MethodGet, api+"/flows/instances/"+slugProviderLogout+"/", ""), tc.flow)
		})
	}
}

func TestSchemaCheckKnowsLines(t *testing.T) {
	t.Parallel()
	sim := newTest(t, Options{Token: testToken})
	api := sim.URL + "/api/v3"
	g := rawJSON(t, http.MethodPost, api+"/core/groups/", `{"name":"devs"}`)
	groupPath := "/core/groups/" + g["pk"].(string) + "/"
	cases := map[string]struct {
		reason    string
		line      string
		path      string
		operation string
		change    func(map[string]any)
		violation bool
	}{
		"OmittedKeyOfTheLine": {
			reason: "2024.12 sends no parents_obj on groups.",
			line:   "2024.12", path: groupPath, operation: "core_groups_retrieve",
			change: func(m map[string]any) { delete(m, "parents_obj") },
		},
		"OtherKeyMissing": {
			reason: "2024.12 does send a group's name.",
			line:   "2024.12", path: groupPath, operation: "core_groups_retrieve",
			change:    func(m map[string]any) { delete(m, "name") },
			violation: true,
		},
		"KeyOfAnotherLine": {
			reason: "2026.5 sends parents_obj.",
			line:   "2026.5", path: groupPath, operation: "core_groups_retrieve",
			change:    func(m map[string]any) { delete(m, "parents_obj") },
			violation: true,
		},
		"KeyJustIntroduced": {
			reason: "2025.8 sends children_obj although it sends no parents_obj.",
			line:   "2025.8", path: groupPath, operation: "core_groups_retrieve",
			change:    func(m map[string]any) { delete(m, "parents_obj"); delete(m, "children_obj") },
			violation: true,
		},
		"ListEnvelope": {
			reason: "2025.6 sends lists without autocomplete.",
			line:   "2025.6", path: "/core/groups/", operation: "core_groups_list",
			change: func(m map[string]any) { delete(m, "autocomplete") },
		},
		"ListEnvelopeOfAnotherLine": {
			reason: "2025.8 sends autocomplete.",
			line:   "2025.8", path: "/core/groups/", operation: "core_groups_list",
			change:    func(m map[string]any) { delete(m, "autocomplete") },
			violation: true,
		},
		"ListItem": {
			reason: "A key the line leaves out is left out of list items too.",
			line:   "2025.10", path: "/core/groups/", operation: "core_groups_list",
			change: func(m map[string]any) {
				delete(m["results"].([]any)[0].(map[string]any), "parents_obj")
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			body := rawJSON(t, http.MethodGet, api+tc.path, "")
			tc.change(body)
			err := checkResponse(t, sim.Sim, tc.operation, api+tc.path, body, tc.line)
			if (err != nil) != tc.violation {
				t.Errorf("%s\nschema check: %v, want a violation: %t", tc.reason, err, tc.violation)
			}
		})
	}
}

// checkResponse runs the simulator's schema check of an answer to GET url as
// the given line would send it.
func checkResponse(t *testing.T, s *Server, operation, url string, body map[string]any, line string) error {
	t.Helper()
	l, err := LookupLine(line)
	if err != nil {
		t.Fatal(err)
	}
	var rt *route
	for _, r := range s.routes {
		if r.operationID == operation {
			rt = r
		}
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{}
	if pk, ok := body["pk"].(string); ok {
		params["group_uuid"] = pk
	}
	in, err := s.schema.validateRequest(context.Background(), req, s.ops[rt], params, nil)
	if err != nil {
		t.Fatal(err)
	}
	encoded, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return s.schema.validateResponse(context.Background(), in, http.StatusOK, http.Header{"Content-Type": {"application/json"}}, encoded, l)
}

func TestLineDifferencesNameKnownLines(t *testing.T) {
	t.Parallel()
	for _, d := range lineDifferences {
		first, err := LookupLine(d.first)
		if err != nil {
			t.Errorf("%s %v: %v", d.model, d.keys, err)
		}
		last, err := LookupLine(d.last)
		if err != nil {
			t.Errorf("%s %v: %v", d.model, d.keys, err)
		}
		if first.index() > last.index() {
			t.Errorf("%s %v: %s comes after %s", d.model, d.keys, d.first, d.last)
		}
	}
}
