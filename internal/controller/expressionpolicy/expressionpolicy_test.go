package expressionpolicy

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
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
	cr := &v1alpha1.ExpressionPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "longhorn-users-only", UID: "6d1f2c3a-0000-4000-8000-000000000009"},
		Spec: v1alpha1.ExpressionPolicySpec{
			ManagedResourceSpec: xpv2.ManagedResourceSpec{
				ProviderConfigReference: &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: mrtest.ConfigName},
				ManagementPolicies:      xpv2.ManagementPolicies{xpv2.ManagementActionAll},
			},
			ForProvider: v1alpha1.ExpressionPolicyParameters{
				Name:       ptr.To(policyName),
				Expression: ptr.To(expression),
			},
		},
	}
	for _, m := range mods {
		m(cr)
	}
	return cr
}

func authentikPolicy(t *testing.T, env *mrtest.Env, req api.ExpressionPolicyRequest) string {
	t.Helper()
	p, resp, err := env.Authentik.API.PoliciesAPI.PoliciesExpressionCreate(context.Background()).ExpressionPolicyRequest(req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return p.Pk
}

func policiesNamed(t *testing.T, env *mrtest.Env, name string) []api.ExpressionPolicy {
	t.Helper()
	l, resp, err := env.Authentik.API.PoliciesAPI.PoliciesExpressionList(context.Background()).Name(name).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return l.Results
}

func retrieve(env *mrtest.Env, id string) (*api.ExpressionPolicy, error) {
	p, resp, err := env.Authentik.API.PoliciesAPI.PoliciesExpressionRetrieve(context.Background(), id).Execute()
	return p, authentik.Classify(resp, err)
}

func keyOf(cr *v1alpha1.ExpressionPolicy) types.NamespacedName {
	return types.NamespacedName{Namespace: cr.Namespace, Name: cr.Name}
}

// said records every log line and event of a reconciler, to show that no
// expression is ever in one.
type said struct {
	mu    sync.Mutex
	lines []string
}

func (s *said) add(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, line)
}

func (s *said) Event(_ runtime.Object, e event.Event) {
	s.add(fmt.Sprintf("event %s %s: %s", e.Type, e.Reason, e.Message))
}

func (s *said) WithAnnotations(...string) event.Recorder { return s }

func (s *said) logger() logging.Logger {
	return logging.NewLogrLogger(funcr.New(func(prefix, args string) { s.add(prefix + " " + args) }, funcr.Options{Verbosity: 1}))
}

// codeMarker is in every expression of these tests and in nothing else
// the provider says.
const codeMarker = "ak_is_group_member"

// leaks is every line said that holds an expression.
func (s *said) leaks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range s.lines {
		if strings.Contains(l, codeMarker) {
			out = append(out, l)
		}
	}
	return out
}

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
	o := outcome{}
	if err := env.Kube.Get(context.Background(), keyOf(cr), cr); err == nil {
		o.Ready = cr.GetCondition(xpv2.TypeReady).Status
		o.Synced = cr.GetCondition(xpv2.TypeSynced).Status
		o.ExternalName = meta.GetExternalName(cr) != ""
		if messageHas != "" && strings.Contains(cr.GetCondition(xpv2.TypeSynced).Message, messageHas) {
			o.SyncedMessage = messageHas
		}
	}
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

	cases := map[string]struct {
		reason     string
		cr         *v1alpha1.ExpressionPolicy
		steps      func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ExpressionPolicy)
		messageHas string
		want       outcome
	}{
		"CreateRecordsUUID": {
			reason: "A new resource makes a policy whose UUID becomes the external name; the trailing newline Authentik trims is no drift.",
			cr:     policy(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ExpressionPolicy) {
				env.Settle(r, cr)
				if ptr.Deref(cr.Spec.ForProvider.ExecutionLogging, true) {
					t.Errorf("executionLogging not late-initialised to false: %v", cr.Spec.ForProvider.ExecutionLogging)
				}
			},
			want: settled,
		},
		"ExecutionLoggingIsWritten": {
			reason: "executionLogging set in the spec is written.",
			cr:     policy(func(cr *v1alpha1.ExpressionPolicy) { cr.Spec.ForProvider.ExecutionLogging = ptr.To(true) }),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ExpressionPolicy) {
				env.Settle(r, cr)
			},
			want: outcome{Policies: 1, Expression: strings.TrimSpace(expression), Logging: true, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true},
		},
		"DriftIsReverted": {
			reason: "Name, expression and execution logging changed in Authentik are reported as drift, without the expressions, and restored.",
			cr:     policy(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ExpressionPolicy) {
				env.Settle(r, cr)
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
				env.PassReadAge()
				env.Settle(r, cr)
			},
			want: settled,
		},
		"DeletedBehindBackIsRecreated": {
			reason: "A policy deleted in Authentik is made again and the new UUID recorded.",
			cr:     policy(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ExpressionPolicy) {
				env.Settle(r, cr)
				old := meta.GetExternalName(cr)
				if resp, err := env.Authentik.API.PoliciesAPI.PoliciesExpressionDestroy(context.Background(), old).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				env.BackdateCreate(cr)
				env.PassReadAge()
				env.Settle(r, cr)
				if meta.GetExternalName(cr) == old {
					t.Errorf("external name still names the deleted policy %s", old)
				}
			},
			want: settled,
		},
		"DeleteRemovesPolicy": {
			reason: "Deleting the resource deletes the policy in Authentik, then the resource.",
			cr:     policy(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ExpressionPolicy) {
				env.Settle(r, cr)
				id := meta.GetExternalName(cr)
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
				if _, err := retrieve(env, id); !authentik.IsNotFound(err) {
					t.Errorf("policy %s after delete: want not found, got %v", id, err)
				}
			},
			want: outcome{},
		},
		"NameTakenIsRefused": {
			reason: "A resource that never sent a create does not take over an existing policy of the same name, and says how to consent.",
			cr:     policy(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ExpressionPolicy) {
				authentikPolicy(t, env, *api.NewExpressionPolicyRequest(policyName, foreign))
				for range 3 {
					_, _ = env.Reconcile(r, keyOf(cr))
				}
			},
			messageHas: mrtest.RefusedTakeover,
			want:       outcome{Policies: 1, Expression: foreign, Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
		"CrashAfterCreateAdopts": {
			reason: "A create that succeeded before the UUID was recorded is adopted, not duplicated and not stuck.",
			cr: policy(func(cr *v1alpha1.ExpressionPolicy) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ExpressionPolicy) {
				authentikPolicy(t, env, request(cr.Spec.ForProvider))
				env.Settle(r, cr)
			},
			want: settled,
		},
		"CrashBeforeCreateCreates": {
			reason: "A create that never reached Authentik runs again.",
			cr: policy(func(cr *v1alpha1.ExpressionPolicy) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ExpressionPolicy) {
				env.Settle(r, cr)
			},
			want: settled,
		},
		"CrashWithForeignPolicyRefuses": {
			reason: "After a crash, a policy of the same name with another expression is neither adopted nor changed, and the message does not show the expression.",
			cr: policy(func(cr *v1alpha1.ExpressionPolicy) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ExpressionPolicy) {
				authentikPolicy(t, env, *api.NewExpressionPolicyRequest(policyName, foreign))
				_, _ = env.Reconcile(r, keyOf(cr))
			},
			messageHas: "differs from this resource",
			want:       outcome{Policies: 1, Expression: foreign, Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse},
		},
		"LostCreateResponseAdopts": {
			reason: "A create whose answer was lost after Authentik made the policy is adopted on the next reconcile.",
			cr:     policy(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ExpressionPolicy) {
				env.CheckLostCreateAdopted(r, cr, "policies_expression_create")
			},
			want: settled,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t, tc.cr)
			s := &said{}
			opts := append(ReconcilerOptions(env.Kube, env.Connector), managed.WithLogger(s.logger()), managed.WithRecorder(s))
			r := env.Reconciler(Kind, opts...)
			cr := tc.cr.DeepCopy()
			tc.steps(t, env, r, cr)
			want := tc.want
			want.SyncedMessage = tc.messageHas
			got := observe(t, env, cr, tc.messageHas)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
			if len(s.lines) == 0 {
				t.Fatal("the reconciler said nothing: the leak check would pass for want of lines")
			}
			if leaks := s.leaks(); len(leaks) > 0 {
				t.Errorf("%s\nan expression is in a log line or event:\n%s", tc.reason, strings.Join(leaks, "\n"))
			}
			for _, c := range cr.Status.Conditions {
				if strings.Contains(c.Message, codeMarker) {
					t.Errorf("%s\nan expression is in condition %s: %s", tc.reason, c.Type, c.Message)
				}
			}
		})
	}
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
	cr := policy(func(cr *v1alpha1.ExpressionPolicy) { meta.SetExternalName(cr, "longhorn") })
	_, err := policies.External(nil).Observe(context.Background(), cr)
	if err == nil || !strings.Contains(err.Error(), errExternalName) {
		t.Errorf("Observe with an external name that is not a UUID: error %v", err)
	}
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
