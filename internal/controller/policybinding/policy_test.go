package policybinding

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

const policyName = "longhorn-users-only"

func authentikPolicy(t *testing.T, env *mrtest.Env, name string) string {
	t.Helper()
	req := api.NewExpressionPolicyRequest(name, `return ak_is_group_member(request.user, name="`+groupName+`")`)
	return mrtest.Must(env.Authentik.API.PoliciesAPI.PoliciesExpressionCreate(context.Background()).ExpressionPolicyRequest(*req).Execute())(t).Pk
}

func deletePolicy(t *testing.T, env *mrtest.Env, id string) {
	t.Helper()
	if resp, err := env.Authentik.API.PoliciesAPI.PoliciesExpressionDestroy(context.Background(), id).Execute(); authentik.Classify(resp, err) != nil {
		t.Fatal(err)
	}
}

// policyBinding binds the fixture's ExpressionPolicy, by reference, to the
// fixture's Application.
func policyBinding(mods ...func(*v1alpha1.PolicyBinding)) *v1alpha1.PolicyBinding {
	return binding(append([]func(*v1alpha1.PolicyBinding){func(cr *v1alpha1.PolicyBinding) {
		cr.Name = "longhorn-users-only"
		cr.Spec.ForProvider.GroupRef = nil
		cr.Spec.ForProvider.PolicyRef = &xpv2.Reference{Name: policyName}
	}}, mods...)...)
}

func existingPolicyBinding(t *testing.T, env *mrtest.Env, target, policy string, order int32) string {
	t.Helper()
	req := api.NewPolicyBindingRequest(target, order)
	req.SetPolicy(policy)
	return mrtest.Must(env.Authentik.API.PoliciesAPI.PoliciesBindingsCreate(context.Background()).PolicyBindingRequest(*req).Execute())(t).Pk
}

// TestReconcilePolicy: a PolicyBinding of a policy behaves as one of a
// group, and when Authentik deletes the binding with its policy it reports
// the application's lost restriction as it does for a deleted group.
func TestReconcilePolicy(t *testing.T) {
	t.Parallel()
	bound := "policy " + policyName + "@10"
	settled := outcome{Bindings: []string{bound}, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true}
	const openMessage = `no longer exists in Authentik; application "longhorn"`

	cases := map[string]struct {
		reason     string
		cr         *v1alpha1.PolicyBinding
		steps      func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture)
		messageHas string
		want       outcome
	}{
		"CreateWithReferences": {
			reason: "A new resource binds the referenced ExpressionPolicy to the referenced Application, by the policy's UUID.",
			cr:     policyBinding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Settle(r, cr)
				got := []string{ptr.Deref(cr.Spec.ForProvider.Policy, ""), ptr.Deref(cr.Status.AtProvider.Policy, ""), ptr.Deref(cr.Status.AtProvider.PolicyName, "")}
				if diff := cmp.Diff([]string{f.policy, f.policy, policyName}, got); diff != "" {
					t.Errorf("spec.forProvider.policy, status.atProvider.policy and policyName: -want, +got:\n%s", diff)
				}
				if cr.Spec.ForProvider.Group != nil || cr.Status.AtProvider.Group != nil {
					t.Errorf("a policy binding names a group: spec %v, status %v", cr.Spec.ForProvider.Group, cr.Status.AtProvider.Group)
				}
			},
			want: settled,
		},
		"CreateWithUUID": {
			reason: "A policy named by its UUID is bound as it is.",
			cr:     policyBinding(func(cr *v1alpha1.PolicyBinding) { cr.Spec.ForProvider.PolicyRef = nil }),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Get(cr)
				cr.Spec.ForProvider.Policy = ptr.To(strings.ToUpper(f.policy))
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
			},
			want: settled,
		},
		"DriftIsReverted": {
			reason: "A binding changed in Authentik, to another order and negated, is reported as drift and restored.",
			cr:     policyBinding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Settle(r, cr)
				req := api.NewPolicyBindingRequest(f.app, 99)
				req.SetPolicy(f.policy)
				req.SetNegate(true)
				if _, resp, err := env.Authentik.API.PoliciesAPI.PoliciesBindingsUpdate(context.Background(), meta.GetExternalName(cr)).PolicyBindingRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
			},
			want: settled,
		},
		"DeletedBindingIsRecreated": {
			reason: "A binding deleted in Authentik while its policy remains is made again.",
			cr:     policyBinding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, _ fixture) {
				env.Settle(r, cr)
				old := meta.GetExternalName(cr)
				if resp, err := env.Authentik.API.PoliciesAPI.PoliciesBindingsDestroy(context.Background(), old).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				env.BackdateCreate(cr)
				env.Settle(r, cr)
				if meta.GetExternalName(cr) == old {
					t.Errorf("external name still names the deleted binding %s", old)
				}
			},
			want: settled,
		},
		"DeleteRemovesBinding": {
			reason: "Deleting the resource deletes the binding in Authentik, then the resource; the policy stays.",
			cr:     policyBinding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Settle(r, cr)
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
				if _, resp, err := env.Authentik.API.PoliciesAPI.PoliciesExpressionRetrieve(context.Background(), f.policy).Execute(); authentik.Classify(resp, err) != nil {
					t.Errorf("the policy after its binding's delete: %v", err)
				}
			},
			want: outcome{},
		},
		"PolicyDisappearsOpensApplication": {
			reason: "When the bound policy is deleted, Authentik deletes the binding; the resource says the application is open to everyone, is not Ready and binds nothing anew.",
			cr:     policyBinding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Settle(r, cr)
				deletePolicy(t, env, f.policy)
				reconcileN(t, env, r, cr, 3)
				if got := env.Sim.Counts()["policies_bindings_create"]; got != 1 {
					t.Errorf("policies_bindings_create called %d times, want only the first create", got)
				}
				want := `policy "` + policyName + `" (` + f.policy + `) bound by this PolicyBinding no longer exists in Authentik; application "longhorn" (` + f.app + `) is open to every user until it is restored (Authentik deleted the binding with the policy`
				if got := cr.GetCondition(xpv2.TypeReady).Message; !strings.HasPrefix(got, want) {
					t.Errorf("Ready message:\n%s\nwant it to start with:\n%s", got, want)
				}
			},
			messageHas: openMessage,
			want:       outcome{Ready: corev1.ConditionFalse, ReadyMessage: openMessage, Synced: corev1.ConditionFalse, OpenApplications: 1},
		},
		"PolicyDisappearsOthersRemain": {
			reason: "When the bound policy is deleted but a group binding still restricts the application, the message says so instead.",
			cr:     policyBinding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Settle(r, cr)
				existingBinding(t, env, f.app, f.group, 20)
				deletePolicy(t, env, f.policy)
				reconcileN(t, env, r, cr, 2)
			},
			messageHas: "no longer admits the users that policy passes through this binding, and 1 other enabled policy bindings still apply to it; restore the policy",
			want: outcome{
				Bindings: []string{groupName + "@20"}, Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse,
				ReadyMessage: "no longer admits the users that policy passes through this binding, and 1 other enabled policy bindings still apply to it; restore the policy",
			},
		},
		"PolicyRecreatedIsFollowed": {
			reason: "An ExpressionPolicy made again with a new UUID is followed: the binding is made again for it.",
			cr:     policyBinding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Settle(r, cr)
				deletePolicy(t, env, f.policy)
				reconcileN(t, env, r, cr, 1)
				id := authentikPolicy(t, env, policyName)
				p := &v1alpha1.ExpressionPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: policyName}}
				env.Get(p)
				meta.SetExternalName(p, id)
				if err := env.Kube.Update(context.Background(), p); err != nil {
					t.Fatal(err)
				}
				env.BackdateCreate(cr)
				env.Settle(r, cr)
				if got := ptr.Deref(cr.Spec.ForProvider.Policy, ""); got != id {
					t.Errorf("spec.forProvider.policy = %q, want the new policy %q", got, id)
				}
			},
			want: settled,
		},
		"PolicyResourceAndPolicyDeleted": {
			reason: "When the ExpressionPolicy is deleted with its Authentik policy, the last resolved UUID is kept so that the loss is reported, not hidden behind a reference error.",
			cr:     policyBinding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Settle(r, cr)
				env.Delete(&v1alpha1.ExpressionPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: policyName}})
				deletePolicy(t, env, f.policy)
				reconcileN(t, env, r, cr, 2)
			},
			messageHas: openMessage,
			want:       outcome{Ready: corev1.ConditionFalse, ReadyMessage: openMessage, Synced: corev1.ConditionFalse, OpenApplications: 1},
		},
		"UnreadyPolicyRef": {
			reason: "An ExpressionPolicy that has no UUID yet is not bound: the reference waits for it.",
			cr:     policyBinding(func(cr *v1alpha1.PolicyBinding) { cr.Spec.ForProvider.PolicyRef = &xpv2.Reference{Name: "pending"} }),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, _ fixture) {
				env.Create(&v1alpha1.ExpressionPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "pending"}})
				reconcileN(t, env, r, cr, 1)
			},
			messageHas: "spec.forProvider.policyRef: referenced field was empty",
			want:       outcome{Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse},
		},
		"CrashAfterCreateAdopts": {
			reason: "A create that succeeded before the UUID was recorded is adopted, not duplicated and not stuck.",
			cr: policyBinding(func(cr *v1alpha1.PolicyBinding) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Get(cr)
				cr.Spec.ForProvider.Application = ptr.To(f.app)
				cr.Spec.ForProvider.Policy = ptr.To(f.policy)
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				existingPolicyBinding(t, env, f.app, f.policy, 10)
				env.Settle(r, cr)
			},
			want: settled,
		},
		"LostCreateResponseAdopts": {
			reason: "A create whose answer was lost after Authentik made the binding is adopted on the next reconcile.",
			cr:     policyBinding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, _ fixture) {
				env.CheckLostCreateAdopted(r, cr, "policies_bindings_create")
			},
			want: settled,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t, tc.cr)
			f := newFixture(t, env)
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
			env.Sim.ResetCounts()
			cr := tc.cr.DeepCopy()
			tc.steps(t, env, r, cr, f)
			want := tc.want
			if tc.messageHas != "" {
				want.SyncedMessage = tc.messageHas
			}
			got := observe(t, env, cr, f, tc.messageHas)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nReady: %+v\nSynced: %+v", tc.reason, diff, cr.GetCondition(xpv2.TypeReady), cr.GetCondition(xpv2.TypeSynced))
			}
		})
	}
}

// TestNoTakeoverOfPolicyBinding: a binding of the same policy to the same
// application is the object a PolicyBinding of the policy would duplicate.
func TestNoTakeoverOfPolicyBinding(t *testing.T) {
	t.Parallel()
	runTakeover(t, func(t *testing.T, e *mrtest.Env, f fixture) string {
		return existingPolicyBinding(t, e, f.app, f.policy, 0)
	}, func(adopt bool) resource.Managed {
		return policyBinding(func(cr *v1alpha1.PolicyBinding) {
			cr.Spec.ForProvider.Order = ptr.To(int32(0))
			cr.Spec.AdoptExisting = adopt
		})
	})
}

func TestObserveOnlyImportOfPolicyBinding(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	f := newFixture(t, env)
	id := existingPolicyBinding(t, env, f.app, f.policy, 5)
	before, err := retrieve(env, id)
	if err != nil {
		t.Fatal(err)
	}
	cr := binding(func(cr *v1alpha1.PolicyBinding) {
		cr.Name = "imported"
		cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
		cr.Spec.ForProvider = v1alpha1.PolicyBindingParameters{}
		meta.SetExternalName(cr, id)
	})
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	mrtest.CheckObserveOnlyImport(env, r, cr, func() {
		got := []string{ptr.Deref(cr.Spec.ForProvider.Policy, ""), ptr.Deref(cr.Status.AtProvider.PolicyName, "")}
		if diff := cmp.Diff([]string{f.policy, policyName}, got); diff != "" {
			t.Errorf("spec.forProvider.policy (late-initialised) and status.atProvider.policyName: -want, +got:\n%s", diff)
		}
		if cr.Spec.ForProvider.Group != nil {
			t.Errorf("spec.forProvider.group late-initialised for a policy binding: %q", *cr.Spec.ForProvider.Group)
		}
	}, before, func() (*api.PolicyBinding, error) { return retrieve(env, id) })
}

func TestDiffPolicy(t *testing.T) {
	t.Parallel()
	const app, pol = "0b6c7f04-8a4b-43b9-b35d-6489e6daee91", "2b6c7f04-8a4b-43b9-b35d-6489e6daee91"
	observed := v1alpha1.PolicyBindingParameters{Application: ptr.To(app), Policy: ptr.To(pol), Order: ptr.To(int32(0))}
	cases := map[string]struct {
		reason string
		spec   v1alpha1.PolicyBindingParameters
		want   bool
	}{
		"SamePolicy": {
			reason: "The bound policy, its UUID in capitals, is no drift.",
			spec:   v1alpha1.PolicyBindingParameters{Application: ptr.To(app), Policy: ptr.To(strings.ToUpper(pol))},
			want:   true,
		},
		"OtherPolicyIsDrift": {
			reason: "Another policy is drift.",
			spec:   v1alpha1.PolicyBindingParameters{Policy: ptr.To(app)},
			want:   false,
		},
		"GroupInsteadOfPolicyIsDrift": {
			reason: "A spec that binds a group differs from a binding of a policy.",
			spec:   v1alpha1.PolicyBindingParameters{Group: ptr.To(pol)},
			want:   false,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := specDiff(tc.spec, observed)
			if got := d == ""; got != tc.want {
				t.Errorf("%s\nDiff(...) up to date = %v, want %v; diff:\n%s", tc.reason, got, tc.want, d)
			}
		})
	}
}

func TestLateInitializePolicy(t *testing.T) {
	t.Parallel()
	observed := v1alpha1.PolicyBindingParameters{Application: ptr.To("a"), Policy: ptr.To("p"), Order: ptr.To(int32(0))}
	got := v1alpha1.PolicyBindingParameters{}
	lateInitialize(&got, observed)
	want := v1alpha1.PolicyBindingParameters{Application: ptr.To("a"), Policy: ptr.To("p"), Order: ptr.To(int32(0))}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("a spec that names nothing takes the application and the policy's UUID, no group: -want, +got:\n%s", diff)
	}
}

// TestWaitsForPolicy: a new PolicyBinding whose ExpressionPolicy has no
// UUID yet waits, writing nothing, and is reconciled once the policy gets
// one (the ExpressionPolicy is one of the kind's dependencies).
func TestWaitsForPolicy(t *testing.T) {
	t.Parallel()
	cr := policyBinding(func(cr *v1alpha1.PolicyBinding) { cr.Spec.ForProvider.PolicyRef = &xpv2.Reference{Name: "pending"} })
	env := mrtest.New(t, cr)
	f := newFixture(t, env)
	pending := &v1alpha1.ExpressionPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "pending"}}
	env.Create(pending)
	r := mrbehavior.WaitsForDependencies(env.Kube, Kind.Object, Kind.Dependencies, env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...), time.Minute)

	res, err := env.Reconcile(r, client.ObjectKeyFromObject(cr))
	if err != nil || res.RequeueAfter != time.Minute || env.Changes(cr) != 0 {
		t.Errorf("while the policy has no UUID: result %+v, error %v, %d writes; want a wait of a poll and no write", res, err, env.Changes(cr))
	}

	env.Get(pending)
	meta.SetExternalName(pending, f.policy)
	if err := env.Kube.Update(context.Background(), pending); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range Kind.Dependencies {
		if _, ok := d.Object.(*v1alpha1.ExpressionPolicy); ok && d.Value(pending) == f.policy {
			names = append(names, d.Names(cr)...)
		}
	}
	if diff := cmp.Diff([]string{"pending"}, names); diff != "" {
		t.Errorf("the ExpressionPolicy dependency names the policyRef and resolves to its UUID: -want, +got:\n%s", diff)
	}
	env.Settle(r, cr)
	if got := ptr.Deref(cr.Spec.ForProvider.Policy, ""); got != f.policy {
		t.Errorf("spec.forProvider.policy = %q once the policy has its UUID, want %q", got, f.policy)
	}
}
