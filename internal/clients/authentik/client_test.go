package authentik_test

import (
	"context"
	"net/http"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	"github.com/crossplane/crossplane-runtime/v2/pkg/test"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim/simtest"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, mrtest.Token)
	good, err := authentik.New(authentik.Config{URL: sim.URL, Token: mrtest.Token}, nil)
	if err != nil {
		t.Fatal(err)
	}
	badToken, err := authentik.New(authentik.Config{URL: sim.URL, Token: "wrong"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	type want struct {
		notFound, invalid, unauthorized, transient bool
		message                                    string
	}
	classes := func(err error) want {
		return want{
			notFound:     authentik.IsNotFound(err),
			invalid:      authentik.IsInvalid(err),
			unauthorized: authentik.IsUnauthorized(err),
			transient:    authentik.IsTransient(err),
			message:      errMessage(err),
		}
	}
	cases := map[string]struct {
		reason string
		call   func() error
		want   want
	}{
		"NotFound": {
			reason: "A missing flow is a 404.",
			call: func() error {
				_, resp, err := good.API.FlowsAPI.FlowsInstancesRetrieve(ctx, "no-such-flow").Execute()
				return authentik.Classify(resp, err)
			},
			want: want{notFound: true, message: "Authentik answered 404: Not found."},
		},
		"BadToken": {
			reason: "A refused token is an authentication failure with Authentik's detail.",
			call: func() error {
				_, resp, err := badToken.API.FlowsAPI.FlowsInstancesList(ctx).Execute()
				return authentik.Classify(resp, err)
			},
			want: want{unauthorized: true, message: "Authentik answered 403: Token invalid/expired"},
		},
		"ServerError": {
			reason: "A 500 is transient.",
			call: func() error {
				sim.SetFault("flows_instances_list", authentiksim.Fault{Status: http.StatusInternalServerError, Times: 1})
				_, resp, err := good.API.FlowsAPI.FlowsInstancesList(ctx).Execute()
				return authentik.Classify(resp, err)
			},
			want: want{transient: true, message: "Authentik answered 500: injected fault: 500 Internal Server Error"},
		},
		"NoResponse": {
			reason: "A dropped connection on a create, which is never retried, is transient.",
			call: func() error {
				sim.SetFault("core_groups_create", authentiksim.Fault{Drop: true, Times: 1})
				_, resp, err := good.API.CoreAPI.CoreGroupsCreate(ctx).GroupRequest(*apiGroup("admins")).Execute()
				return authentik.Classify(resp, err)
			},
			want: want{transient: true, message: "cannot reach Authentik"},
		},
		"Success": {
			reason: "A successful call is no error.",
			call: func() error {
				_, resp, err := good.API.FlowsAPI.FlowsInstancesList(ctx).Execute()
				return authentik.Classify(resp, err)
			},
			want: want{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := classes(tc.call())
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestRetry(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason    string
		op        string
		fault     authentiksim.Fault
		call      func(c *authentik.Client) error
		wantErr   bool
		wantCalls int
	}{
		"ReadRetriedUntilSuccess": {
			reason:    "Two 503s on a read are retried and the third attempt succeeds.",
			op:        "flows_instances_list",
			fault:     authentiksim.Fault{Status: http.StatusServiceUnavailable, Times: 2},
			call:      listFlows,
			wantCalls: 3,
		},
		"ReadRetriesBounded": {
			reason:    "A read that keeps failing gives up after three attempts.",
			op:        "flows_instances_list",
			fault:     authentiksim.Fault{Status: http.StatusBadGateway},
			call:      listFlows,
			wantErr:   true,
			wantCalls: 3,
		},
		"CreateNotRetried": {
			reason:    "A create is sent once, so a lost answer cannot make a duplicate.",
			op:        "core_groups_create",
			fault:     authentiksim.Fault{Status: http.StatusServiceUnavailable, Times: 1},
			call:      createGroup,
			wantErr:   true,
			wantCalls: 1,
		},
		"InvalidNotRetried": {
			reason: "A refused request is not retried.",
			op:     "flows_instances_retrieve",
			call: func(c *authentik.Client) error {
				_, err := c.FlowUUID(context.Background(), "no-such-flow")
				return err
			},
			wantErr:   true,
			wantCalls: 1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sim, c := simClient(t)
			if !reflect.ValueOf(tc.fault).IsZero() {
				sim.SetFault(tc.op, tc.fault)
			}
			err := tc.call(c)
			if (err != nil) != tc.wantErr {
				t.Errorf("%s\nerror = %v, want error %v", tc.reason, err, tc.wantErr)
			}
			if got := sim.Counts()[tc.op]; got != tc.wantCalls {
				t.Errorf("%s\n%s called %d times, want %d", tc.reason, tc.op, got, tc.wantCalls)
			}
		})
	}
}

// simClient is a simulator and a client of it without a connector.
func simClient(t *testing.T) (*simtest.Server, *authentik.Client) {
	t.Helper()
	sim := simtest.New(t, mrtest.Token)
	c, err := authentik.New(authentik.Config{URL: sim.URL, Token: mrtest.Token}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

func TestFlowCache(t *testing.T) {
	t.Parallel()
	sim := simtest.New(t, mrtest.Token)
	c, err := authentik.New(authentik.Config{URL: sim.URL, Token: mrtest.Token}, authentik.NewConnector(nil, authentik.DefaultReadAge))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, err := c.FlowUUID(ctx, authentik.DefaultInvalidationFlow)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.FlowUUID(ctx, authentik.DefaultInvalidationFlow)
	if err != nil || again != id {
		t.Fatalf("second lookup = %q, %v; want %q", again, err, id)
	}
	slug, err := c.FlowSlug(ctx, id)
	if err != nil || slug != authentik.DefaultInvalidationFlow {
		t.Fatalf("FlowSlug(%q) = %q, %v", id, slug, err)
	}
	if got := sim.Counts()["flows_instances_retrieve"] + sim.Counts()["flows_instances_list"]; got != 1 {
		t.Errorf("three lookups of one flow made %d API calls, want 1", got)
	}
}

func TestSpecFlowUUID(t *testing.T) {
	t.Parallel()
	const seenUUID = "5c4e0a2e-0000-4000-8000-0000000000aa"
	other := "other-flow"
	def := authentik.DefaultInvalidationFlow
	cases := map[string]struct {
		reason    string
		slug      *string
		observed  *string
		uuid      string
		want      string
		wantCalls int
	}{
		"ObservedAsSpecSlug": {
			reason:   "A flow an observation read as the spec's slug is the object's: no lookup.",
			slug:     &def,
			observed: &def,
			uuid:     seenUUID,
			want:     seenUUID,
		},
		"ObservedAsDefault": {
			reason:   "A spec without a slug names the default, which the observation read.",
			observed: &def,
			uuid:     seenUUID,
			want:     seenUUID,
		},
		"ObservedAsOtherSlug": {
			reason:    "The object's flow is another than the spec names: the spec's slug is looked up.",
			slug:      &def,
			observed:  &other,
			uuid:      seenUUID,
			wantCalls: 1,
		},
		"NothingObserved": {
			reason:    "A create has observed nothing: the slug is looked up.",
			slug:      &def,
			wantCalls: 1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sim, c := simClient(t)
			want := tc.want
			if want == "" {
				want = sim.Fixtures().Flows[def]
			}
			got, err := c.SpecFlowUUID(context.Background(), tc.slug, def, tc.observed, tc.uuid)
			if diff := cmp.Diff(want, got); diff != "" || err != nil {
				t.Errorf("%s\nerror %v; -want, +got:\n%s", tc.reason, err, diff)
			}
			if got := sim.Counts()["flows_instances_retrieve"]; got != tc.wantCalls {
				t.Errorf("%s\nflows_instances_retrieve called %d times, want %d", tc.reason, got, tc.wantCalls)
			}
		})
	}
}

func TestClientForTracksUsage(t *testing.T) {
	t.Parallel()
	tracked := errors.New("tracked")
	c := &authentik.Connector{Usage: resource.ModernTrackerFn(func(context.Context, resource.ModernManaged) error { return tracked })}
	_, err := c.ClientFor(context.Background(), &v1alpha1.ProxyProvider{})
	if diff := cmp.Diff(tracked, errors.Cause(err), test.EquateErrors()); diff != "" {
		t.Errorf("ClientFor must track usage before anything else (-want, +got):\n%s", diff)
	}
}

func TestNewRefusesEmpty(t *testing.T) {
	t.Parallel()
	cases := map[string]authentik.Config{
		"NoURL":   {Token: "t"},
		"NoToken": {URL: "https://authentik.example.com", Token: " \n"},
		"BadCA":   {URL: "https://authentik.example.com", Token: "t", CABundle: []byte("not pem")},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := authentik.New(cfg, nil); err == nil {
				t.Errorf("New(%+v) succeeded, want an error", cfg)
			}
		})
	}
}

func TestWithFieldPaths(t *testing.T) {
	t.Parallel()
	err := authentik.WithFieldPaths(&authentik.APIError{Status: 400, Fields: map[string][]string{
		"internal_host":    {"Internal host cannot be empty when forward auth is disabled."},
		"non_field_errors": {"Only one of policy, group or user may be set."},
	}}, map[string]string{"internal_host": "spec.forProvider.internalHost"})
	want := "Authentik refused the request (400): spec.forProvider.internalHost (internal_host): Internal host cannot be empty when forward auth is disabled.; Only one of policy, group or user may be set."
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("-want, +got:\n%s", diff)
	}
	if !authentik.IsInvalid(err) {
		t.Error("a renamed invalid-request error must stay invalid")
	}
}

func errMessage(err error) string {
	if err == nil {
		return ""
	}
	var ae *authentik.APIError
	if errors.As(err, &ae) && ae.Status == 0 {
		return "cannot reach Authentik"
	}
	return err.Error()
}

func listFlows(c *authentik.Client) error {
	_, resp, err := c.API.FlowsAPI.FlowsInstancesList(context.Background()).Execute()
	return authentik.Classify(resp, err)
}

func createGroup(c *authentik.Client) error {
	_, resp, err := c.API.CoreAPI.CoreGroupsCreate(context.Background()).GroupRequest(*apiGroup("ops")).Execute()
	return authentik.Classify(resp, err)
}
