package mrbehavior

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/test"
)

func TestExternalUUID(t *testing.T) {
	t.Parallel()
	const msg = "the external name must be the group's UUID"
	cases := map[string]struct {
		externalName string
		want         string
		err          error
	}{
		"UUID":        {externalName: "9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f", want: "9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f"},
		"UpperCase":   {externalName: "9F1C2D3E-4B5A-6C7D-8E9F-0A1B2C3D4E5F", want: "9F1C2D3E-4B5A-6C7D-8E9F-0A1B2C3D4E5F"},
		"Name":        {externalName: "platform", err: errors.Errorf("%s, not %q", msg, "platform")},
		"Empty":       {externalName: "", err: errors.Errorf("%s, not %q", msg, "")},
		"TrailingDir": {externalName: "9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f/", err: errors.Errorf("%s, not %q", msg, "9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f/")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := ExternalUUID(tc.externalName, msg)
			if diff := cmp.Diff(tc.err, err, test.EquateErrors()); diff != "" {
				t.Errorf("ExternalUUID(%q): -want error, +got error:\n%s", tc.externalName, diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ExternalUUID(%q): -want, +got:\n%s", tc.externalName, diff)
			}
		})
	}
}
