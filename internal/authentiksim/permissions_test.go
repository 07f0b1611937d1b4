package authentiksim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPermissions(t *testing.T) {
	t.Parallel()
	const probe = "application/x-permission-probe"
	cases := map[string]struct {
		reason      string
		withheld    []string
		method      string
		path        string // below /api/v3; {group} is an existing group's pk
		contentType string
		body        string
		want        outcome
		// groups is how many groups exist after the request (one before it).
		groups int
	}{
		"CreateWithheld": {
			reason:      "A create without the model's add permission is refused with DRF's 403, and nothing is made.",
			withheld:    []string{"authentik_core.add_group"},
			method:      http.MethodPost,
			path:        "/core/groups/",
			contentType: "application/json",
			body:        `{"name": "ops"}`,
			want:        detailError(http.StatusForbidden, msgPermissionDenied),
			groups:      1,
		},
		"CreateOtherWithheld": {
			reason:      "Another model's permission withheld does not refuse this one.",
			withheld:    []string{"authentik_core.add_user"},
			method:      http.MethodPost,
			path:        "/core/groups/",
			contentType: "application/json",
			body:        `{"name": "ops"}`,
			want:        outcome{Status: http.StatusCreated},
			groups:      2,
		},
		"ProbeWithheld": {
			reason:      "A body no parser reads is refused for want of permission first: DRF checks permissions before it reads the body.",
			withheld:    []string{"authentik_core.add_group"},
			method:      http.MethodPost,
			path:        "/core/groups/",
			contentType: probe,
			want:        detailError(http.StatusForbidden, msgPermissionDenied),
			groups:      1,
		},
		"ProbeGranted": {
			reason:      "With the permission, a body no parser reads is 415 and nothing is made.",
			method:      http.MethodPost,
			path:        "/core/groups/",
			contentType: probe,
			want:        detailError(http.StatusUnsupportedMediaType, `Unsupported media type "`+probe+`" in request.`),
			groups:      1,
		},
		"UpdateWithheld": {
			reason:      "An update needs the change permission.",
			withheld:    []string{"authentik_core.change_group"},
			method:      http.MethodPatch,
			path:        "/core/groups/{group}/",
			contentType: "application/json",
			body:        `{"name": "renamed"}`,
			want:        detailError(http.StatusForbidden, msgPermissionDenied),
			groups:      1,
		},
		"DeleteWithheld": {
			reason:   "A delete needs the delete permission, and the group stays.",
			withheld: []string{"authentik_core.delete_group"},
			method:   http.MethodDelete,
			path:     "/core/groups/{group}/",
			want:     detailError(http.StatusForbidden, msgPermissionDenied),
			groups:   1,
		},
		"ReadNotRefused": {
			reason:   "Reads are not refused: Authentik filters what a user may not view instead.",
			withheld: []string{"authentik_core.add_group", "authentik_core.change_group"},
			method:   http.MethodGet,
			path:     "/core/groups/{group}/",
			want:     outcome{Status: http.StatusOK},
			groups:   1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			g := e.createGroup(t, "existing")
			e.Sim.WithholdPermissions(tc.withheld...)
			req, err := http.NewRequestWithContext(e.ctx, tc.method, e.URL+"/api/v3"+strings.ReplaceAll(tc.path, "{group}", g.Pk), strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+testToken)
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got := outcome{Status: resp.StatusCode}
			if resp.StatusCode >= http.StatusBadRequest {
				b, _ := io.ReadAll(resp.Body)
				if err := json.Unmarshal(b, &got.Body); err != nil {
					t.Fatalf("decode %q: %v", b, err)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			e.Sim.WithholdPermissions()
			list, _, err := e.c.CoreAPI.CoreGroupsList(e.ctx).Execute()
			if err != nil {
				t.Fatal(err)
			}
			if n := len(list.Results); n != tc.groups {
				t.Errorf("%s\n%d groups after the request, want %d", tc.reason, n, tc.groups)
			}
		})
	}
}

// TestPermissionModelsAreServed checks every collection whose writes need
// a permission is one the simulator serves, with a create route.
func TestPermissionModelsAreServed(t *testing.T) {
	t.Parallel()
	creates := map[string]string{}
	for _, rt := range apiRoutes() {
		if p := requiredPermission(rt); p != "" && rt.method == http.MethodPost {
			creates[rt.pattern] = p
		}
	}
	for collection, model := range permissionModels {
		app, name, _ := strings.Cut(model, ".")
		if got, want := creates[collection], app+".add_"+name; got != want {
			t.Errorf("POST %s needs %q, want %q", collection, got, want)
		}
	}
}
