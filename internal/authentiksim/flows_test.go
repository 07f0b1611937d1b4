package authentiksim

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
)

func TestFlowList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := map[string]struct {
		reason         string
		list           func(r api.ApiFlowsInstancesListRequest) api.ApiFlowsInstancesListRequest
		wantSlugs      []string
		wantPagination api.Pagination
	}{
		"BySlug": {
			reason: "The slug filter finds exactly one flow.",
			list: func(r api.ApiFlowsInstancesListRequest) api.ApiFlowsInstancesListRequest {
				return r.Slug(slugProviderLogout)
			},
			wantSlugs:      []string{slugProviderLogout},
			wantPagination: api.Pagination{Count: 1, Current: 1, TotalPages: 1, StartIndex: 1, EndIndex: 1},
		},
		"UnknownSlug": {
			reason: "An unknown slug gives an empty page, which still counts as one page.",
			list: func(r api.ApiFlowsInstancesListRequest) api.ApiFlowsInstancesListRequest {
				return r.Slug("nope")
			},
			wantSlugs:      []string{},
			wantPagination: api.Pagination{Current: 1, TotalPages: 1},
		},
		"ByDesignation": {
			reason: "A fresh install has two authorization flows, listed by slug.",
			list: func(r api.ApiFlowsInstancesListRequest) api.ApiFlowsInstancesListRequest {
				return r.Designation(api.FLOWDESIGNATIONENUM_AUTHORIZATION)
			},
			wantSlugs:      []string{slugExplicitConsent, slugImplicitConsent},
			wantPagination: api.Pagination{Count: 2, Current: 1, TotalPages: 1, StartIndex: 1, EndIndex: 2},
		},
		"OrderedDescending": {
			reason: "ordering sorts by a response field, - for descending.",
			list: func(r api.ApiFlowsInstancesListRequest) api.ApiFlowsInstancesListRequest {
				return r.Designation(api.FLOWDESIGNATIONENUM_INVALIDATION).Ordering("-slug")
			},
			wantSlugs:      []string{slugProviderLogout, "default-invalidation-flow"},
			wantPagination: api.Pagination{Count: 2, Current: 1, TotalPages: 1, StartIndex: 1, EndIndex: 2},
		},
		"SecondPage": {
			reason: "Pages carry next and previous page numbers, 0 when there is none.",
			list: func(r api.ApiFlowsInstancesListRequest) api.ApiFlowsInstancesListRequest {
				return r.PageSize(2).Page(2)
			},
			wantSlugs:      []string{slugExplicitConsent, slugImplicitConsent},
			wantPagination: api.Pagination{Next: 3, Previous: 1, Count: 5, Current: 2, TotalPages: 3, StartIndex: 3, EndIndex: 4},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l, _, err := tc.list(e.c.FlowsAPI.FlowsInstancesList(e.ctx)).Execute()
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			got := []string{}
			for _, f := range l.Results {
				got = append(got, f.Slug)
			}
			if diff := cmp.Diff(tc.wantSlugs, got); diff != "" {
				t.Errorf("%s\nslugs: -want, +got:\n%s", tc.reason, diff)
			}
			l.Pagination.AdditionalProperties = nil
			if diff := cmp.Diff(tc.wantPagination, l.Pagination); diff != "" {
				t.Errorf("%s\npagination: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}

	_, resp, err := e.c.FlowsAPI.FlowsInstancesList(e.ctx).Page(9).Execute()
	if diff := cmp.Diff(detailError(http.StatusNotFound, "Invalid page."), outcomeOf(t, resp, err)); diff != "" {
		t.Errorf("a page past the end: -want, +got:\n%s", diff)
	}
	_, resp, err = e.c.FlowsAPI.FlowsInstancesRetrieve(e.ctx, "nope").Execute()
	if diff := cmp.Diff(detailError(http.StatusNotFound, "Not found."), outcomeOf(t, resp, err)); diff != "" {
		t.Errorf("retrieve an unknown slug: -want, +got:\n%s", diff)
	}
}

func TestFlowDestroyCascades(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := api.NewFlowRequest("Temporary", "temporary", "Temporary", api.FLOWDESIGNATIONENUM_AUTHORIZATION)
	flow, _, err := e.c.FlowsAPI.FlowsInstancesCreate(e.ctx).FlowRequest(*r).Execute()
	if err != nil {
		t.Fatalf("create flow: %v", err)
	}
	authorizedBy := e.proxyRequest("authorized-by")
	authorizedBy.SetAuthorizationFlow(flow.Pk)
	gone, _, err := e.c.ProvidersAPI.ProvidersProxyCreate(e.ctx).ProxyProviderRequest(*authorizedBy).Execute()
	if err != nil {
		t.Fatalf("create provider: %v", err)
	}
	authenticatedBy := e.proxyRequest("authenticated-by")
	authenticatedBy.SetAuthenticationFlow(flow.Pk)
	kept, _, err := e.c.ProvidersAPI.ProvidersProxyCreate(e.ctx).ProxyProviderRequest(*authenticatedBy).Execute()
	if err != nil {
		t.Fatalf("create provider: %v", err)
	}
	g := e.createGroup(t, "g")
	binding := e.bindGroup(t, flow.Pk, g.Pk, 0)

	if _, err := e.c.FlowsAPI.FlowsInstancesDestroy(e.ctx, "temporary").Execute(); err != nil {
		t.Fatalf("destroy flow: %v", err)
	}
	_, resp, err := e.c.ProvidersAPI.ProvidersProxyRetrieve(e.ctx, gone.Pk).Execute()
	if diff := cmp.Diff(detailError(http.StatusNotFound, "Not found."), outcomeOf(t, resp, err)); diff != "" {
		t.Errorf("a provider whose authorization flow is deleted is deleted: -want, +got:\n%s", diff)
	}
	got, _, err := e.c.ProvidersAPI.ProvidersProxyRetrieve(e.ctx, kept.Pk).Execute()
	if err != nil {
		t.Fatalf("a provider that only authenticated with the flow stays: %v", err)
	}
	if got.AuthenticationFlow.Get() != nil {
		t.Errorf("authentication_flow %q after its flow is gone; want null", *got.AuthenticationFlow.Get())
	}
	_, resp, err = e.c.PoliciesAPI.PoliciesBindingsRetrieve(e.ctx, binding.Pk).Execute()
	if diff := cmp.Diff(detailError(http.StatusNotFound, "Not found."), outcomeOf(t, resp, err)); diff != "" {
		t.Errorf("bindings on a deleted flow go with it: -want, +got:\n%s", diff)
	}
}
