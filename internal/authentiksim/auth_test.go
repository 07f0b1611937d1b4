package authentiksim

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
)

func TestAuthentication(t *testing.T) {
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
