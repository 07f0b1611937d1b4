package application

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// TestCalls counts the requests to Authentik an Application costs: its
// create until Ready, and a poll once Ready.
func TestCalls(t *testing.T) {
	t.Parallel()
	mrtest.RunCalls(t, func(t *testing.T) (*mrtest.Env, reconcile.Reconciler, client.Object) {
		cr := application()
		env := mrtest.New(t, cr)
		proxyProvider(t, env, providerKind)
		return env, env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...), cr
	}, mrtest.CreateCalls{
		Reason: "A create reads the shared list once (which its polls then read) and sends the create: no lookup of the slug before it.",
		Want:   map[string]int{"core_applications_list": 1, "core_applications_create": 1},
	}, "core_applications_list")
}
