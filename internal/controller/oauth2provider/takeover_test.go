package oauth2provider

import (
	"strconv"
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

func TestNoTakeover(t *testing.T) {
	mrtest.RunTakeover(t, mrtest.Takeover{
		Kind:    Kind,
		Options: func(e *mrtest.Env) []managed.ReconcilerOption { return ReconcilerOptions(e.Kube, e.Connector) },
		Existing: func(t *testing.T, e *mrtest.Env) string {
			theirs := oauth2Provider(func(cr *v1alpha1.OAuth2Provider) {
				cr.Spec.ForProvider.RedirectURIs = []v1alpha1.RedirectURI{{URL: "https://someone-elses.example.com/cb"}}
			})
			return strconv.Itoa(int(existingProvider(t, e, theirs)))
		},
		Resource: func(_ *mrtest.Env, adopt bool) resource.Managed {
			return oauth2Provider(func(cr *v1alpha1.OAuth2Provider) { cr.Spec.AdoptExisting = adopt })
		},
		Path:  func(id string) string { return "/providers/oauth2/" + id + "/" },
		Count: func(t *testing.T, e *mrtest.Env) int { return len(providersNamed(t, e, providerName)) },
	})
}
