package authentiksim

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
)

func TestPolicyBindingRules(t *testing.T) {
	t.Parallel()
	type ids struct{ app, group, policy, binding string }
	cases := map[string]struct {
		reason string
		call   func(e *env, id ids) (*api.PolicyBinding, *http.Response, error)
		want   func(id ids) outcome
		// check looks at a successful answer.
		check func(t *testing.T, got *api.PolicyBinding)
	}{
		"NoSubject": {
			reason: "One of policy, user and group must be set.",
			call: func(e *env, id ids) (*api.PolicyBinding, *http.Response, error) {
				return e.c.PoliciesAPI.PoliciesBindingsCreate(e.ctx).PolicyBindingRequest(*api.NewPolicyBindingRequest(id.app, 5)).Execute()
			},
			want: func(ids) outcome { return fieldError(msgNonFieldError, msgBindingNone) },
		},
		"TwoSubjects": {
			reason: "Only one of policy, user and group may be set.",
			call: func(e *env, id ids) (*api.PolicyBinding, *http.Response, error) {
				r := api.NewPolicyBindingRequest(id.app, 5)
				r.SetGroup(id.group)
				r.SetPolicy(id.policy)
				return e.c.PoliciesAPI.PoliciesBindingsCreate(e.ctx).PolicyBindingRequest(*r).Execute()
			},
			want: func(ids) outcome { return fieldError(msgNonFieldError, msgBindingTooMany) },
		},
		"SamePolicyTargetOrder": {
			reason: "(policy, target, order) is unique together.",
			call: func(e *env, id ids) (*api.PolicyBinding, *http.Response, error) {
				r := api.NewPolicyBindingRequest(id.app, 0)
				r.SetPolicy(id.policy)
				return e.c.PoliciesAPI.PoliciesBindingsCreate(e.ctx).PolicyBindingRequest(*r).Execute()
			},
			want: func(ids) outcome {
				return fieldError(msgNonFieldError, "The fields policy, target, order must make a unique set.")
			},
		},
		"SameGroupTargetOrder": {
			reason: "The unique-together check skips bindings without a policy.",
			call: func(e *env, id ids) (*api.PolicyBinding, *http.Response, error) {
				r := api.NewPolicyBindingRequest(id.app, 0)
				r.SetGroup(id.group)
				return e.c.PoliciesAPI.PoliciesBindingsCreate(e.ctx).PolicyBindingRequest(*r).Execute()
			},
			want: func(ids) outcome { return outcome{Status: http.StatusCreated} },
		},
		"MissingTarget": {
			reason: "The target must be an existing application or flow.",
			call: func(e *env, id ids) (*api.PolicyBinding, *http.Response, error) {
				r := api.NewPolicyBindingRequest(id.group, 0)
				r.SetGroup(id.group)
				return e.c.PoliciesAPI.PoliciesBindingsCreate(e.ctx).PolicyBindingRequest(*r).Execute()
			},
			want: func(id ids) outcome {
				return fieldError("target", `Invalid pk "`+id.group+`" - object does not exist.`)
			},
		},
		"PatchWithoutSubject": {
			reason: "The one-of check counts what the request body sets, so a PATCH of the order alone fails.",
			call: func(e *env, id ids) (*api.PolicyBinding, *http.Response, error) {
				p := api.NewPatchedPolicyBindingRequest()
				p.SetOrder(9)
				return e.c.PoliciesAPI.PoliciesBindingsPartialUpdate(e.ctx, id.binding).PatchedPolicyBindingRequest(*p).Execute()
			},
			want: func(ids) outcome { return fieldError(msgNonFieldError, msgBindingNone) },
		},
		"PutSwitchesPolicyToGroup": {
			reason: "A PUT without policy clears it (DRF gives unique-together fields their model default).",
			call: func(e *env, id ids) (*api.PolicyBinding, *http.Response, error) {
				r := api.NewPolicyBindingRequest(id.app, 0)
				r.SetGroup(id.group)
				return e.c.PoliciesAPI.PoliciesBindingsUpdate(e.ctx, id.binding).PolicyBindingRequest(*r).Execute()
			},
			want: func(ids) outcome { return outcome{Status: http.StatusOK} },
			check: func(t *testing.T, got *api.PolicyBinding) {
				if got.Policy.Get() != nil || got.GroupObj.Get() == nil || got.GroupObj.Get().Name != "g" {
					t.Errorf("after PUT: policy %v, group_obj %v; want no policy and group g", got.Policy.Get(), got.GroupObj.Get())
				}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			id := ids{app: e.createApplication(t, "app", nil).Pk, group: e.createGroup(t, "g").Pk, policy: e.Sim.Fixtures().Policy}
			r := api.NewPolicyBindingRequest(id.app, 0)
			r.SetPolicy(id.policy)
			b, _, err := e.c.PoliciesAPI.PoliciesBindingsCreate(e.ctx).PolicyBindingRequest(*r).Execute()
			if err != nil {
				t.Fatalf("create policy binding: %v", err)
			}
			id.binding = b.Pk
			got, resp, err := tc.call(e, id)
			if diff := cmp.Diff(tc.want(id), outcomeOf(t, resp, err)); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			if tc.check != nil && err == nil {
				tc.check(t, got)
			}
		})
	}
}

func TestPolicyBindingList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.createApplication(t, "first", nil)
	second := e.createApplication(t, "second", nil)
	g := e.createGroup(t, "g")
	e.bindGroup(t, first.Pk, g.Pk, 10)
	e.bindGroup(t, first.Pk, g.Pk, 0)
	e.bindGroup(t, second.Pk, g.Pk, 0)

	l, _, err := e.c.PoliciesAPI.PoliciesBindingsList(e.ctx).Target(first.Pk).Execute()
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	got := []int32{}
	for _, b := range l.Results {
		got = append(got, b.Order)
	}
	if diff := cmp.Diff([]int32{0, 10}, got); diff != "" {
		t.Errorf("bindings of one target, by order: -want, +got:\n%s", diff)
	}
	l, _, err = e.c.PoliciesAPI.PoliciesBindingsList(e.ctx).TargetIn([]string{first.Pk, second.Pk}).Execute()
	if err != nil || len(l.Results) != 3 {
		t.Fatalf("target_in both applications: %v; want 3 results", err)
	}

	gone := l.Results[0].Pk
	if resp, err := e.c.PoliciesAPI.PoliciesBindingsDestroy(e.ctx, gone).Execute(); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("destroy: %v", err)
	}
	_, resp, err := e.c.PoliciesAPI.PoliciesBindingsRetrieve(e.ctx, gone).Execute()
	if diff := cmp.Diff(detailError(http.StatusNotFound, "Not found."), outcomeOf(t, resp, err)); diff != "" {
		t.Errorf("retrieve after destroy: -want, +got:\n%s", diff)
	}
	resp, err = e.c.PoliciesAPI.PoliciesBindingsDestroy(e.ctx, gone).Execute()
	if diff := cmp.Diff(detailError(http.StatusNotFound, "Not found."), outcomeOf(t, resp, err)); diff != "" {
		t.Errorf("destroy twice: -want, +got:\n%s", diff)
	}
}
