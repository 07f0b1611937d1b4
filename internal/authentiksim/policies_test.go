package authentiksim

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
)

const memberOfTeam = `return ak_is_group_member(request.user, name="team")`

func (e *env) createExpressionPolicy(t *testing.T, name, expression string) *api.ExpressionPolicy {
	t.Helper()
	p, _, err := e.c.PoliciesAPI.PoliciesExpressionCreate(e.ctx).ExpressionPolicyRequest(*api.NewExpressionPolicyRequest(name, expression)).Execute()
	if err != nil {
		t.Fatalf("create expression policy %s: %v", name, err)
	}
	return p
}

func (e *env) bindPolicy(t *testing.T, target, policy string, order int32) *api.PolicyBinding {
	t.Helper()
	r := api.NewPolicyBindingRequest(target, order)
	r.SetPolicy(policy)
	b, _, err := e.c.PoliciesAPI.PoliciesBindingsCreate(e.ctx).PolicyBindingRequest(*r).Execute()
	if err != nil {
		t.Fatalf("bind policy %s to %s: %v", policy, target, err)
	}
	return b
}

func TestExpressionPolicyRules(t *testing.T) {
	t.Parallel()
	type ids struct{ policy, seeded string }
	cases := map[string]struct {
		reason string
		call   func(e *env, id ids) (*api.ExpressionPolicy, *http.Response, error)
		want   outcome
		// check looks at a successful answer.
		check func(t *testing.T, got *api.ExpressionPolicy)
	}{
		"Create": {
			reason: "A new policy is answered with its pk, its expression and ExpressionPolicy's names; nothing is bound to it.",
			call: func(e *env, _ ids) (*api.ExpressionPolicy, *http.Response, error) {
				r := api.NewExpressionPolicyRequest("second", memberOfTeam)
				r.SetExecutionLogging(true)
				return e.c.PoliciesAPI.PoliciesExpressionCreate(e.ctx).ExpressionPolicyRequest(*r).Execute()
			},
			want: outcome{Status: http.StatusCreated},
			check: func(t *testing.T, got *api.ExpressionPolicy) {
				want := api.ExpressionPolicy{
					Pk: got.Pk, Name: "second", Expression: memberOfTeam, ExecutionLogging: ptr(true),
					Component: "ak-policy-expression-form", VerboseName: "Expression Policy", VerboseNamePlural: "Expression Policies",
					MetaModelName: "authentik_policies_expression.expressionpolicy", BoundTo: 0,
					AdditionalProperties: map[string]any{},
				}
				if diff := cmp.Diff(want, *got); diff != "" {
					t.Errorf("created policy: -want, +got:\n%s", diff)
				}
			},
		},
		"TrimsWhitespace": {
			reason: "DRF's CharField trims the expression, so a trailing newline is not stored.",
			call: func(e *env, _ ids) (*api.ExpressionPolicy, *http.Response, error) {
				return e.c.PoliciesAPI.PoliciesExpressionCreate(e.ctx).ExpressionPolicyRequest(*api.NewExpressionPolicyRequest("second", memberOfTeam+"\n")).Execute()
			},
			want: outcome{Status: http.StatusCreated},
			check: func(t *testing.T, got *api.ExpressionPolicy) {
				if got.Expression != memberOfTeam {
					t.Errorf("expression %q, want %q", got.Expression, memberOfTeam)
				}
			},
		},
		"DuplicateName": {
			reason: "Policy.name is unique; the message names the Policy model that declares it.",
			call: func(e *env, _ ids) (*api.ExpressionPolicy, *http.Response, error) {
				return e.c.PoliciesAPI.PoliciesExpressionCreate(e.ctx).ExpressionPolicyRequest(*api.NewExpressionPolicyRequest("team-only", memberOfTeam)).Execute()
			},
			want: fieldError("name", "Policy with this name already exists."),
		},
		"NameOfSeededPolicy": {
			reason: "The seeded policy's name is taken too: names are unique across all policies.",
			call: func(e *env, _ ids) (*api.ExpressionPolicy, *http.Response, error) {
				return e.c.PoliciesAPI.PoliciesExpressionCreate(e.ctx).ExpressionPolicyRequest(*api.NewExpressionPolicyRequest(seededPolicyName, memberOfTeam)).Execute()
			},
			want: fieldError("name", "Policy with this name already exists."),
		},
		"RenameToTakenName": {
			reason: "A rename to another policy's name is refused as a create would be.",
			call: func(e *env, id ids) (*api.ExpressionPolicy, *http.Response, error) {
				p := api.NewPatchedExpressionPolicyRequest()
				p.SetName(seededPolicyName)
				return e.c.PoliciesAPI.PoliciesExpressionPartialUpdate(e.ctx, id.policy).PatchedExpressionPolicyRequest(*p).Execute()
			},
			want: fieldError("name", "Policy with this name already exists."),
		},
		"PutKeepsOwnName": {
			reason: "A PUT that keeps the policy's own name is no clash.",
			call: func(e *env, id ids) (*api.ExpressionPolicy, *http.Response, error) {
				return e.c.PoliciesAPI.PoliciesExpressionUpdate(e.ctx, id.policy).ExpressionPolicyRequest(*api.NewExpressionPolicyRequest("team-only", "return False")).Execute()
			},
			want: outcome{Status: http.StatusOK},
			check: func(t *testing.T, got *api.ExpressionPolicy) {
				if got.Expression != "return False" || got.Name != "team-only" {
					t.Errorf("after PUT: %q %q", got.Name, got.Expression)
				}
			},
		},
		"PatchExecutionLogging": {
			reason: "A PATCH changes only what it sends.",
			call: func(e *env, id ids) (*api.ExpressionPolicy, *http.Response, error) {
				p := api.NewPatchedExpressionPolicyRequest()
				p.SetExecutionLogging(true)
				return e.c.PoliciesAPI.PoliciesExpressionPartialUpdate(e.ctx, id.policy).PatchedExpressionPolicyRequest(*p).Execute()
			},
			want: outcome{Status: http.StatusOK},
			check: func(t *testing.T, got *api.ExpressionPolicy) {
				if !got.GetExecutionLogging() || got.Expression != memberOfTeam || got.Name != "team-only" {
					t.Errorf("after PATCH: %+v", got)
				}
			},
		},
		"RetrieveSeeded": {
			reason: "The seeded policy is an expression policy with its blueprint's expression.",
			call: func(e *env, id ids) (*api.ExpressionPolicy, *http.Response, error) {
				return e.c.PoliciesAPI.PoliciesExpressionRetrieve(e.ctx, id.seeded).Execute()
			},
			want: outcome{Status: http.StatusOK},
			check: func(t *testing.T, got *api.ExpressionPolicy) {
				if got.Name != seededPolicyName || got.Expression != seededPolicyExpression {
					t.Errorf("seeded policy: %q %q", got.Name, got.Expression)
				}
			},
		},
		"RetrieveMissing": {
			reason: "An unknown pk is 404.",
			call: func(e *env, id ids) (*api.ExpressionPolicy, *http.Response, error) {
				return e.c.PoliciesAPI.PoliciesExpressionRetrieve(e.ctx, "00000000-0000-4000-8000-000000000000").Execute()
			},
			want: detailError(http.StatusNotFound, "Not found."),
		},
	}
	for _, line := range LineNames() {
		for name, tc := range cases {
			t.Run(line+"/"+name, func(t *testing.T) {
				e := newEnvAt(t, line)
				id := ids{policy: e.createExpressionPolicy(t, "team-only", memberOfTeam).Pk, seeded: e.Sim.Fixtures().Policy}
				got, resp, err := tc.call(e, id)
				if diff := cmp.Diff(tc.want, outcomeOf(t, resp, err)); diff != "" {
					t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
				}
				if tc.check != nil && err == nil {
					tc.check(t, got)
				}
			})
		}
	}
}

func TestExpressionPolicyList(t *testing.T) {
	t.Parallel()
	for _, line := range LineNames() {
		t.Run(line, func(t *testing.T) {
			e := newEnvAt(t, line)
			e.createExpressionPolicy(t, "Team only", memberOfTeam)
			e.createExpressionPolicy(t, "team only", "return False")
			// Raw answers: lines before 2025.8 send lists without the
			// autocomplete key the client requires.
			names := func(query string) []string {
				t.Helper()
				out := []string{}
				for _, p := range rawJSON(t, http.MethodGet, e.URL+apiPrefix+"/policies/expression/?"+query, "")["results"].([]any) {
					out = append(out, p.(map[string]any)["name"].(string))
				}
				return out
			}
			got := map[string][]string{
				"all":        names(""),
				"name":       names(url.Values{"name": {"team only"}}.Encode()),
				"expression": names(url.Values{"expression": {memberOfTeam}}.Encode()),
				"search":     names("search=TEAM"),
				"created":    names("created=2026-01-01T00:00:00Z"),
			}
			want := map[string][]string{
				"all":        {"Team only", seededPolicyName, "team only"},
				"name":       {"team only"},
				"expression": {"Team only"},
				"search":     {"Team only", "team only"},
				"created":    {},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("lists filter names and expressions exactly, search case-insensitively, order by name: -want, +got:\n%s", diff)
			}
		})
	}
}

// TestDeletingPolicyDeletesBindings: PolicyBinding.policy cascades, so the
// policy's bindings go with it and an application bound only to it opens.
func TestDeletingPolicyDeletesBindings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := e.createApplication(t, "app", nil)
	other := e.createApplication(t, "other", nil)
	p := e.createExpressionPolicy(t, "team-only", memberOfTeam)
	e.bindPolicy(t, app.Pk, p.Pk, 0)
	e.bindPolicy(t, other.Pk, p.Pk, 0)
	kept := e.bindPolicy(t, other.Pk, e.Sim.Fixtures().Policy, 1)
	if err := e.Sim.SetUser("outsider"); err != nil {
		t.Fatal(err)
	}
	got, _, err := e.c.PoliciesAPI.PoliciesExpressionRetrieve(e.ctx, p.Pk).Execute()
	if err != nil || got.BoundTo != 2 {
		t.Fatalf("bound_to before the delete: %v, %v; want 2", got, err)
	}
	if admitted, err := e.Sim.Admits("app", "outsider"); err != nil || admitted {
		t.Fatalf("before the delete Admits(app, outsider) = %t, %v; want false", admitted, err)
	}

	if resp, err := e.c.PoliciesAPI.PoliciesExpressionDestroy(e.ctx, p.Pk).Execute(); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("destroy: %v", err)
	}
	l, _, err := e.c.PoliciesAPI.PoliciesBindingsList(e.ctx).Execute()
	if err != nil {
		t.Fatalf("list bindings: %v", err)
	}
	left := []string{}
	for _, b := range l.Results {
		left = append(left, b.Pk)
	}
	if diff := cmp.Diff([]string{kept.Pk}, left); diff != "" {
		t.Errorf("bindings after the policy's delete: -want, +got:\n%s", diff)
	}
	if admitted, err := e.Sim.Admits("app", "outsider"); err != nil || !admitted {
		t.Errorf("after the delete Admits(app, outsider) = %t, %v; want true: the application has no binding left", admitted, err)
	}
	_, resp, err := e.c.PoliciesAPI.PoliciesExpressionRetrieve(e.ctx, p.Pk).Execute()
	if diff := cmp.Diff(detailError(http.StatusNotFound, "Not found."), outcomeOf(t, resp, err)); diff != "" {
		t.Errorf("retrieve after destroy: -want, +got:\n%s", diff)
	}
}

// TestRetrieveAnyPolicy: /policies/all/{uuid}/ finds a policy whatever its
// type, with its own serializer's fields, and 404s a deleted one.
func TestRetrieveAnyPolicy(t *testing.T) {
	t.Parallel()
	for _, line := range LineNames() {
		t.Run(line, func(t *testing.T) {
			e := newEnvAt(t, line)
			p := e.createExpressionPolicy(t, "team-only", memberOfTeam)
			got := rawJSON(t, http.MethodGet, e.URL+apiPrefix+"/policies/all/"+p.Pk+"/", "")
			want := map[string]any{"pk": p.Pk, "name": "team-only", "expression": memberOfTeam, "meta_model_name": "authentik_policies_expression.expressionpolicy"}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
			if _, err := e.c.PoliciesAPI.PoliciesExpressionDestroy(e.ctx, p.Pk).Execute(); err != nil {
				t.Fatal(err)
			}
			_, resp, err := e.c.PoliciesAPI.PoliciesAllRetrieve(e.ctx, p.Pk).Execute()
			if diff := cmp.Diff(detailError(http.StatusNotFound, "Not found."), outcomeOf(t, resp, err)); diff != "" {
				t.Errorf("retrieve a deleted policy: -want, +got:\n%s", diff)
			}
		})
	}
}
