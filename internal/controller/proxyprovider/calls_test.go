package proxyprovider

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// TestCalls counts the requests to Authentik a ProxyProvider costs: its
// create until Ready, and a poll once Ready.
func TestCalls(t *testing.T) {
	t.Parallel()
	mrtest.RunCalls(t, func(t *testing.T) (*mrtest.Env, reconcile.Reconciler, client.Object) {
		cr := proxyProvider()
		env := mrtest.New(t, cr)
		return env, env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...), cr
	}, mrtest.CreateCalls{
		Reason: "A create resolves its two flow slugs (cached for every later reconcile), reads the shared list once (which its polls then read) and sends the create: no lookup of the name before it.",
		Want:   map[string]int{"flows_instances_retrieve": 2, "providers_proxy_list": 1, "providers_proxy_create": 1},
	}, "providers_proxy_list")
}
