package authentiksim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRequiredFields checks the DRF answer to bodies that lack required
// fields. With schema checking on, such a request is a violation before it
// reaches the rules, so this runs with checking off and raw JSON: the Go
// client cannot leave out a required field.
func TestRequiredFields(t *testing.T) {
	t.Parallel()
	sim, err := New(Options{Token: testToken, DisableSchema: true})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)

	required := []any{msgRequired}
	cases := map[string]struct {
		reason string
		method string
		path   string
		body   string
		want   map[string]any
	}{
		"ProxyProvider": {
			reason: "name, both flows and external_host are required.",
			method: http.MethodPost, path: "/providers/proxy/", body: `{}`,
			want: map[string]any{"name": required, "authorization_flow": required, "invalidation_flow": required, "external_host": required},
		},
		"LDAPProvider": {
			reason: "name and both flows are required; base_dn may not be blank.",
			method: http.MethodPost, path: "/providers/ldap/", body: `{"base_dn": ""}`,
			want: map[string]any{"name": required, "authorization_flow": required, "invalidation_flow": required, "base_dn": []any{msgBlank}},
		},
		"Application": {
			reason: "name and slug are required.",
			method: http.MethodPost, path: "/core/applications/", body: `{"provider": null}`,
			want: map[string]any{"name": required, "slug": required},
		},
		"Outpost": {
			reason: "name, type, providers and config are required.",
			method: http.MethodPost, path: "/outposts/instances/", body: `{}`,
			want: map[string]any{"name": required, "type": required, "providers": required, "config": required},
		},
		"Group": {
			reason: "name is required and may not be blank.",
			method: http.MethodPost, path: "/core/groups/", body: `{"name": "  "}`,
			want: map[string]any{"name": []any{msgBlank}},
		},
		"PolicyBinding": {
			reason: "target and order are required.",
			method: http.MethodPost, path: "/policies/bindings/", body: `{"negate": true}`,
			want: map[string]any{"target": required, "order": required},
		},
		"ExpressionPolicy": {
			reason: "name and expression are required; a blank expression is refused.",
			method: http.MethodPost, path: "/policies/expression/", body: `{"expression": " "}`,
			want: map[string]any{"name": required, "expression": []any{msgBlank}},
		},
		"ScopeMapping": {
			reason: "name, scope_name and expression are required; a blank scope name is refused.",
			method: http.MethodPost, path: "/propertymappings/provider/scope/", body: `{"scope_name": " "}`,
			want: map[string]any{"name": required, "scope_name": []any{msgBlank}, "expression": required},
		},
		"CertificateKeyPair": {
			reason: "name and certificate_data are required; a blank name is refused.",
			method: http.MethodPost, path: "/crypto/certificatekeypairs/", body: `{"name": " "}`,
			want: map[string]any{"name": []any{msgBlank}, "certificate_data": required},
		},
		"SAMLProvider": {
			reason: "name, both flows and acs_url are required; a blank acs_url is refused.",
			method: http.MethodPost, path: "/providers/saml/", body: `{"acs_url": " "}`,
			want: map[string]any{"name": required, "authorization_flow": required, "invalidation_flow": required, "acs_url": []any{msgBlank}},
		},
		"SAMLPropertyMapping": {
			reason: "name, saml_name and expression are required; a blank saml_name is refused.",
			method: http.MethodPost, path: "/propertymappings/provider/saml/", body: `{"saml_name": " "}`,
			want: map[string]any{"name": required, "saml_name": []any{msgBlank}, "expression": required},
		},
		"MalformedJSON": {
			reason: "A body that is not JSON gets DRF's parse error.",
			method: http.MethodPost, path: "/core/groups/", body: `{"name":`,
			want: map[string]any{"detail": "JSON parse error - unexpected end of JSON input"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, ts.URL+apiPrefix+tc.path, bytes.NewBufferString(tc.body))
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
			var got map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.StatusCode)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
	if len(sim.Violations()) != 0 {
		t.Errorf("with schema checking off nothing is a violation: %v", sim.Violations())
	}
}
