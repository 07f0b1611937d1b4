package user

import (
	"testing"

	api "goauthentik.io/api/v3"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

func TestNoTakeover(t *testing.T) {
	t.Parallel()
	mrtest.RunTakeover(t, mrtest.Takeover{
		Kind:    Kind,
		Options: mrtest.OptionsOf(ReconcilerOptions),
		Existing: func(t *testing.T, e *mrtest.Env) string {
			return itoa(authentikUser(t, e, *api.NewUserRequest(username, "Someone")))
		},
		Resource: func(_ *mrtest.Env, adopt bool) resource.Managed {
			return person(func(cr *v1alpha1.User) { cr.Spec.AdoptExisting = adopt })
		},
		Path:  func(id string) string { return "/core/users/" + id + "/" },
		Count: func(t *testing.T, e *mrtest.Env) int { return len(usersNamed(t, e, username)) },
	})
}
