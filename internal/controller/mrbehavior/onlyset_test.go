package mrbehavior

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"
)

func TestOnlySet(t *testing.T) {
	t.Parallel()
	type Signing struct{ Key, KeyID *string }
	type params struct {
		Name  *string
		Flag  *bool
		List  []string
		Count int
		Signing
	}
	cases := map[string]struct {
		reason   string
		spec     params
		observed params
		want     params
	}{
		"UnsetFieldsDropped": {
			reason:   "Fields the spec leaves nil are dropped from what Authentik has.",
			spec:     params{Name: ptr.To("a")},
			observed: params{Name: ptr.To("b"), Flag: ptr.To(true), List: []string{"x"}},
			want:     params{Name: ptr.To("b")},
		},
		"EmptyListIsSet": {
			reason:   "An empty list the user set is managed: Authentik's list is kept to compare with it.",
			spec:     params{List: []string{}},
			observed: params{List: []string{"x"}},
			want:     params{List: []string{"x"}},
		},
		"EmbeddedFieldsCount": {
			reason:   "The fields of an embedded struct are the spec's own: unset ones are dropped.",
			spec:     params{Signing: Signing{KeyID: ptr.To("a")}},
			observed: params{Signing: Signing{Key: ptr.To("k"), KeyID: ptr.To("b")}},
			want:     params{Signing: Signing{KeyID: ptr.To("b")}},
		},
		"PlainValuesKept": {
			reason:   "A field that cannot be unset is kept as observed.",
			observed: params{Count: 3},
			want:     params{Count: 3},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, OnlySet(tc.spec, tc.observed)); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestLowered(t *testing.T) {
	t.Parallel()
	if got := Lowered(nil); got != nil {
		t.Errorf("Lowered(nil) = %v, want nil: an unset list stays unset", got)
	}
	if diff := cmp.Diff([]string{"ab-cd"}, Lowered([]string{"AB-cd"})); diff != "" {
		t.Errorf("Lowered: -want, +got:\n%s", diff)
	}
}
