package mrexternal

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource/fake"
)

func TestKey(t *testing.T) {
	t.Parallel()
	const msg = "the external name must be the object's key"
	type want struct {
		key  string
		path string
		err  bool
	}
	uuid := func(en string) want {
		k, err := (&Kind[*fake.ModernManaged, struct{}, struct{}, string]{ErrExternalName: msg}).External(nil).key(en)
		return want{key: k, path: keyString(k), err: err != nil}
	}
	pk := func(en string) want {
		k, err := (&Kind[*fake.ModernManaged, struct{}, struct{}, int32]{ErrExternalName: msg}).External(nil).key(en)
		w := want{path: keyString(k), err: err != nil}
		if err == nil {
			w.key = en
		}
		return w
	}
	cases := map[string]struct {
		reason string
		got    want
		want   want
	}{
		"UUID": {
			reason: "A UUID is a UUID kind's key and its path as it is.",
			got:    uuid("6d1f2c3a-0000-4000-8000-000000000025"),
			want:   want{key: "6d1f2c3a-0000-4000-8000-000000000025", path: "6d1f2c3a-0000-4000-8000-000000000025"},
		},
		"NotAUUID": {
			reason: "A name that is no UUID is refused.",
			got:    uuid("groups"),
			want:   want{err: true},
		},
		"PK": {
			reason: "A positive number is a pk kind's key; its path is the number without leading zeros.",
			got:    pk("007"),
			want:   want{key: "007", path: "7"},
		},
		"ZeroPK": {
			reason: "Authentik's pks start at 1.",
			got:    pk("0"),
			want:   want{path: "0", err: true},
		},
		"NotAPK": {
			reason: "A UUID is no pk.",
			got:    pk("6d1f2c3a-0000-4000-8000-000000000025"),
			want:   want{path: "0", err: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
