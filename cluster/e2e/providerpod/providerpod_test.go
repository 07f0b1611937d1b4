package providerpod

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossplane/crossplane-runtime/v2/pkg/test"
)

func TestReady(t *testing.T) {
	errBoom := errors.New("boom")
	cases := map[string]struct {
		reason  string
		out     string
		err     error
		want    map[string]string
		wantErr error
	}{
		"OneReady": {
			reason: "A Ready pod is named with its address.",
			out:    "provider-authentik-abc 10.244.0.7 True \n",
			want:   map[string]string{"provider-authentik-abc": "10.244.0.7"},
		},
		"NotReadyOrDeleted": {
			reason: "A pod not Ready, or being deleted, is left out.",
			out: "provider-authentik-abc 10.244.0.7 True \n" +
				"provider-authentik-def 10.244.0.8 False \n" +
				"provider-authentik-ghi 10.244.0.9 True 2026-12-07T15:00:00Z\n",
			want: map[string]string{"provider-authentik-abc": "10.244.0.7"},
		},
		"KubectlFails": {
			reason:  "kubectl's error is returned.",
			err:     errBoom,
			wantErr: errBoom,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Ready(func(string, ...string) (string, error) { return tc.out, tc.err })
			if diff := cmp.Diff(tc.wantErr, err, test.EquateErrors()); diff != "" {
				t.Errorf("%s\nReady(...): -want error, +got error:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nReady(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestMetricsURL(t *testing.T) {
	if got, want := MetricsURL("10.244.0.7"), "http://10.244.0.7:8080/metrics"; got != want {
		t.Errorf("MetricsURL(10.244.0.7): got %q, want %q", got, want)
	}
}
