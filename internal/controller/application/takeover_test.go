package application

import (
	"context"
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// TestNoTakeover: an application whose slug is taken is never managed
// without consent, so a second team's resource cannot change or delete the
// first team's application.
func TestNoTakeover(t *testing.T) {
	mrtest.RunTakeover(t, mrtest.Takeover{
		Kind:    Kind,
		Options: func(e *mrtest.Env) []managed.ReconcilerOption { return ReconcilerOptions(e.Kube, e.Connector) },
		Existing: func(t *testing.T, e *mrtest.Env) string {
			proxyProvider(t, e, providerKind)
			return existingApplication(t, e, appSlug, nil).Slug
		},
		Resource: func(_ *mrtest.Env, adopt bool) resource.Managed {
			return application(func(cr *v1alpha1.Application) { cr.Spec.AdoptExisting = adopt })
		},
		Path: func(slug string) string { return "/core/applications/" + slug + "/" },
		Count: func(t *testing.T, e *mrtest.Env) int {
			l, resp, err := e.Authentik.API.CoreAPI.CoreApplicationsList(context.Background()).SuperuserFullList(true).Slug(appSlug).Execute()
			if err := authentik.Classify(resp, err); err != nil {
				t.Fatal(err)
			}
			return len(l.Results)
		},
	})
}
