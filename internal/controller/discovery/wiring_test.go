package discovery

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/test"
)

// TestHTTPRouteWiringUnreadable checks what discovery concludes when it
// cannot list Envoy Gateway's SecurityPolicies: without the CRD there are
// none, so a route without a filter is unwired; when it may not list them,
// or the list fails, it cannot tell and says nothing.
func TestHTTPRouteWiringUnreadable(t *testing.T) {
	t.Parallel()
	gr := schema.GroupResource{Group: "gateway.envoyproxy.io", Resource: "securitypolicies"}
	cases := map[string]struct {
		reason string
		err    error
		want   wiring
	}{
		"NoEnvoyGateway": {
			reason: "No SecurityPolicy kind in the cluster: nothing wires the route.",
			err:    &meta.NoKindMatchError{GroupKind: securityPolicyGroupVersionKind.GroupKind()},
			want:   wiring{known: true},
		},
		"Forbidden": {
			reason: "The provider may not list SecurityPolicies: it cannot tell, and warns of nothing.",
			err:    kerrors.NewForbidden(gr, "", errors.New("no RBAC")),
			want:   wiring{},
		},
		"Failing": {
			reason: "The list fails: it cannot tell.",
			err:    errors.New("boom"),
			want:   wiring{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := &test.MockClient{MockList: test.NewMockListFn(tc.err)}
			got := httpRouteWiring(context.Background(), r, httpRoute(nil))
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(wiring{})); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
