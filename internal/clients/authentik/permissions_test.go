package authentik_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim/simtest"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// TestMissingPermissions asks the simulator over HTTP: a superuser's token
// lacks nothing, and each probe names exactly the permission withheld, so
// every probe's path is a collection Authentik guards with that permission.
func TestMissingPermissions(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{"Superuser": nil}
	for _, p := range authentik.PermissionProbes {
		cases[p.Permission] = []string{p.Permission}
	}
	cases["Two"] = []string{authentik.PermissionProbes[0].Permission, authentik.PermissionProbes[len(authentik.PermissionProbes)-1].Permission}
	for name, withheld := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sim := simtest.New(t, mrtest.Token)
			sim.WithholdPermissions(withheld...)
			c, err := authentik.New(authentik.Config{URL: sim.URL, Token: mrtest.Token}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.MissingPermissions(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(withheld, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("MissingPermissions with %v withheld, -want +got:\n%s", withheld, diff)
			}
		})
	}
}
