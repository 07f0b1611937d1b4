package expressionpolicy

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

const (
	policyName = "longhorn-users-only"
	// expression ends in a newline, as a YAML block scalar does; Authentik
	// stores it without.
	expression = "return ak_is_group_member(request.user, name=\"longhorn-users\")\n"
	// foreign is an expression this resource never wrote.
	foreign = "return ak_is_group_member(request.user, name=\"someone-else\")"
)

func policy(mods ...func(*v1alpha1.ExpressionPolicy)) *v1alpha1.ExpressionPolicy {
	return mrtest.Build(&v1alpha1.ExpressionPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "longhorn-users-only", UID: "6d1f2c3a-0000-4000-8000-000000000009"},
		Spec: v1alpha1.ExpressionPolicySpec{
			ManagedResourceSpec: mrtest.Spec(),
			ForProvider: v1alpha1.ExpressionPolicyParameters{
				Name:       ptr.To(policyName),
				Expression: ptr.To(expression),
			},
		},
	}, mods...)
}

func authentikPolicy(t *testing.T, env *mrtest.Env, req api.ExpressionPolicyRequest) string {
	t.Helper()
	return mrtest.Must(env.Authentik.API.PoliciesAPI.PoliciesExpressionCreate(context.Background()).ExpressionPolicyRequest(req).Execute())(t).Pk
}

func policiesNamed(t *testing.T, env *mrtest.Env, name string) []api.ExpressionPolicy {
	t.Helper()
	return mrtest.Must(env.Authentik.API.PoliciesAPI.PoliciesExpressionList(context.Background()).Name(name).Execute())(t).Results
}

func retrieve(env *mrtest.Env, id string) (*api.ExpressionPolicy, error) {
	return mrtest.Response(env.Authentik.API.PoliciesAPI.PoliciesExpressionRetrieve(context.Background(), id).Execute())
}

// codeMarker is in every expression of these tests and in nothing else
// the provider says.
const codeMarker = "ak_is_group_member"

// outcome summarises a resource and Authentik after a test's steps.
type outcome struct {
	Policies      int
	Expression    string
	Logging       bool
	Ready         corev1.ConditionStatus
	Synced        corev1.ConditionStatus
	SyncedMessage string
	ExternalName  bool
	PKMatches     bool
}

func observe(t *testing.T, env *mrtest.Env, cr *v1alpha1.ExpressionPolicy, messageHas string) outcome {
	t.Helper()
	s := env.Status(cr, messageHas)
	o := outcome{Ready: s.Ready, Synced: s.Synced, SyncedMessage: s.SyncedMessage, ExternalName: s.ExternalName != ""}
	ps := policiesNamed(t, env, policyName)
	o.Policies = len(ps)
	if len(ps) == 1 {
		o.Expression = ps[0].Expression
		o.Logging = ptr.Deref(ps[0].ExecutionLogging, false)
		o.PKMatches = o.ExternalName && ps[0].Pk == meta.GetExternalName(cr) && ptr.Deref(cr.Status.AtProvider.PK, "") == ps[0].Pk
	}
	return o
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	settled := outcome{Policies: 1, Expression: strings.TrimSpace(expression), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true}

	// The trailing newline of the expression, which Authentik trims, is no
	// drift in any case, and no message shows an expression.
	cases := mrtest.Lifecycle[*v1alpha1.ExpressionPolicy, outcome]{
		Noun:     "expression policy",
		Path:     "/policies/expression/",
		Resource: policy,
		Settled:  settled,
		Created: func(t *testing.T, cr *v1alpha1.ExpressionPolicy) {
			if ptr.Deref(cr.Spec.ForProvider.ExecutionLogging, true) {
				t.Errorf("executionLogging not late-initialised to false: %v", cr.Spec.ForProvider.ExecutionLogging)
			}
		},
		Drift: func(t *testing.T, env *mrtest.Env, cr *v1alpha1.ExpressionPolicy) {
			// Name, expression and execution logging are reported, without
			// the expressions.
			req := api.NewExpressionPolicyRequest("renamed", foreign)
			req.SetExecutionLogging(true)
			if _, resp, err := env.Authentik.API.PoliciesAPI.PoliciesExpressionUpdate(context.Background(), meta.GetExternalName(cr)).ExpressionPolicyRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
				t.Fatal(err)
			}
			obs, err := policies.External(env.Authentik).Observe(context.Background(), cr.DeepCopy())
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Join([]string{"renamed", otherExpression, specExpression}, "\n")
			if obs.ResourceUpToDate || !containsAll(obs.Diff, want) || strings.Contains(obs.Diff, codeMarker) {
				t.Errorf("Observe after drift: upToDate=%v diff=%q; want the name and that the expression differs, without it", obs.ResourceUpToDate, obs.Diff)
			}
		},
		Destroy: func(env *mrtest.Env, id string) error {
			resp, err := env.Authentik.API.PoliciesAPI.PoliciesExpressionDestroy(context.Background(), id).Execute()
			return authentik.Classify(resp, err)
		},
		Retrieve: func(env *mrtest.Env, id string) error { _, err := retrieve(env, id); return err },
		Made: func(t *testing.T, env *mrtest.Env, cr *v1alpha1.ExpressionPolicy) {
			authentikPolicy(t, env, request(cr.Spec.ForProvider))
		},
		Taken: func(t *testing.T, env *mrtest.Env) {
			authentikPolicy(t, env, *api.NewExpressionPolicyRequest(policyName, foreign))
		},
		TakenOutcome: outcome{Policies: 1, Expression: foreign, Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		Foreign: func(t *testing.T, env *mrtest.Env) {
			authentikPolicy(t, env, *api.NewExpressionPolicyRequest(policyName, foreign))
		},
		ForeignOutcome: outcome{Policies: 1, Expression: foreign, Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse},
		CreateOp:       "policies_expression_create",
	}.Cases()
	cases["ExecutionLoggingIsWritten"] = mrtest.Case[*v1alpha1.ExpressionPolicy, outcome]{
		Reason: "executionLogging set in the spec is written.",
		CR:     policy(func(cr *v1alpha1.ExpressionPolicy) { cr.Spec.ForProvider.ExecutionLogging = ptr.To(true) }),
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ExpressionPolicy) {
			env.Settle(r, cr)
		},
		Want: outcome{Policies: 1, Expression: strings.TrimSpace(expression), Logging: true, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true},
	}
	mrtest.Runner[*v1alpha1.ExpressionPolicy, outcome]{
		Kind:    Kind,
		Options: fixture.Options,
		Observe: observe,
		Message: func(o *outcome) *string { return &o.SyncedMessage },
		Said: func(t *testing.T, s *mrtest.Said, cr *v1alpha1.ExpressionPolicy, reason string) {
			var conditions []string
			for _, c := range cr.Status.Conditions {
				conditions = append(conditions, c.Message)
			}
			if leaks := s.Lines(conditions, codeMarker); len(leaks) > 0 {
				t.Errorf("%s\nan expression is in a log line, event or condition:\n%s", reason, strings.Join(leaks, "\n"))
			}
		},
	}.Run(t, cases)
}

func containsAll(msg, want string) bool {
	for _, w := range strings.Split(want, "\n") {
		if !strings.Contains(msg, w) {
			return false
		}
	}
	return true
}

func TestObserveOnlyImport(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	req := api.NewExpressionPolicyRequest("imported", foreign)
	req.SetExecutionLogging(true)
	id := authentikPolicy(t, env, *req)
	before, err := retrieve(env, id)
	if err != nil {
		t.Fatal(err)
	}

	cr := policy(func(cr *v1alpha1.ExpressionPolicy) {
		cr.Name = "imported"
		cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
		cr.Spec.ForProvider = v1alpha1.ExpressionPolicyParameters{}
		meta.SetExternalName(cr, id)
	})
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	mrtest.CheckObserveOnlyImport(env, r, cr, func() {
		if got := ptr.Deref(cr.Status.AtProvider.PK, ""); got != id {
			t.Errorf("status.atProvider.pk = %q, want %q", got, id)
		}
		if got := ptr.Deref(cr.Spec.ForProvider.ExecutionLogging, false); !got {
			t.Errorf("spec.forProvider.executionLogging not late-initialised to true")
		}
	}, before, func() (*api.ExpressionPolicy, error) { return retrieve(env, id) })
}

func TestBadExternalName(t *testing.T) {
	t.Parallel()
	mrtest.CheckBadExternalName(t, policies.External(nil).Observe, policy(func(cr *v1alpha1.ExpressionPolicy) { meta.SetExternalName(cr, "longhorn") }), errExternalName)
}

func TestDiff(t *testing.T) {
	t.Parallel()
	observed := v1alpha1.ExpressionPolicyParameters{
		Name:             ptr.To(policyName),
		Expression:       ptr.To(strings.TrimSpace(expression)),
		ExecutionLogging: ptr.To(false),
	}
	cases := map[string]struct {
		reason string
		spec   v1alpha1.ExpressionPolicyParameters
		want   bool
	}{
		"UnsetFieldsAreNotManaged": {
			reason: "Fields the spec leaves unset never count as drift.",
			spec:   v1alpha1.ExpressionPolicyParameters{Name: ptr.To(policyName)},
			want:   true,
		},
		"ExpressionComparedTrimmed": {
			reason: "Authentik trims the expression, so surrounding whitespace is no drift.",
			spec:   v1alpha1.ExpressionPolicyParameters{Expression: ptr.To("\n  " + expression + "\n\n")},
			want:   true,
		},
		"OtherExpressionIsDrift": {
			reason: "Another expression is drift.",
			spec:   v1alpha1.ExpressionPolicyParameters{Expression: ptr.To(foreign)},
			want:   false,
		},
		"InnerWhitespaceIsDrift": {
			reason: "Whitespace inside the expression is part of the code.",
			spec:   v1alpha1.ExpressionPolicyParameters{Expression: ptr.To(strings.Replace(expression, ", ", ",", 1))},
			want:   false,
		},
		"ExecutionLoggingIsDrift": {
			reason: "Execution logging switched on in the spec only is drift.",
			spec:   v1alpha1.ExpressionPolicyParameters{ExecutionLogging: ptr.To(true)},
			want:   false,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := specDiff(tc.spec, observed)
			if got := d == ""; got != tc.want {
				t.Errorf("%s\nDiff(...) up to date = %v, want %v; diff:\n%s", tc.reason, got, tc.want, d)
			}
			if strings.Contains(d, codeMarker) {
				t.Errorf("%s\nthe diff shows an expression:\n%s", tc.reason, d)
			}
		})
	}
}

func TestLateInitialize(t *testing.T) {
	t.Parallel()
	observed := v1alpha1.ExpressionPolicyParameters{Name: ptr.To(policyName), Expression: ptr.To(foreign), ExecutionLogging: ptr.To(true)}
	cases := map[string]struct {
		reason      string
		spec        v1alpha1.ExpressionPolicyParameters
		want        v1alpha1.ExpressionPolicyParameters
		wantChanged bool
	}{
		"FillsUnset": {
			reason:      "Unset fields take Authentik's values.",
			spec:        v1alpha1.ExpressionPolicyParameters{},
			want:        observed,
			wantChanged: true,
		},
		"KeepsSet": {
			reason: "Set fields are the user's and stay as they are.",
			spec:   v1alpha1.ExpressionPolicyParameters{Name: ptr.To("mine"), Expression: ptr.To(expression), ExecutionLogging: ptr.To(false)},
			want:   v1alpha1.ExpressionPolicyParameters{Name: ptr.To("mine"), Expression: ptr.To(expression), ExecutionLogging: ptr.To(false)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := tc.spec
			changed := lateInitialize(&got, observed)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			if changed != tc.wantChanged {
				t.Errorf("%s\nchanged = %v, want %v", tc.reason, changed, tc.wantChanged)
			}
		})
	}
}
