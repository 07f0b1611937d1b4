package authentik_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	dto "github.com/prometheus/client_model/go"
	api "goauthentik.io/api/v3"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

// TestRequestMetrics sends requests to the simulator, some of them hit by a
// fault, and checks what the request, latency and retry metrics of their
// operation counted.
func TestRequestMetrics(t *testing.T) {
	ctx := context.Background()
	type counts struct {
		OK, ClientErrors, ServerErrors, Retries, Timed float64
	}
	read := func(op string) counts {
		return counts{
			OK:           metrics.Value(ctrlmetrics.Registry, metrics.NameAPIRequests, map[string]string{"operation": op, "code_class": "2xx"}),
			ClientErrors: metrics.Value(ctrlmetrics.Registry, metrics.NameAPIRequests, map[string]string{"operation": op, "code_class": "4xx"}),
			ServerErrors: metrics.Value(ctrlmetrics.Registry, metrics.NameAPIRequests, map[string]string{"operation": op, "code_class": "5xx"}),
			Retries:      metrics.Value(ctrlmetrics.Registry, metrics.NameAPIRetries, map[string]string{"operation": op}),
			Timed:        metrics.Value(ctrlmetrics.Registry, metrics.NameAPIRequestDuration, map[string]string{"operation": op}),
		}
	}
	cases := map[string]struct {
		reason string
		op     string
		// faultOn is the simulator's operation id to fail, "" for none.
		faultOn string
		fault   authentiksim.Fault
		call    func(c *authentik.Client, pk int32) error
		want    counts
	}{
		"RetrieveOK": {
			reason: "A retrieve is named by its route template, not by the provider's id.",
			op:     "GET /providers/proxy/{id}/",
			call: func(c *authentik.Client, pk int32) error {
				_, resp, err := c.API.ProvidersAPI.ProvidersProxyRetrieve(ctx, pk).Execute()
				return authentik.Classify(resp, err)
			},
			want: counts{OK: 1, Timed: 1},
		},
		"RetrieveRetried": {
			reason: "A 503 on a retrieve is counted as a server error and a retry, and the retry's answer as a success.",
			op:     "GET /providers/proxy/{id}/", faultOn: "providers_proxy_retrieve",
			fault: authentiksim.Fault{Status: http.StatusServiceUnavailable, Times: 1},
			call: func(c *authentik.Client, pk int32) error {
				_, resp, err := c.API.ProvidersAPI.ProvidersProxyRetrieve(ctx, pk).Execute()
				return authentik.Classify(resp, err)
			},
			want: counts{OK: 1, ServerErrors: 1, Retries: 1, Timed: 2},
		},
		"CreateFailed": {
			reason: "A 500 on a create is counted once: a create is never retried.",
			op:     "POST /providers/proxy/", faultOn: "providers_proxy_create",
			fault: authentiksim.Fault{Status: http.StatusInternalServerError, Times: 1},
			call: func(c *authentik.Client, _ int32) error {
				_, resp, err := c.API.ProvidersAPI.ProvidersProxyCreate(ctx).ProxyProviderRequest(proxyRequest(c, "failed")).Execute()
				if err := authentik.Classify(resp, err); err == nil {
					return errors.New("the create succeeded despite the fault")
				}
				return nil
			},
			want: counts{ServerErrors: 1, Timed: 1},
		},
		"DeleteMissing": {
			reason: "A delete of a missing provider is a 4xx of the delete operation.",
			op:     "DELETE /providers/proxy/{id}/",
			call: func(c *authentik.Client, pk int32) error {
				_, _ = c.API.ProvidersAPI.ProvidersProxyDestroy(ctx, pk+1000).Execute()
				return nil
			},
			want: counts{ClientErrors: 1, Timed: 1},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sim, c := simClient(t)
			p, resp, err := c.API.ProvidersAPI.ProvidersProxyCreate(ctx).ProxyProviderRequest(proxyRequest(c, name)).Execute()
			if err := authentik.Classify(resp, err); err != nil {
				t.Fatal(err)
			}
			if tc.faultOn != "" {
				sim.SetFault(tc.faultOn, tc.fault)
			}
			before := read(tc.op)
			if err := tc.call(c, p.Pk); err != nil {
				t.Fatal(err)
			}
			after := read(tc.op)
			got := counts{
				OK: after.OK - before.OK, ClientErrors: after.ClientErrors - before.ClientErrors, ServerErrors: after.ServerErrors - before.ServerErrors,
				Retries: after.Retries - before.Retries, Timed: after.Timed - before.Timed,
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestOperationLabelsBounded checks that no operation label holds an id:
// every label is a method and a route template, or "other".
func TestOperationLabelsBounded(t *testing.T) {
	ctx := context.Background()
	_, c := simClient(t)
	for _, name := range []string{"a", "b", "c"} {
		p, resp, err := c.API.ProvidersAPI.ProvidersProxyCreate(ctx).ProxyProviderRequest(proxyRequest(c, name)).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			t.Fatal(err)
		}
		_, _, _ = c.API.ProvidersAPI.ProvidersProxyRetrieve(ctx, p.Pk).Execute()
		_, _ = c.API.ProvidersAPI.ProvidersProxyDestroy(ctx, p.Pk).Execute()
		_, _, _ = c.API.CoreAPI.CoreApplicationsRetrieve(ctx, "app-"+name).Execute()
	}
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != metrics.NameAPIRequests {
			continue
		}
		for _, m := range f.GetMetric() {
			op := labelOf(m, "operation")
			method, path, _ := strings.Cut(op, " ")
			if method == "" || (path != "other" && !strings.HasPrefix(path, "/")) || strings.ContainsAny(path, "0123456789") || strings.Contains(path, "app-") {
				t.Errorf("operation label %q is not a method and a route template", op)
			}
		}
	}
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// proxyRequest is a valid proxy provider named name, using the simulator's
// seeded flows.
func proxyRequest(c *authentik.Client, name string) api.ProxyProviderRequest {
	ctx := context.Background()
	flows, _, err := c.API.FlowsAPI.FlowsInstancesList(ctx).Execute()
	if err != nil || len(flows.Results) == 0 {
		return api.ProxyProviderRequest{Name: name, ExternalHost: "https://" + name + ".example.com"}
	}
	r := api.ProxyProviderRequest{Name: name, ExternalHost: "https://" + name + ".example.com", InternalHost: api.PtrString("http://" + name + ":80")}
	for _, f := range flows.Results {
		switch f.Designation {
		case api.FLOWDESIGNATIONENUM_AUTHORIZATION:
			r.AuthorizationFlow = f.Pk
		case api.FLOWDESIGNATIONENUM_INVALIDATION:
			r.InvalidationFlow = f.Pk
		}
	}
	return r
}
