package mrbehavior

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"
)

func TestFillUnset(t *testing.T) {
	t.Parallel()
	type want struct {
		Field  *string
		Filled bool
	}
	cases := map[string]struct {
		reason   string
		field    *string
		observed *string
		want     want
	}{
		"Unset": {
			reason:   "An unset field takes what Authentik has.",
			observed: ptr.To("authentik"),
			want:     want{Field: ptr.To("authentik"), Filled: true},
		},
		"Set": {
			reason:   "A field the user set is kept.",
			field:    ptr.To("mine"),
			observed: ptr.To("authentik"),
			want:     want{Field: ptr.To("mine")},
		},
		"NothingObserved": {
			reason: "An unset field stays unset when Authentik has nothing for it.",
			want:   want{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			field := tc.field
			filled := FillUnset(&field, tc.observed)
			if diff := cmp.Diff(tc.want, want{Field: field, Filled: filled}); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			if filled && field == tc.observed {
				t.Errorf("%s\nthe field points at the observed value, not a copy of it", tc.reason)
			}
		})
	}
}
