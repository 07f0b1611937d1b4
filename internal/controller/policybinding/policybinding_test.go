package policybinding

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

const (
	appSlug   = "longhorn"
	groupName = "longhorn-users"
	otherName = "storage-admins"
)

func binding(mods ...func(*v1alpha1.PolicyBinding)) *v1alpha1.PolicyBinding {
	return mrtest.Build(&v1alpha1.PolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "longhorn-users", UID: "6d1f2c3a-0000-4000-8000-000000000004"},
		Spec: v1alpha1.PolicyBindingSpec{
			ManagedResourceSpec: mrtest.Spec(),
			ForProvider: v1alpha1.PolicyBindingParameters{
				ApplicationRef: &xpv2.Reference{Name: appSlug},
				GroupRef:       &xpv2.Reference{Name: groupName},
				Order:          ptr.To(int32(10)),
			},
		},
	}, mods...)
}

// fixture is what every test starts with: an application, a group and an
// expression policy in Authentik, each with a resource for it as if its
// controller had made it.
type fixture struct {
	app    string // the application's pk
	group  string // the group's UUID
	policy string // the policy's UUID
}

func newFixture(t *testing.T, env *mrtest.Env) fixture {
	t.Helper()
	ctx := context.Background()
	a, resp, err := env.Authentik.API.CoreAPI.CoreApplicationsCreate(ctx).ApplicationRequest(*api.NewApplicationRequest("Longhorn", appSlug)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	app := &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: appSlug}}
	meta.SetExternalName(app, appSlug)
	env.Create(app)
	app.Status.AtProvider.PK = ptr.To(a.Pk)
	if err := env.Kube.Status().Update(ctx, app); err != nil {
		t.Fatal(err)
	}

	id := authentikGroup(t, env, groupName)
	g := &v1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: groupName}}
	meta.SetExternalName(g, id)
	env.Create(g)

	pid := authentikPolicy(t, env, policyName)
	p := &v1alpha1.ExpressionPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: policyName}}
	meta.SetExternalName(p, pid)
	env.Create(p)
	return fixture{app: a.Pk, group: id, policy: pid}
}

func authentikGroup(t *testing.T, env *mrtest.Env, name string) string {
	t.Helper()
	return mrtest.Must(env.Authentik.API.CoreAPI.CoreGroupsCreate(context.Background()).GroupRequest(*api.NewGroupRequest(name)).Execute())(t).Pk
}

func deleteGroup(t *testing.T, env *mrtest.Env, id string) {
	t.Helper()
	if resp, err := env.Authentik.API.CoreAPI.CoreGroupsDestroy(context.Background(), id).Execute(); authentik.Classify(resp, err) != nil {
		t.Fatal(err)
	}
}

// existingBinding makes a binding in Authentik, as if made outside this
// resource or before a crash.
func existingBinding(t *testing.T, env *mrtest.Env, target, group string, order int32) string {
	t.Helper()
	req := api.NewPolicyBindingRequest(target, order)
	req.SetGroup(group)
	return mrtest.Must(env.Authentik.API.PoliciesAPI.PoliciesBindingsCreate(context.Background()).PolicyBindingRequest(*req).Execute())(t).Pk
}

func bindingsOf(t *testing.T, env *mrtest.Env, target string) []api.PolicyBinding {
	t.Helper()
	return mrtest.Must(env.Authentik.API.PoliciesAPI.PoliciesBindingsList(context.Background()).Target(target).Execute())(t).Results
}

func retrieve(env *mrtest.Env, id string) (*api.PolicyBinding, error) {
	return mrtest.Response(env.Authentik.API.PoliciesAPI.PoliciesBindingsRetrieve(context.Background(), id).Execute())
}

// outcome summarises a resource and Authentik after a test's steps.
type outcome struct {
	// Bindings are the application's bindings in Authentik, as group
	// name and order.
	Bindings      []string
	Ready         corev1.ConditionStatus
	ReadyMessage  string
	Synced        corev1.ConditionStatus
	SyncedMessage string
	PKMatches     bool
	// OpenApplications is the open-applications metric.
	OpenApplications float64
}

func observe(t *testing.T, env *mrtest.Env, cr *v1alpha1.PolicyBinding, f fixture, messageHas string) outcome {
	t.Helper()
	o := outcome{OpenApplications: metrics.Value(env.States(), metrics.NameOpenApplications, nil)}
	for _, b := range bindingsOf(t, env, f.app) {
		name := "?"
		if g := b.GroupObj.Get(); g != nil {
			name = g.Name
		}
		if p := b.PolicyObj.Get(); p != nil {
			name = "policy " + p.Name
		}
		o.Bindings = append(o.Bindings, name+"@"+strconv.Itoa(int(b.Order)))
		if b.Pk == meta.GetExternalName(cr) && ptr.Deref(cr.Status.AtProvider.PK, "") == b.Pk {
			o.PKMatches = true
		}
	}
	s := env.Status(cr, messageHas)
	o.Ready, o.Synced, o.SyncedMessage, o.ReadyMessage = s.Ready, s.Synced, s.SyncedMessage, s.ReadyMessage
	return o
}

// reconcileN runs n reconciles, aging the resource first so that a
// binding found missing is not mistaken for one not yet visible.
func reconcileN(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, n int) {
	t.Helper()
	env.BackdateCreate(cr)
	for range n {
		_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
	}
	env.Get(cr)
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	settled := outcome{Bindings: []string{groupName + "@10"}, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true}
	const openMessage = `no longer exists in Authentik; application "longhorn"`

	cases := map[string]struct {
		reason     string
		cr         *v1alpha1.PolicyBinding
		steps      func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture)
		messageHas string
		want       outcome
	}{
		"CreateWithReferences": {
			reason: "A new resource binds the referenced Group to the referenced Application, by the Application's pk and the Group's UUID.",
			cr:     binding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Settle(r, cr)
				if got := ptr.Deref(cr.Spec.ForProvider.Application, ""); got != f.app {
					t.Errorf("spec.forProvider.application = %q, want the Application's pk %q", got, f.app)
				}
				if got := ptr.Deref(cr.Status.AtProvider.GroupName, ""); got != groupName {
					t.Errorf("status.atProvider.groupName = %q, want %q", got, groupName)
				}
				if !ptr.Deref(cr.Spec.ForProvider.Enabled, false) || ptr.Deref(cr.Spec.ForProvider.Timeout, 0) != 30 {
					t.Errorf("enabled and timeout not late-initialised: %+v", cr.Spec.ForProvider)
				}
			},
			want: settled,
		},
		"CreateWithGroupName": {
			reason: "A group this provider does not manage is found by its name in Authentik.",
			cr: binding(func(cr *v1alpha1.PolicyBinding) {
				cr.Spec.ForProvider.GroupRef = nil
				cr.Spec.ForProvider.GroupName = ptr.To(otherName)
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, _ fixture) {
				authentikGroup(t, env, otherName)
				env.Settle(r, cr)
				if cr.Spec.ForProvider.Group != nil {
					t.Errorf("spec.forProvider.group was filled although groupName names the group: %q", *cr.Spec.ForProvider.Group)
				}
			},
			want: outcome{Bindings: []string{otherName + "@10"}, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true},
		},
		"DriftIsReverted": {
			reason: "A binding changed in Authentik, to another group and order, is reported as drift and restored.",
			cr:     binding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Settle(r, cr)
				req := api.NewPolicyBindingRequest(f.app, 99)
				req.SetGroup(authentikGroup(t, env, otherName))
				req.SetNegate(true)
				if _, resp, err := env.Authentik.API.PoliciesAPI.PoliciesBindingsUpdate(context.Background(), meta.GetExternalName(cr)).PolicyBindingRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				obs, err := (&external{client: env.Authentik, states: env.Connector.States()}).Observe(context.Background(), cr.DeepCopy())
				if err != nil {
					t.Fatal(err)
				}
				if obs.ResourceUpToDate || !strings.Contains(obs.Diff, "99") || !strings.Contains(obs.Diff, "Negate") {
					t.Errorf("Observe after drift: upToDate=%v diff=%q", obs.ResourceUpToDate, obs.Diff)
				}
				env.Settle(r, cr)
			},
			want: settled,
		},
		"DeletedBindingIsRecreated": {
			reason: "A binding deleted in Authentik while its group remains is made again.",
			cr:     binding(),
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
			reason: "Deleting the resource deletes the binding in Authentik, then the resource.",
			cr:     binding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, _ fixture) {
				env.Settle(r, cr)
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
			},
			want: outcome{},
		},
		"GroupDisappearsOpensApplication": {
			reason: "When the bound group is deleted, Authentik deletes the binding; the resource says the application is open to everyone, is not Ready and binds nothing anew.",
			cr:     binding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Settle(r, cr)
				deleteGroup(t, env, f.group)
				reconcileN(t, env, r, cr, 3)
				if got := env.Sim.Counts()["policies_bindings_create"]; got != 1 {
					t.Errorf("policies_bindings_create called %d times, want only the first create", got)
				}
				want := `group "longhorn-users" (` + f.group + `) bound by this PolicyBinding no longer exists in Authentik; application "longhorn" (` + f.app + `) is open to every user until it is restored`
				t.Logf("Ready: %s", cr.GetCondition(xpv2.TypeReady).Message)
				t.Logf("Synced: %s", cr.GetCondition(xpv2.TypeSynced).Message)
				if got := cr.GetCondition(xpv2.TypeReady).Message; !strings.HasPrefix(got, want) {
					t.Errorf("Ready message:\n%s\nwant it to start with:\n%s", got, want)
				}
			},
			messageHas: openMessage,
			want:       outcome{Ready: corev1.ConditionFalse, ReadyMessage: openMessage, Synced: corev1.ConditionFalse, OpenApplications: 1},
		},
		"GroupDisappearsOthersRemain": {
			reason: "When the bound group is deleted but other bindings still restrict the application, the message says so instead.",
			cr:     binding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Settle(r, cr)
				existingBinding(t, env, f.app, authentikGroup(t, env, otherName), 20)
				deleteGroup(t, env, f.group)
				reconcileN(t, env, r, cr, 2)
			},
			messageHas: "1 other enabled policy bindings still apply to it",
			want:       outcome{Bindings: []string{otherName + "@20"}, Ready: corev1.ConditionFalse, ReadyMessage: "1 other enabled policy bindings still apply to it", Synced: corev1.ConditionFalse},
		},
		"GroupRecreatedIsFollowed": {
			reason: "A Group made again with a new UUID is followed: the binding is made again for it, and the application it targets stays set.",
			cr:     binding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Settle(r, cr)
				deleteGroup(t, env, f.group)
				reconcileN(t, env, r, cr, 1)
				id := authentikGroup(t, env, groupName)
				g := &v1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: groupName}}
				env.Get(g)
				meta.SetExternalName(g, id)
				if err := env.Kube.Update(context.Background(), g); err != nil {
					t.Fatal(err)
				}
				env.BackdateCreate(cr)
				env.Settle(r, cr)
				if got := ptr.Deref(cr.Spec.ForProvider.Group, ""); got != id {
					t.Errorf("spec.forProvider.group = %q, want the new group %q", got, id)
				}
				if got := ptr.Deref(cr.Spec.ForProvider.Application, ""); got != f.app {
					t.Errorf("spec.forProvider.application = %q, want it kept as %q", got, f.app)
				}
			},
			want: settled,
		},
		"GroupResourceAndGroupDeleted": {
			reason: "When the Group resource is deleted with its Authentik group, the last resolved UUID is kept so that the loss is reported, not hidden behind a reference error.",
			cr:     binding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Settle(r, cr)
				g := &v1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: groupName}}
				env.Delete(g)
				deleteGroup(t, env, f.group)
				reconcileN(t, env, r, cr, 2)
			},
			messageHas: openMessage,
			want:       outcome{Ready: corev1.ConditionFalse, ReadyMessage: openMessage, Synced: corev1.ConditionFalse, OpenApplications: 1},
		},
		"GroupRestoredIsBoundAgain": {
			reason: "A group named by name that comes back is bound again and the resource is Ready again.",
			cr: binding(func(cr *v1alpha1.PolicyBinding) {
				cr.Spec.ForProvider.GroupRef = nil
				cr.Spec.ForProvider.GroupName = ptr.To(otherName)
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, _ fixture) {
				id := authentikGroup(t, env, otherName)
				env.Settle(r, cr)
				deleteGroup(t, env, id)
				reconcileN(t, env, r, cr, 2)
				if got := cr.GetCondition(xpv2.TypeReady); got.Status != corev1.ConditionFalse || !strings.Contains(got.Message, `group "storage-admins" bound by this PolicyBinding no longer exists`) {
					t.Errorf("after the group was deleted: Ready %+v", got)
				}
				authentikGroup(t, env, otherName)
				env.Settle(r, cr)
			},
			want: outcome{Bindings: []string{otherName + "@10"}, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true},
		},
		"DeleteAfterGroupDisappeared": {
			reason: "A resource whose group and binding are gone can still be deleted.",
			cr:     binding(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Settle(r, cr)
				deleteGroup(t, env, f.group)
				reconcileN(t, env, r, cr, 1)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
			},
			want: outcome{},
		},
		"MissingGroupNameRefused": {
			reason: "A group name Authentik does not know is reported with the field that holds it, and nothing is bound.",
			cr: binding(func(cr *v1alpha1.PolicyBinding) {
				cr.Spec.ForProvider.GroupRef = nil
				cr.Spec.ForProvider.GroupName = ptr.To("nobody")
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, _ fixture) {
				reconcileN(t, env, r, cr, 2)
			},
			messageHas: `no Authentik group is named "nobody" (spec.forProvider.groupName)`,
			want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
		"UnknownTargetRefused": {
			reason: "Authentik's refusal of a target that is no application reaches the Synced condition, naming the spec field.",
			cr: binding(func(cr *v1alpha1.PolicyBinding) {
				cr.Spec.ForProvider.ApplicationRef = nil
				cr.Spec.ForProvider.Application = ptr.To("0b6c7f04-8a4b-43b9-b35d-6489e6daee91")
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, _ fixture) {
				reconcileN(t, env, r, cr, 2)
			},
			messageHas: "spec.forProvider.application (target):",
			want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
		"UnreadyApplicationRef": {
			reason: "An Application that has no pk yet is not bound to: the reference waits for it.",
			cr: binding(func(cr *v1alpha1.PolicyBinding) {
				cr.Spec.ForProvider.ApplicationRef = &xpv2.Reference{Name: "pending"}
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, _ fixture) {
				env.Create(&v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "pending"}})
				reconcileN(t, env, r, cr, 1)
			},
			messageHas: "spec.forProvider.applicationRef: referenced field was empty",
			want:       outcome{Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse},
		},
		"CrashAfterCreateAdopts": {
			reason: "A create that succeeded before the UUID was recorded is adopted, not duplicated and not stuck.",
			cr: binding(func(cr *v1alpha1.PolicyBinding) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				// The crashed reconcile had resolved and recorded both references.
				env.Get(cr)
				cr.Spec.ForProvider.Application = ptr.To(f.app)
				cr.Spec.ForProvider.Group = ptr.To(f.group)
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				existingBinding(t, env, f.app, f.group, 10)
				env.Settle(r, cr)
			},
			want: settled,
		},
		"CrashBeforeCreateCreates": {
			reason: "A create that never reached Authentik runs again.",
			cr: binding(func(cr *v1alpha1.PolicyBinding) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, _ fixture) {
				env.Settle(r, cr)
			},
			want: settled,
		},
		"CrashWithTwoCandidatesRefuses": {
			reason: "After a crash, two bindings that both match are neither adopted nor added to.",
			cr: binding(func(cr *v1alpha1.PolicyBinding) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.PolicyBinding, f fixture) {
				env.Get(cr)
				cr.Spec.ForProvider.Application = ptr.To(f.app)
				cr.Spec.ForProvider.Group = ptr.To(f.group)
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				existingBinding(t, env, f.app, f.group, 10)
				existingBinding(t, env, f.app, f.group, 10)
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: "several resources in Authentik match this resource",
			want:       outcome{Bindings: []string{groupName + "@10", groupName + "@10"}, Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse},
		},
		"LostCreateResponseAdopts": {
			reason: "A create whose answer was lost after Authentik made the binding is adopted on the next reconcile.",
			cr:     binding(),
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

func TestObserveOnlyImport(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	f := newFixture(t, env)
	id := existingBinding(t, env, f.app, f.group, 5)
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
		if got := ptr.Deref(cr.Status.AtProvider.GroupName, ""); got != groupName {
			t.Errorf("status.atProvider.groupName = %q, want %q", got, groupName)
		}
	}, before, func() (*api.PolicyBinding, error) { return retrieve(env, id) })
}

func TestDiff(t *testing.T) {
	t.Parallel()
	const app, grp = "0b6c7f04-8a4b-43b9-b35d-6489e6daee91", "1b6c7f04-8a4b-43b9-b35d-6489e6daee91"
	observed := v1alpha1.PolicyBindingParameters{
		Application: ptr.To(app),
		Group:       ptr.To(grp),
		GroupName:   ptr.To(groupName),
		Order:       ptr.To(int32(0)),
		Enabled:     ptr.To(true),
	}
	cases := map[string]struct {
		reason string
		spec   v1alpha1.PolicyBindingParameters
		want   bool
	}{
		"UnsetFieldsAreNotManaged": {
			reason: "Fields the spec leaves unset never count as drift.",
			spec:   v1alpha1.PolicyBindingParameters{Application: ptr.To(app)},
			want:   true,
		},
		"UUIDCaseIgnored": {
			reason: "A UUID in capitals names the same object.",
			spec:   v1alpha1.PolicyBindingParameters{Group: ptr.To(strings.ToUpper(grp))},
			want:   true,
		},
		"GroupNameCompared": {
			reason: "A group named by name is compared by name.",
			spec:   v1alpha1.PolicyBindingParameters{GroupName: ptr.To("someone-else")},
			want:   false,
		},
		"ReferencesNotCompared": {
			reason: "References are the resource's, not Authentik's.",
			spec:   v1alpha1.PolicyBindingParameters{Group: ptr.To(grp), GroupRef: &xpv2.Reference{Name: "g"}, ApplicationSelector: &xpv2.Selector{}},
			want:   true,
		},
		"OrderIsDrift": {
			reason: "Another order is drift.",
			spec:   v1alpha1.PolicyBindingParameters{Order: ptr.To(int32(1))},
			want:   false,
		},
		"PolicyInsteadOfGroupIsDrift": {
			reason: "A spec that binds a policy differs from a binding of a group.",
			spec:   v1alpha1.PolicyBindingParameters{Policy: ptr.To(grp)},
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

func TestLateInitialize(t *testing.T) {
	t.Parallel()
	observed := v1alpha1.PolicyBindingParameters{
		Application: ptr.To("a"),
		Group:       ptr.To("g"),
		GroupName:   ptr.To(groupName),
		Order:       ptr.To(int32(0)),
		Negate:      ptr.To(false),
		Enabled:     ptr.To(true),
		Timeout:     ptr.To(int32(30)),
	}
	flags := v1alpha1.PolicyBindingParameters{Order: ptr.To(int32(0)), Negate: ptr.To(false), Enabled: ptr.To(true), Timeout: ptr.To(int32(30))}
	cases := map[string]struct {
		reason string
		spec   v1alpha1.PolicyBindingParameters
		want   v1alpha1.PolicyBindingParameters
	}{
		"FillsUnset": {
			reason: "A spec that names nothing takes the application and the group's UUID.",
			spec:   v1alpha1.PolicyBindingParameters{},
			want: func() v1alpha1.PolicyBindingParameters {
				w := flags
				w.Application, w.Group = ptr.To("a"), ptr.To("g")
				return w
			}(),
		},
		"PolicyRefKeepsSubjectUnset": {
			reason: "A spec that binds a policy by reference gets neither the policy's UUID nor a group.",
			spec:   v1alpha1.PolicyBindingParameters{ApplicationRef: &xpv2.Reference{Name: "a"}, PolicyRef: &xpv2.Reference{Name: "p"}},
			want: func() v1alpha1.PolicyBindingParameters {
				w := flags
				w.ApplicationRef, w.PolicyRef = &xpv2.Reference{Name: "a"}, &xpv2.Reference{Name: "p"}
				return w
			}(),
		},
		"GroupNameKeepsGroupUnset": {
			reason: "A group named by name is not also named by UUID, which the CRD forbids.",
			spec:   v1alpha1.PolicyBindingParameters{ApplicationRef: &xpv2.Reference{Name: "a"}, GroupName: ptr.To(groupName)},
			want: func() v1alpha1.PolicyBindingParameters {
				w := flags
				w.ApplicationRef, w.GroupName = &xpv2.Reference{Name: "a"}, ptr.To(groupName)
				return w
			}(),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := tc.spec
			if !lateInitialize(&got, observed) {
				t.Errorf("%s\nLateInitialize reported no change", tc.reason)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestCreateCalls counts what creating a binding that names its group by
// name costs Authentik until it is Ready: the group looked up once (for the
// check that no such binding exists and for the request), the
// application's bindings listed once, one create; the first poll reads
// what the create answered, and the shared list of bindings.
func TestCreateCalls(t *testing.T) {
	t.Parallel()
	cr := binding(func(cr *v1alpha1.PolicyBinding) {
		cr.Spec.ForProvider.GroupRef = nil
		cr.Spec.ForProvider.GroupName = ptr.To(groupName)
	})
	env := mrtest.New(t, cr)
	newFixture(t, env)
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	env.Sim.ResetCounts()
	key := types.NamespacedName{Namespace: cr.Namespace, Name: cr.Name}
	for range 3 {
		if _, err := env.Reconcile(r, key); err != nil {
			t.Fatal(err)
		}
	}
	env.Get(cr)
	if got := cr.GetCondition(xpv2.TypeReady).Status; got != corev1.ConditionTrue {
		t.Fatalf("Ready = %s after three reconciles, want True: %+v", got, cr.GetCondition(xpv2.TypeSynced))
	}
	got := map[string]int{}
	for op, n := range env.Sim.Counts() {
		if n > 0 {
			got[op] = n
		}
	}
	want := map[string]int{"core_groups_list": 1, "policies_bindings_list": 2, "policies_bindings_create": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls until Ready (-want, +got):\n%s", diff)
	}
}
