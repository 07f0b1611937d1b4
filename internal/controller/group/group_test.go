package group

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

const (
	groupName  = "longhorn-users"
	parentName = "staff"
	attrsJSON  = `{"team": "storage", "quota": 3}`
)

func group(mods ...func(*v1alpha1.Group)) *v1alpha1.Group {
	return mrtest.Build(&v1alpha1.Group{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "longhorn-users", UID: "6d1f2c3a-0000-4000-8000-000000000003"},
		Spec: v1alpha1.GroupSpec{
			ManagedResourceSpec: mrtest.Spec(),
			ForProvider: v1alpha1.GroupParameters{
				Name:       ptr.To(groupName),
				ParentRefs: []xpv2.Reference{{Name: parentName}},
				Attributes: &runtime.RawExtension{Raw: []byte(attrsJSON)},
			},
		},
	}, mods...)
}

// parentGroup makes a group in Authentik and a Group resource for it, as if
// the Group controller had made it.
func parentGroup(t *testing.T, env *mrtest.Env) string {
	t.Helper()
	pk := authentikGroup(t, env, *api.NewGroupRequest(parentName))
	p := &v1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: parentName}}
	meta.SetExternalName(p, pk)
	env.Create(p)
	return pk
}

func authentikGroup(t *testing.T, env *mrtest.Env, req api.GroupRequest) string {
	t.Helper()
	return mrtest.Must(env.Authentik.API.CoreAPI.CoreGroupsCreate(context.Background()).GroupRequest(req).Execute())(t).Pk
}

// existingGroup makes a group in Authentik the way the spec would, as if
// made outside this resource or before a crash.
func existingGroup(t *testing.T, env *mrtest.Env, p v1alpha1.GroupParameters) string {
	t.Helper()
	req, err := request(p)
	if err != nil {
		t.Fatal(err)
	}
	return authentikGroup(t, env, req)
}

func groupsNamed(t *testing.T, env *mrtest.Env, name string) []api.Group {
	t.Helper()
	return mrtest.Must(env.Authentik.API.CoreAPI.CoreGroupsList(context.Background()).Name(name).IncludeUsers(false).Execute())(t).Results
}

func retrieve(env *mrtest.Env, id string) (*api.Group, error) {
	return mrtest.Response(env.Authentik.API.CoreAPI.CoreGroupsRetrieve(context.Background(), id).IncludeUsers(false).Execute())
}

// outcome summarises a resource and Authentik after a test's steps.
type outcome struct {
	Groups        int
	Team          any
	HasParent     bool
	Ready         corev1.ConditionStatus
	Synced        corev1.ConditionStatus
	SyncedMessage string
	ExternalName  bool
	PKMatches     bool
}

func observe(t *testing.T, env *mrtest.Env, cr *v1alpha1.Group, parent, messageHas string) outcome {
	t.Helper()
	s := env.Status(cr, messageHas)
	o := outcome{Ready: s.Ready, Synced: s.Synced, SyncedMessage: s.SyncedMessage, ExternalName: s.ExternalName != ""}
	gs := groupsNamed(t, env, groupName)
	o.Groups = len(gs)
	if len(gs) == 1 {
		o.Team = gs[0].Attributes["team"]
		o.HasParent = len(gs[0].Parents) == 1 && gs[0].Parents[0] == parent
		o.PKMatches = o.ExternalName && gs[0].Pk == meta.GetExternalName(cr) && ptr.Deref(cr.Status.AtProvider.PK, "") == gs[0].Pk
	}
	return o
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	settled := outcome{Groups: 1, Team: "storage", HasParent: true, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true}
	someoneElse := func(t *testing.T, env *mrtest.Env) {
		existingGroup(t, env, v1alpha1.GroupParameters{Name: ptr.To(groupName), Attributes: &runtime.RawExtension{Raw: []byte(`{"team":"someone-else"}`)}})
	}

	// Every case's Env holds the parent group the resource refers to.
	cases := mrtest.Lifecycle[*v1alpha1.Group, outcome]{
		Noun:     "group",
		Path:     "/core/groups/",
		Resource: group,
		Settled:  settled,
		Created: func(t *testing.T, cr *v1alpha1.Group) {
			if len(cr.Spec.ForProvider.Parents) != 1 {
				t.Errorf("spec.forProvider.parents not resolved from parentRefs: %v", cr.Spec.ForProvider.Parents)
			}
			if ptr.Deref(cr.Spec.ForProvider.IsSuperuser, true) {
				t.Errorf("isSuperuser not late-initialised to false: %v", cr.Spec.ForProvider.IsSuperuser)
			}
		},
		Drift: func(t *testing.T, env *mrtest.Env, cr *v1alpha1.Group) {
			// Name, attributes and parents are reported.
			req := api.NewGroupRequest("renamed")
			req.Attributes = map[string]any{"team": "compute"}
			req.Parents = []string{}
			if _, resp, err := env.Authentik.API.CoreAPI.CoreGroupsUpdate(context.Background(), meta.GetExternalName(cr)).GroupRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
				t.Fatal(err)
			}
			obs, err := groups.External(env.Authentik).Observe(context.Background(), cr.DeepCopy())
			if err != nil {
				t.Fatal(err)
			}
			if obs.ResourceUpToDate || !strings.Contains(obs.Diff, "compute") || !strings.Contains(obs.Diff, "renamed") {
				t.Errorf("Observe after drift: upToDate=%v diff=%q", obs.ResourceUpToDate, obs.Diff)
			}
		},
		Destroy: func(env *mrtest.Env, id string) error {
			resp, err := env.Authentik.API.CoreAPI.CoreGroupsDestroy(context.Background(), id).Execute()
			return authentik.Classify(resp, err)
		},
		Retrieve: func(env *mrtest.Env, id string) error { _, err := retrieve(env, id); return err },
		Made: func(t *testing.T, env *mrtest.Env, cr *v1alpha1.Group) {
			// The crashed reconcile had resolved and recorded the parent.
			env.Get(cr)
			p := &v1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: parentName}}
			env.Get(p)
			cr.Spec.ForProvider.Parents = []string{meta.GetExternalName(p)}
			if err := env.Kube.Update(context.Background(), cr); err != nil {
				t.Fatal(err)
			}
			existingGroup(t, env, cr.Spec.ForProvider)
		},
		Taken:          someoneElse,
		TakenOutcome:   outcome{Groups: 1, Team: "someone-else", Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		Foreign:        someoneElse,
		ForeignOutcome: outcome{Groups: 1, Team: "someone-else", Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse},
		CreateOp:       "core_groups_create",
	}.Cases()
	cases["DriftIsRevertedMembersStay"] = mrtest.Case[*v1alpha1.Group, outcome]{
		Reason: "Restoring the group keeps the members added in Authentik: a PUT without users would remove them all (GroupSerializer.users defaults to an empty list).",
		CR:     group(),
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Group) {
			env.Settle(r, cr)
			ctx := context.Background()
			u, resp, err := env.Authentik.API.CoreAPI.CoreUsersCreate(ctx).UserRequest(*api.NewUserRequest("alice", "")).Execute()
			if err := authentik.Classify(resp, err); err != nil {
				t.Fatal(err)
			}
			resp, err = env.Authentik.API.CoreAPI.CoreGroupsAddUserCreate(ctx, meta.GetExternalName(cr)).UserAccountRequest(*api.NewUserAccountRequest(u.Pk)).Execute()
			if err := authentik.Classify(resp, err); err != nil {
				t.Fatal(err)
			}
			p := api.NewPatchedGroupRequest()
			p.SetName("renamed")
			if _, resp, err := env.Authentik.API.CoreAPI.CoreGroupsPartialUpdate(ctx, meta.GetExternalName(cr)).PatchedGroupRequest(*p).Execute(); authentik.Classify(resp, err) != nil {
				t.Fatal(err)
			}
			env.PassReadAge()
			env.Settle(r, cr)
			g, err := retrieve(env, meta.GetExternalName(cr))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]int32{u.Pk}, g.Users); diff != "" {
				t.Errorf("members after the group was restored: -want, +got:\n%s", diff)
			}
		},
		Want: settled,
	}
	cases["UnresolvedParentRef"] = mrtest.Case[*v1alpha1.Group, outcome]{
		Reason: "A reference to a Group that does not exist is reported with the field that holds it.",
		CR: group(func(cr *v1alpha1.Group) {
			cr.Spec.ForProvider.ParentRefs = []xpv2.Reference{{Name: "missing"}}
		}),
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Group) {
			_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
		},
		MessageHas: "spec.forProvider.parentRefs: cannot get referenced resource",
		Want:       outcome{Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t, tc.CR)
			parent := parentGroup(t, env)
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
			cr := tc.CR.DeepCopy()
			tc.Steps(t, env, r, cr)
			want := tc.Want
			want.SyncedMessage = tc.MessageHas
			got := observe(t, env, cr, parent, tc.MessageHas)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.Reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
		})
	}
}

func TestObserveOnlyImport(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	id := existingGroup(t, env, v1alpha1.GroupParameters{Name: ptr.To("admins"), IsSuperuser: ptr.To(true), Attributes: &runtime.RawExtension{Raw: []byte(attrsJSON)}})
	before, err := retrieve(env, id)
	if err != nil {
		t.Fatal(err)
	}

	cr := group(func(cr *v1alpha1.Group) {
		cr.Name = "imported"
		cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
		cr.Spec.ForProvider = v1alpha1.GroupParameters{}
		meta.SetExternalName(cr, id)
	})
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	mrtest.CheckObserveOnlyImport(env, r, cr, func() {
		if got := ptr.Deref(cr.Status.AtProvider.PK, ""); got != id {
			t.Errorf("status.atProvider.pk = %q, want %q", got, id)
		}
	}, before, func() (*api.Group, error) { return retrieve(env, id) })
}

func TestBadExternalName(t *testing.T) {
	t.Parallel()
	mrtest.CheckBadExternalName(t, groups.External(nil).Observe, group(func(cr *v1alpha1.Group) { meta.SetExternalName(cr, "admins") }), errExternalName)
}

func TestDiff(t *testing.T) {
	t.Parallel()
	observed := v1alpha1.GroupParameters{
		Name:        ptr.To(groupName),
		IsSuperuser: ptr.To(false),
		Parents:     []string{"b", "a"},
		Attributes:  &runtime.RawExtension{Raw: []byte(`{"quota":3,"team":"storage"}`)},
	}
	raw := func(s string) *runtime.RawExtension { return &runtime.RawExtension{Raw: []byte(s)} }
	cases := map[string]struct {
		reason string
		spec   v1alpha1.GroupParameters
		want   bool
	}{
		"UnsetFieldsAreNotManaged": {
			reason: "Fields the spec leaves unset never count as drift.",
			spec:   v1alpha1.GroupParameters{Name: ptr.To(groupName)},
			want:   true,
		},
		"ParentsAreASet": {
			reason: "Parents in another order are the same parents.",
			spec:   v1alpha1.GroupParameters{Parents: []string{"a", "b"}},
			want:   true,
		},
		"MissingParentIsDrift": {
			reason: "A parent Authentik lacks is drift.",
			spec:   v1alpha1.GroupParameters{Parents: []string{"a", "c"}},
			want:   false,
		},
		"AttributesCompareAsJSON": {
			reason: "Attributes with other key order and spacing are the same.",
			spec:   v1alpha1.GroupParameters{Attributes: raw(attrsJSON)},
			want:   true,
		},
		"ExtraAttributeIsDrift": {
			reason: "The spec's attributes are the whole object: an attribute added in Authentik is drift.",
			spec:   v1alpha1.GroupParameters{Attributes: raw(`{"team":"storage"}`)},
			want:   false,
		},
		"NotAnObjectIsDrift": {
			reason: "Attributes that are not an object never match.",
			spec:   v1alpha1.GroupParameters{Attributes: raw(`[1]`)},
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
	observed := v1alpha1.GroupParameters{
		Name:        ptr.To(groupName),
		IsSuperuser: ptr.To(false),
		Parents:     []string{"a"},
		Attributes:  &runtime.RawExtension{Raw: []byte(`{}`)},
	}
	cases := map[string]struct {
		reason      string
		spec        v1alpha1.GroupParameters
		want        v1alpha1.GroupParameters
		wantChanged bool
	}{
		"FillsUnset": {
			reason:      "Unset fields take Authentik's values; empty attributes stay unset.",
			spec:        v1alpha1.GroupParameters{},
			want:        v1alpha1.GroupParameters{Name: ptr.To(groupName), IsSuperuser: ptr.To(false), Parents: []string{"a"}},
			wantChanged: true,
		},
		"ReferencesKeepParentsUnset": {
			reason:      "Parents chosen by reference are left to the references.",
			spec:        v1alpha1.GroupParameters{Name: ptr.To(groupName), ParentRefs: []xpv2.Reference{{Name: "p"}}},
			want:        v1alpha1.GroupParameters{Name: ptr.To(groupName), IsSuperuser: ptr.To(false), ParentRefs: []xpv2.Reference{{Name: "p"}}},
			wantChanged: true,
		},
		"KeepsSet": {
			reason: "Set fields are the user's and stay as they are.",
			spec:   v1alpha1.GroupParameters{Name: ptr.To("mine"), IsSuperuser: ptr.To(true), Parents: []string{"b"}},
			want:   v1alpha1.GroupParameters{Name: ptr.To("mine"), IsSuperuser: ptr.To(true), Parents: []string{"b"}},
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
