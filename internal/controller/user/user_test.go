package user

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
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
	username       = "grafana-sync"
	displayName    = "Grafana sync"
	email          = "grafana@example.org"
	connectionName = "grafana-sync-token"
)

func person(mods ...func(*v1alpha1.User)) *v1alpha1.User {
	return mrtest.Build(&v1alpha1.User{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "grafana-sync", UID: "6d1f2c3a-0000-4000-8000-000000000026"},
		Spec: v1alpha1.UserSpec{
			ManagedResourceSpec: mrtest.SpecWritingTo(connectionName),
			ForProvider: v1alpha1.UserParameters{
				Username:   ptr.To(username),
				Name:       ptr.To(displayName),
				Email:      ptr.To(email),
				Type:       ptr.To("internal"),
				IsActive:   ptr.To(true),
				Path:       ptr.To("users/robots"),
				Attributes: &runtime.RawExtension{Raw: []byte(`{"team": "observability"}`)},
			},
		},
	}, mods...)
}

func serviceAccount(mods ...func(*v1alpha1.User)) *v1alpha1.User {
	return person(append([]func(*v1alpha1.User){func(cr *v1alpha1.User) {
		cr.Spec.ForProvider.Type = ptr.To(typeServiceAccount)
		cr.Spec.ForProvider.Attributes = nil
	}}, mods...)...)
}

func authentikUser(t *testing.T, env *mrtest.Env, req api.UserRequest) int32 {
	t.Helper()
	return mrtest.Must(env.Authentik.API.CoreAPI.CoreUsersCreate(context.Background()).UserRequest(req).Execute())(t).Pk
}

func usersNamed(t *testing.T, env *mrtest.Env, name string) []api.User {
	t.Helper()
	return mrtest.Must(env.Authentik.API.CoreAPI.CoreUsersList(context.Background()).Username(name).Execute())(t).Results
}

func retrieve(env *mrtest.Env, pk int32) (*api.User, error) {
	return mrtest.Response(env.Authentik.API.CoreAPI.CoreUsersRetrieve(context.Background(), pk).Execute())
}

// connection reads the resource's connection Secret; nil when there is none.
func connection(t *testing.T, env *mrtest.Env) map[string]string {
	t.Helper()
	s := &corev1.Secret{}
	err := env.Kube.Get(context.Background(), types.NamespacedName{Namespace: mrtest.Namespace, Name: connectionName}, s)
	if kerrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	return out
}

// tokenOf is the key of a token as Authentik shows it, "" when it has none.
func tokenOf(env *mrtest.Env, identifier string) string {
	k, resp, err := env.Authentik.API.CoreAPI.CoreTokensViewKeyRetrieve(context.Background(), identifier).Execute()
	if authentik.Classify(resp, err) != nil {
		return ""
	}
	return k.Key
}

// addTo puts the user in a new group, as someone in the UI would, and
// returns the group's UUID.
func addTo(t *testing.T, env *mrtest.Env, pk int32, groupName string) string {
	t.Helper()
	g, resp, err := env.Authentik.API.CoreAPI.CoreGroupsCreate(context.Background()).GroupRequest(*api.NewGroupRequest(groupName)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	resp, err = env.Authentik.API.CoreAPI.CoreGroupsAddUserCreate(context.Background(), g.Pk).UserAccountRequest(*api.NewUserAccountRequest(pk)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return g.Pk
}

// outcome summarises a resource and Authentik after a test's steps.
type outcome struct {
	Users         int
	Name          string
	Email         string
	Type          string
	Path          string
	Active        bool
	Groups        int
	Ready         corev1.ConditionStatus
	Synced        corev1.ConditionStatus
	SyncedMessage string
	PKMatches     bool
	// TokenInSecret: the Secret holds the username and the token Authentik
	// has for the service account.
	TokenInSecret bool
}

func observe(t *testing.T, env *mrtest.Env, cr *v1alpha1.User, messageHas string) outcome {
	t.Helper()
	s := env.Status(cr, messageHas)
	o := outcome{Ready: s.Ready, Synced: s.Synced, SyncedMessage: s.SyncedMessage}
	us := usersNamed(t, env, username)
	o.Users = len(us)
	if len(us) == 1 {
		u := us[0]
		o.Name, o.Email, o.Type, o.Path, o.Active, o.Groups = u.Name, u.GetEmail(), string(u.GetType()), u.GetPath(), u.GetIsActive(), len(u.Groups)
		o.PKMatches = meta.GetExternalName(cr) == itoa(u.Pk) && ptr.Deref(cr.Status.AtProvider.PK, 0) == u.Pk
		sec := connection(t, env)
		key := tokenOf(env, tokenIdentifier(username))
		o.TokenInSecret = key != "" && sec[ConnectionToken] == key && sec[ConnectionUsername] == username
	}
	return o
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	settled := outcome{Users: 1, Name: displayName, Email: email, Type: "internal", Path: "users/robots", Active: true, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true}
	settledSA := outcome{Users: 1, Name: displayName, Email: email, Type: typeServiceAccount, Path: "users/robots", Active: true, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true, TokenInSecret: true}

	cases := map[string]struct {
		reason     string
		cr         *v1alpha1.User
		steps      func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.User)
		messageHas string
		want       outcome
	}{
		"CreateRecordsPK": {
			reason: "A new resource makes a user whose id becomes the external name.",
			cr:     person(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.User) {
				env.Settle(r, cr)
			},
			want: settled,
		},
		"ServiceAccountTokenInSecret": {
			reason: "A service account is made with a token that never expires; its key is in the connection Secret, its other fields follow.",
			cr:     serviceAccount(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.User) {
				env.Settle(r, cr)
				if got := ptr.Deref(cr.Status.AtProvider.TokenIdentifier, ""); got != "service-account-grafana-sync-password" {
					t.Errorf("status.atProvider.tokenIdentifier = %q", got)
				}
			},
			want: settledSA,
		},
		"DriftIsRevertedMembershipsStay": {
			reason: "Fields changed in Authentik are restored with a PATCH; the groups someone added the user to stay.",
			cr:     person(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.User) {
				env.Settle(r, cr)
				pk, _ := parsePK(meta.GetExternalName(cr))
				addTo(t, env, pk, "ui-group")
				req := api.NewUserRequest(username, "renamed")
				req.SetEmail("other@example.org")
				req.SetIsActive(false)
				req.SetGroups([]string{usersGroups(t, env, pk)[0]})
				if _, resp, err := env.Authentik.API.CoreAPI.CoreUsersUpdate(context.Background(), pk).UserRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				obs, err := (&external{client: env.Authentik}).Observe(context.Background(), cr.DeepCopy())
				if err != nil {
					t.Fatal(err)
				}
				if obs.ResourceUpToDate || !strings.Contains(obs.Diff, "renamed") || !strings.Contains(obs.Diff, "other@example.org") {
					t.Errorf("Observe after drift: upToDate=%v diff=%q", obs.ResourceUpToDate, obs.Diff)
				}
				env.PassReadAge()
				env.Settle(r, cr)
			},
			want: func() outcome { o := settled; o.Groups = 1; return o }(),
		},
		"SpecChangeIsWritten": {
			reason: "A new display name and path in the spec are written to Authentik.",
			cr:     person(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.User) {
				env.Settle(r, cr)
				cr.Spec.ForProvider.Name = ptr.To("Grafana")
				cr.Spec.ForProvider.Path = ptr.To("robots")
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
			},
			want: func() outcome { o := settled; o.Name, o.Path = "Grafana", "robots"; return o }(),
		},
		"DeletedTokenIsMadeAgain": {
			reason: "A service account's token deleted in Authentik is made again, never expiring, and its new key written to the Secret.",
			cr:     serviceAccount(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.User) {
				env.Settle(r, cr)
				id := tokenIdentifier(username)
				old := tokenOf(env, id)
				if resp, err := env.Authentik.API.CoreAPI.CoreTokensDestroy(context.Background(), id).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				obs, err := (&external{client: env.Authentik}).Observe(context.Background(), cr.DeepCopy())
				if err != nil || obs.ResourceUpToDate || !strings.Contains(obs.Diff, id) {
					t.Errorf("Observe without the token: err %v upToDate %v diff %q", err, obs.ResourceUpToDate, obs.Diff)
				}
				env.PassReadAge()
				env.Settle(r, cr)
				if now := tokenOf(env, id); now == "" || now == old {
					t.Errorf("the token was not made again with a new key")
				}
			},
			want: settledSA,
		},
		"DeleteRemovesUserAndToken": {
			reason: "Deleting a service account deletes the user in Authentik, and its token with it.",
			cr:     serviceAccount(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.User) {
				env.Settle(r, cr)
				pk, _ := parsePK(meta.GetExternalName(cr))
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
				if _, err := retrieve(env, pk); !authentik.IsNotFound(err) {
					t.Errorf("user %d after delete: want not found, got %v", pk, err)
				}
				if tokenOf(env, tokenIdentifier(username)) != "" {
					t.Error("the service account's token outlived it")
				}
			},
			want: outcome{},
		},
		"UsernameTakenIsRefused": {
			reason: "A resource that never sent a create does not take over an existing user of the same username, and says how to consent.",
			cr:     person(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.User) {
				authentikUser(t, env, *api.NewUserRequest(username, "Someone"))
				for range 3 {
					_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
				}
			},
			messageHas: mrtest.RefusedTakeover,
			want:       outcome{Users: 1, Name: "Someone", Type: "internal", Path: "users", Active: true, Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
		"CrashAfterCreateAdopts": {
			reason: "A create that succeeded before the id was recorded is adopted, not duplicated and not stuck.",
			cr: person(func(cr *v1alpha1.User) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.User) {
				req, err := request(cr.Spec.ForProvider)
				if err != nil {
					t.Fatal(err)
				}
				authentikUser(t, env, req)
				env.Settle(r, cr)
			},
			want: settled,
		},
		"CrashAfterServiceAccountCreateAdopts": {
			reason: "A service account made before the crash is recognised by its username and type, adopted, completed, and its token read.",
			cr: serviceAccount(func(cr *v1alpha1.User) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.User) {
				if _, resp, err := env.Authentik.API.CoreAPI.CoreUsersServiceAccountCreate(context.Background()).UserServiceAccountRequest(*api.NewUserServiceAccountRequest(username)).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
			},
			want: settledSA,
		},
		"CrashWithForeignUserRefuses": {
			reason: "After a crash, a user of the same username with other fields is neither adopted nor changed.",
			cr: person(func(cr *v1alpha1.User) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.User) {
				authentikUser(t, env, *api.NewUserRequest(username, "Someone"))
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: "differs from this resource",
			want:       outcome{Users: 1, Name: "Someone", Type: "internal", Path: "users", Active: true, Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse},
		},
		"LostCreateResponseAdopts": {
			reason: "A create whose response was lost after Authentik made the user is adopted on the next reconcile.",
			cr:     person(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.User) {
				env.CheckLostCreateAdopted(r, cr, "core_users_create")
			},
			want: settled,
		},
		"LostServiceAccountResponseAdopts": {
			reason: "A service account whose create response (and token) was lost is adopted, and the token read from Authentik.",
			cr:     serviceAccount(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.User) {
				env.CheckLostCreateAdopted(r, cr, "core_users_service_account_create")
			},
			want: settledSA,
		},
		"BadEmailNamesField": {
			reason: "Authentik's refusal of a field is reported on the spec field that holds it.",
			cr:     person(func(cr *v1alpha1.User) { cr.Spec.ForProvider.Email = ptr.To("not an address") }),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.User) {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: "spec.forProvider.email",
			want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t, tc.cr)
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
			cr := tc.cr.DeepCopy()
			tc.steps(t, env, r, cr)
			want := tc.want
			want.SyncedMessage = tc.messageHas
			got := observe(t, env, cr, tc.messageHas)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
			if tok := tokenOf(env, tokenIdentifier(username)); tok != "" {
				for _, c := range cr.Status.Conditions {
					if strings.Contains(c.Message, tok) {
						t.Errorf("%s\nthe token is in condition %s", tc.reason, c.Type)
					}
				}
			}
		})
	}
}

func usersGroups(t *testing.T, env *mrtest.Env, pk int32) []string {
	t.Helper()
	u, err := retrieve(env, pk)
	if err != nil {
		t.Fatal(err)
	}
	return u.Groups
}

func TestObserveOnlyImport(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	req := api.NewUserRequest("imported", "Imported Person")
	req.SetEmail("imported@example.org")
	pk := authentikUser(t, env, *req)
	before, err := retrieve(env, pk)
	if err != nil {
		t.Fatal(err)
	}
	cr := person(func(cr *v1alpha1.User) {
		cr.Name = "imported"
		cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
		cr.Spec.ForProvider = v1alpha1.UserParameters{}
		meta.SetExternalName(cr, itoa(pk))
	})
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	mrtest.CheckObserveOnlyImport(env, r, cr, func() {
		want := v1alpha1.UserParameters{Username: ptr.To("imported"), Name: ptr.To("Imported Person"), Email: ptr.To("imported@example.org"), Type: ptr.To("internal"), IsActive: ptr.To(true), Path: ptr.To("users")}
		if diff := cmp.Diff(want, cr.Spec.ForProvider); diff != "" {
			t.Errorf("spec.forProvider not late-initialised: -want, +got:\n%s", diff)
		}
	}, before, func() (*api.User, error) { return retrieve(env, pk) })
}

func TestBadExternalName(t *testing.T) {
	t.Parallel()
	mrtest.CheckBadExternalName(t, (&external{}).Observe, person(func(cr *v1alpha1.User) { meta.SetExternalName(cr, "grafana-sync") }), errExternalName)
}

func TestTokenIdentifier(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		username string
		want     string
	}{
		"Plain":       {username: "grafana", want: "service-account-grafana-password"},
		"SpacesDots":  {username: "CI  Robot.v2", want: "service-account-ci-robotv2-password"},
		"Underscores": {username: "a_b", want: "service-account-a_b-password"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tokenIdentifier(tc.username); got != tc.want {
				t.Errorf("tokenIdentifier(%q) = %q, want %q", tc.username, got, tc.want)
			}
		})
	}
}
