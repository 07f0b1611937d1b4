package authentiksim

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		header string
		want   outcome
	}{
		"ValidToken": {
			reason: "The bootstrap token as a Bearer token is accepted.",
			header: "Bearer " + testToken,
			want:   outcome{Status: http.StatusOK},
		},
		"LowercaseScheme": {
			reason: "The scheme is matched without regard to case.",
			header: "bearer " + testToken,
			want:   outcome{Status: http.StatusOK},
		},
		"WrongToken": {
			reason: "An unknown token is refused with 403, not 401.",
			header: "Bearer not-the-token",
			want:   detailError(http.StatusForbidden, "Token invalid/expired"),
		},
		"OtherScheme": {
			reason: "Only Bearer is supported.",
			header: "Basic dXNlcjpwYXNz",
			want:   detailError(http.StatusForbidden, "Unsupported authentication type"),
		},
		"NoCredentials": {
			reason: "A header without a scheme counts as no credentials.",
			header: testToken,
			want:   detailError(http.StatusForbidden, "Authentication credentials were not provided."),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			cfg := api.NewConfiguration()
			cfg.Servers = api.ServerConfigurations{{URL: e.URL + "/api/v3"}}
			cfg.AddDefaultHeader("Authorization", tc.header)
			c := api.NewAPIClient(cfg)
			_, resp, err := c.FlowsAPI.FlowsInstancesList(e.ctx).Slug(slugProviderLogout).Execute()
			if diff := cmp.Diff(tc.want, outcomeOf(t, resp, err)); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestTokenRotation(t *testing.T) {
	t.Parallel()
	const rotated = "rotated-token"
	cases := map[string]struct {
		reason string
		body   string
		status int
		token  string
		want   outcome
	}{
		"OldTokenRefused": {
			reason: "After PUT /_sim/token the old token is invalid, as once Authentik's old token is deleted.",
			body:   `{"token": "` + rotated + `"}`, status: http.StatusNoContent,
			token: testToken,
			want:  detailError(http.StatusForbidden, "Token invalid/expired"),
		},
		"NewTokenAccepted": {
			reason: "After PUT /_sim/token the new token is accepted.",
			body:   `{"token": "` + rotated + `"}`, status: http.StatusNoContent,
			token: rotated,
			want:  outcome{Status: http.StatusOK},
		},
		"EmptyTokenRefused": {
			reason: "An empty token is refused and the old one stays valid.",
			body:   `{"token": ""}`, status: http.StatusBadRequest,
			token: testToken,
			want:  outcome{Status: http.StatusOK},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			req, err := http.NewRequestWithContext(e.ctx, http.MethodPut, e.URL+"/_sim/token", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("%s\nPUT /_sim/token: status %d, want %d", tc.reason, resp.StatusCode, tc.status)
			}
			_, resp, err = newClient(e.URL, tc.token).FlowsAPI.FlowsInstancesList(e.ctx).Slug(slugProviderLogout).Execute()
			if diff := cmp.Diff(tc.want, outcomeOf(t, resp, err)); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
