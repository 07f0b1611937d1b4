package groupmembership

import (
	"context"
	"slices"
	"strconv"
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
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// world is what every test starts with in Authentik: a group with bob in
// it, added in the UI, and alice and carol in no group.
type world struct {
	group             string
	alice, bob, carol int32
}

func setUp(t *testing.T, env *mrtest.Env) world {
	t.Helper()
	ctx := context.Background()
	g, resp, err := env.Authentik.API.CoreAPI.CoreGroupsCreate(ctx).GroupRequest(*api.NewGroupRequest("platform")).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	w := world{group: g.Pk}
	for _, u := range []struct {
		name string
		pk   *int32
	}{{"alice", &w.alice}, {"bob", &w.bob}, {"carol", &w.carol}} {
		created, resp, err := env.Authentik.API.CoreAPI.CoreUsersCreate(ctx).UserRequest(*api.NewUserRequest(u.name, "")).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			t.Fatal(err)
		}
		*u.pk = created.Pk
	}
	add(t, env, w.group, w.bob)
	return w
}

func add(t *testing.T, env *mrtest.Env, group string, user int32) {
	t.Helper()
	resp, err := env.Authentik.API.CoreAPI.CoreGroupsAddUserCreate(context.Background(), group).UserAccountRequest(*api.NewUserAccountRequest(user)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, env *mrtest.Env, group string, user int32) {
	t.Helper()
	resp, err := env.Authentik.API.CoreAPI.CoreGroupsRemoveUserCreate(context.Background(), group).UserAccountRequest(*api.NewUserAccountRequest(user)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
}

// members names the group's members, sorted.
func members(t *testing.T, env *mrtest.Env, group string) []string {
	t.Helper()
	l, resp, err := env.Authentik.API.CoreAPI.CoreUsersList(context.Background()).GroupsByPk([]string{group}).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, u := range l.Results {
		out = append(out, u.Username)
	}
	slices.Sort(out)
	return out
}

func membership(w world, mods ...func(*v1alpha1.GroupMembership)) *v1alpha1.GroupMembership {
	return mrtest.Build(&v1alpha1.GroupMembership{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "alice-platform", UID: "6d1f2c3a-0000-4000-8000-000000000027"},
		Spec: v1alpha1.GroupMembershipSpec{
			ManagedResourceSpec: mrtest.Spec(),
			ForProvider:         v1alpha1.GroupMembershipParameters{Group: ptr.To(w.group), User: ptr.To(w.alice)},
		},
	}, mods...)
}

func itoa(pk int32) string { return strconv.Itoa(int(pk)) }

// outcome summarises a resource and Authentik after a test's steps.
type outcome struct {
	Members       []string
	Ready         corev1.ConditionStatus
	Synced        corev1.ConditionStatus
	SyncedMessage string
	// ExternalName is the pair the resource records, with the user by name.
	ExternalName string
}

func observe(t *testing.T, env *mrtest.Env, w world, cr *v1alpha1.GroupMembership, messageHas string) outcome {
	t.Helper()
	o := outcome{Members: members(t, env, w.group)}
	s := env.Status(cr, messageHas)
	o.Ready, o.Synced, o.SyncedMessage = s.Ready, s.Synced, s.SyncedMessage
	names := map[string]string{pair{w.group, w.alice}.String(): "alice", pair{w.group, w.carol}.String(): "carol"}
	o.ExternalName = names[s.ExternalName]
	if o.ExternalName == "" {
		o.ExternalName = s.ExternalName
	}
	return o
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	settled := outcome{Members: []string{"alice", "bob"}, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: "alice"}

	cases := map[string]struct {
		reason     string
		cr         func(w world) *v1alpha1.GroupMembership
		steps      func(t *testing.T, env *mrtest.Env, w world, r *managed.Reconciler, cr *v1alpha1.GroupMembership)
		messageHas string
		want       outcome
	}{
		"CreateKeepsOtherMembers": {
			reason: "The user is added to the group; the member added in the UI stays.",
			cr:     func(w world) *v1alpha1.GroupMembership { return membership(w) },
			steps: func(t *testing.T, env *mrtest.Env, _ world, r *managed.Reconciler, cr *v1alpha1.GroupMembership) {
				env.Settle(r, cr)
			},
			want: settled,
		},
		"RemovedInAuthentikIsRestored": {
			reason: "A membership removed behind the resource's back is added again.",
			cr:     func(w world) *v1alpha1.GroupMembership { return membership(w) },
			steps: func(t *testing.T, env *mrtest.Env, w world, r *managed.Reconciler, cr *v1alpha1.GroupMembership) {
				env.Settle(r, cr)
				remove(t, env, w.group, w.alice)
				env.PassReadAge()
				env.Settle(r, cr)
			},
			want: settled,
		},
		"DeleteRemovesOnlyThisMember": {
			reason: "Deleting the resource removes its user from the group, and no one else.",
			cr:     func(w world) *v1alpha1.GroupMembership { return membership(w) },
			steps: func(t *testing.T, env *mrtest.Env, _ world, r *managed.Reconciler, cr *v1alpha1.GroupMembership) {
				env.Settle(r, cr)
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
			},
			want: outcome{Members: []string{"bob"}},
		},
		"DeleteAfterUserGoneEnds": {
			reason: "A user deleted in Authentik took the membership with it; deleting the resource ends.",
			cr:     func(w world) *v1alpha1.GroupMembership { return membership(w) },
			steps: func(t *testing.T, env *mrtest.Env, w world, r *managed.Reconciler, cr *v1alpha1.GroupMembership) {
				env.Settle(r, cr)
				if resp, err := env.Authentik.API.CoreAPI.CoreUsersDestroy(context.Background(), w.alice).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
			},
			want: outcome{Members: []string{"bob"}},
		},
		"ExistingMembershipIsRefused": {
			reason: "A membership made in the UI is not taken over without consent: deleting the resource would remove it.",
			cr:     func(w world) *v1alpha1.GroupMembership { return membership(w) },
			steps: func(t *testing.T, env *mrtest.Env, w world, r *managed.Reconciler, cr *v1alpha1.GroupMembership) {
				add(t, env, w.group, w.alice)
				for range 3 {
					_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
				}
			},
			messageHas: mrtest.RefusedTakeover,
			want:       outcome{Members: []string{"alice", "bob"}, Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
		"UserChangeMovesMembership": {
			reason: "Another user in the spec is added, and the one the resource added before is removed.",
			cr:     func(w world) *v1alpha1.GroupMembership { return membership(w) },
			steps: func(t *testing.T, env *mrtest.Env, w world, r *managed.Reconciler, cr *v1alpha1.GroupMembership) {
				env.Settle(r, cr)
				cr.Spec.ForProvider.User = ptr.To(w.carol)
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
			},
			want: outcome{Members: []string{"bob", "carol"}, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: "carol"},
		},
		"CrashAfterCreateAdopts": {
			reason: "A user added before the pair was recorded is adopted, not refused.",
			cr: func(w world) *v1alpha1.GroupMembership {
				return membership(w, func(cr *v1alpha1.GroupMembership) {
					meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
				})
			},
			steps: func(t *testing.T, env *mrtest.Env, w world, r *managed.Reconciler, cr *v1alpha1.GroupMembership) {
				add(t, env, w.group, w.alice)
				env.Settle(r, cr)
			},
			want: settled,
		},
		"LostCreateResponseAdopts": {
			reason: "An add_user whose response was lost after Authentik added the user is adopted on the next reconcile.",
			cr:     func(w world) *v1alpha1.GroupMembership { return membership(w) },
			steps: func(t *testing.T, env *mrtest.Env, _ world, r *managed.Reconciler, cr *v1alpha1.GroupMembership) {
				env.CheckLostCreateAdopted(r, cr, "core_groups_add_user_create")
			},
			want: settled,
		},
		"MissingUserIsNamed": {
			reason: "A user that does not exist in Authentik is reported, and nothing changes.",
			cr: func(w world) *v1alpha1.GroupMembership {
				return membership(w, func(cr *v1alpha1.GroupMembership) { cr.Spec.ForProvider.User = ptr.To(int32(999)) })
			},
			steps: func(t *testing.T, env *mrtest.Env, _ world, r *managed.Reconciler, cr *v1alpha1.GroupMembership) {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: errAdd,
			want:       outcome{Members: []string{"bob"}, Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			w := setUp(t, env)
			cr := tc.cr(w)
			env.Create(cr.DeepCopy())
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
			tc.steps(t, env, w, r, cr)
			want := tc.want
			want.SyncedMessage = tc.messageHas
			if diff := cmp.Diff(want, observe(t, env, w, cr, tc.messageHas)); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
		})
	}
}

// TestReferences: a membership that names a User and a Group in its
// namespace by reference uses their ids.
func TestReferences(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	w := setUp(t, env)
	g := &v1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "platform", Annotations: map[string]string{meta.AnnotationKeyExternalName: w.group}}}
	u := &v1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "alice", Annotations: map[string]string{meta.AnnotationKeyExternalName: itoa(w.alice)}}}
	env.Create(g)
	env.Create(u)
	cr := membership(w, func(cr *v1alpha1.GroupMembership) {
		cr.Spec.ForProvider = v1alpha1.GroupMembershipParameters{GroupRef: &xpv2.Reference{Name: "platform"}, UserRef: &xpv2.Reference{Name: "alice"}}
	})
	env.Create(cr.DeepCopy())
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	env.Settle(r, cr)
	want := outcome{Members: []string{"alice", "bob"}, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: "alice"}
	if diff := cmp.Diff(want, observe(t, env, w, cr, "")); diff != "" {
		t.Errorf("-want, +got:\n%s", diff)
	}
	if ptr.Deref(cr.Spec.ForProvider.User, 0) != w.alice || ptr.Deref(cr.Spec.ForProvider.Group, "") != w.group {
		t.Errorf("resolved spec: user %v group %v", cr.Spec.ForProvider.User, cr.Spec.ForProvider.Group)
	}
}

func TestObserveOnlyImport(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	w := setUp(t, env)
	before := members(t, env, w.group)
	cr := membership(w, func(cr *v1alpha1.GroupMembership) {
		cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
		cr.Spec.ForProvider = v1alpha1.GroupMembershipParameters{}
		meta.SetExternalName(cr, pair{w.group, w.bob}.String())
	})
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	mrtest.CheckObserveOnlyImport(env, r, cr, func() {
		want := v1alpha1.GroupMembershipParameters{Group: ptr.To(w.group), User: ptr.To(w.bob)}
		if diff := cmp.Diff(want, cr.Spec.ForProvider); diff != "" {
			t.Errorf("spec.forProvider not late-initialised: -want, +got:\n%s", diff)
		}
	}, before, func() ([]string, error) { return members(t, env, w.group), nil })
}

func TestBadExternalName(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"NoUser":      "0b5f2b6e-3a43-4c2e-9d0a-6f4f1f0e7a11",
		"NotAUUID":    "platform/7",
		"UserNotANum": "0b5f2b6e-3a43-4c2e-9d0a-6f4f1f0e7a11/alice",
	}
	for name, en := range cases {
		t.Run(name, func(t *testing.T) {
			cr := membership(world{}, func(cr *v1alpha1.GroupMembership) { meta.SetExternalName(cr, en) })
			_, err := (&external{}).Observe(context.Background(), cr)
			if err == nil || !strings.Contains(err.Error(), errExternalName) {
				t.Errorf("Observe with external name %q: error %v", en, err)
			}
		})
	}
}
