package authentiksim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
)

func (e *env) samlRequest(name string) *api.SAMLProviderRequest {
	return api.NewSAMLProviderRequest(name, e.authFlow, e.invFlow, "https://"+name+".example.com/saml/acs")
}

// TestSAMLProviderRules: SAMLProviderSerializer's rules over the 2026.5
// schema with the Go client.
func TestSAMLProviderRules(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason  string
		request func(t *testing.T, e *env) *api.SAMLProviderRequest
		want    outcome
	}{
		"Minimal": {
			reason:  "Name, both flows and acs_url make a provider.",
			request: func(_ *testing.T, e *env) *api.SAMLProviderRequest { return e.samlRequest("wiki") },
			want:    outcome{Status: http.StatusCreated},
		},
		"BadACS": {
			reason: "acs_url is a URLField: http, https or ftp.",
			request: func(_ *testing.T, e *env) *api.SAMLProviderRequest {
				r := e.samlRequest("wiki")
				r.AcsUrl = "mailto:wiki@example.com"
				return r
			},
			want: fieldError("acs_url", msgBadURL),
		},
		"NameTakenByOtherType": {
			reason: "Provider.name is unique across provider types.",
			request: func(t *testing.T, e *env) *api.SAMLProviderRequest {
				e.createProvider(t, "wiki")
				return e.samlRequest("wiki")
			},
			want: fieldError("name", "provider with this name already exists."),
		},
		"SigningKeyWithoutSigning": {
			reason: "A signing key pair with neither sign_assertion nor sign_response in the request is refused.",
			request: func(t *testing.T, e *env) *api.SAMLProviderRequest {
				r := e.samlRequest("wiki")
				r.SetSigningKp(e.createKeyPair(t, "signing", newTestPEM(t, "signing")).Pk)
				return r
			},
			want: outcome{Status: http.StatusBadRequest, Body: map[string]any{msgNonFieldError: []any{msgSigningWithoutSigning}}},
		},
		"SigningKeyWithSignedAssertion": {
			reason: "A signing key pair with sign_assertion true is accepted.",
			request: func(t *testing.T, e *env) *api.SAMLProviderRequest {
				r := e.samlRequest("wiki")
				r.SetSigningKp(e.createKeyPair(t, "signing", newTestPEM(t, "signing")).Pk)
				r.SetSignAssertion(true)
				return r
			},
			want: outcome{Status: http.StatusCreated},
		},
		"UnknownSigningKey": {
			reason: "signing_kp must name a key pair.",
			request: func(_ *testing.T, e *env) *api.SAMLProviderRequest {
				r := e.samlRequest("wiki")
				r.SetSigningKp("00000000-0000-4000-8000-000000000000")
				r.SetSignAssertion(true)
				return r
			},
			want: fieldError("signing_kp", `Invalid pk "00000000-0000-4000-8000-000000000000" - object does not exist.`),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			_, resp, err := e.c.ProvidersAPI.ProvidersSamlCreate(e.ctx).SAMLProviderRequest(*tc.request(t, e)).Execute()
			if diff := cmp.Diff(tc.want, outcomeOf(t, resp, err)); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestSAMLProviderCascades: what the provider's references do to it when
// they go, and what an application makes of it.
func TestSAMLProviderCascades(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	k := e.createKeyPair(t, "signing", newTestPEM(t, "signing"))
	r := e.samlRequest("wiki")
	r.SetSigningKp(k.Pk)
	r.SetSignResponse(true)
	p, _, err := e.c.ProvidersAPI.ProvidersSamlCreate(e.ctx).SAMLProviderRequest(*r).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if p.UrlSsoPost != "-" {
		t.Errorf("url_sso_post without an application = %q, want -", p.UrlSsoPost)
	}
	e.createApplication(t, "wiki", &p.Pk)
	if _, err := e.c.CryptoAPI.CryptoCertificatekeypairsDestroy(e.ctx, k.Pk).Execute(); err != nil {
		t.Fatal(err)
	}
	got, _, err := e.c.ProvidersAPI.ProvidersSamlRetrieve(e.ctx, p.Pk).Execute()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"signing_kp": nil, "url_sso_post": e.URL + "/application/saml/wiki/sso/binding/post/", "application": "wiki"}
	gotm := map[string]any{"signing_kp": nil, "url_sso_post": got.UrlSsoPost, "application": got.GetAssignedApplicationSlug()}
	if k := got.SigningKp.Get(); k != nil {
		gotm["signing_kp"] = *k
	}
	if diff := cmp.Diff(want, gotm); diff != "" {
		t.Errorf("after the key pair's delete, with an application:\n-want, +got:\n%s", diff)
	}
	if _, err := e.c.ProvidersAPI.ProvidersSamlDestroy(e.ctx, p.Pk).Execute(); err != nil {
		t.Fatal(err)
	}
	a, _, err := e.c.CoreAPI.CoreApplicationsRetrieve(e.ctx, "wiki").Execute()
	if err != nil {
		t.Fatal(err)
	}
	if a.Provider.Get() != nil {
		t.Errorf("application's provider after the provider's delete = %d, want null", *a.Provider.Get())
	}
}

// TestSAMLIssuerByLine: releases before 2026.5 store the issuer as issuer
// (default "authentik", never blank) and ignore issuer_override; 2026.5 and
// later the other way round, with an empty default.
func TestSAMLIssuerByLine(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		line   string
		body   map[string]any
		status int
		want   map[string]any
	}{
		"OldDefault": {
			line: "2025.10", status: http.StatusCreated,
			want: map[string]any{"issuer": "authentik"},
		},
		"OldIgnoresOverride": {
			line: "2024.12", body: map[string]any{"issuer_override": "https://idp"}, status: http.StatusCreated,
			want: map[string]any{"issuer": "authentik"},
		},
		"OldSetsIssuer": {
			line: "2026.2", body: map[string]any{"issuer": "https://idp"}, status: http.StatusCreated,
			want: map[string]any{"issuer": "https://idp"},
		},
		"OldRefusesBlank": {
			line: "2026.2", body: map[string]any{"issuer": " "}, status: http.StatusBadRequest,
			want: map[string]any{"issuer": []any{msgBlank}},
		},
		"NewDefault": {
			line: "2026.5", status: http.StatusCreated,
			want: map[string]any{"issuer_override": ""},
		},
		"NewIgnoresIssuer": {
			line: "2026.8", body: map[string]any{"issuer": "https://idp"}, status: http.StatusCreated,
			want: map[string]any{"issuer_override": ""},
		},
		"NewSetsOverride": {
			line: "2026.5", body: map[string]any{"issuer_override": "https://idp"}, status: http.StatusCreated,
			want: map[string]any{"issuer_override": "https://idp"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnvAt(t, tc.line)
			body := map[string]any{"name": "wiki", "authorization_flow": e.authFlow, "invalidation_flow": e.invFlow, "acs_url": "https://wiki.example.com/acs"}
			for k, v := range tc.body {
				body[k] = v
			}
			status, got := e.rawJSON(t, http.MethodPost, "/providers/saml/", body)
			if status != tc.status {
				t.Fatalf("status = %d, want %d: %v", status, tc.status, got)
			}
			picked := map[string]any{}
			for k := range tc.want {
				picked[k] = got[k]
			}
			for _, k := range []string{"issuer", "issuer_override"} {
				if _, wanted := tc.want[k]; !wanted && got[k] != nil {
					t.Errorf("the answer has %s = %v, which line %s does not send", k, got[k], tc.line)
				}
			}
			if diff := cmp.Diff(tc.want, picked); diff != "" {
				t.Errorf("-want, +got:\n%s", diff)
			}
		})
	}
}

// rawJSON sends body as JSON to path below the API root with the test
// token and decodes the answer, for lines whose answers the 2026.5 client
// cannot decode.
func (e *env) rawJSON(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.URL+"/api/v3"+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode %s %s (%s): %v", method, path, strconv.Itoa(resp.StatusCode), err)
	}
	return resp.StatusCode, out
}
