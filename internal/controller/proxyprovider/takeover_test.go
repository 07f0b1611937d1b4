package proxyprovider

import (
	"strconv"
	"testing"

	"k8s.io/utils/ptr"

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
			p := proxyProvider().Spec.ForProvider
			p.ExternalHost = ptr.To("https://someone-elses.example.com")
			return strconv.Itoa(int(existingProvider(t, e, p)))
		},
		Resource: func(_ *mrtest.Env, adopt bool) resource.Managed {
			return proxyProvider(func(cr *v1alpha1.ProxyProvider) { cr.Spec.AdoptExisting = adopt })
		},
		Path:  func(id string) string { return "/providers/proxy/" + id + "/" },
		Count: func(t *testing.T, e *mrtest.Env) int { return len(providersNamed(t, e, providerName)) },
	})
}
