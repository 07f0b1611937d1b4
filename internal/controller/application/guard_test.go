package application

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// outsider is a simulator fixture user in no group: whenever the embedded
// outpost serves longhorn while its application admits this user, the
// simulator records an exposure.
const outsider = "outsider"

// restricted is an Application of the longhorn provider that requires the
// groups to be bound.
func restricted(groups ...string) *v1alpha1.Application {
	return application(func(cr *v1alpha1.Application) { cr.Spec.ForProvider.RequiredGroups = groups })
}

// bindGroup binds the group named name to the application with UUID app, as
// a PolicyBinding does.
func bindGroup(t *testing.T, env *mrtest.Env, app, name string) {
	t.Helper()
	ctx := context.Background()
	l, resp, err := env.Authentik.API.CoreAPI.CoreGroupsList(ctx).Name(name).Execute()
	if err := authentik.Classify(resp, err); err != nil || len(l.Results) != 1 {
		t.Fatalf("group %s: %v, %d found", name, err, len(l.Results))
	}
	req := api.NewPolicyBindingRequest(app, 0)
	req.SetGroup(l.Results[0].Pk)
	if _, resp, err := env.Authentik.API.PoliciesAPI.PoliciesBindingsCreate(ctx).PolicyBindingRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
		t.Fatal(authentik.Classify(resp, err))
	}
}

// guardOutcome summarises a restricted Application after a case's steps.
type guardOutcome struct {
	// Provider is the application's provider in Authentik, 0 for none.
	Provider       int32
	Ready          corev1.ConditionStatus
	Synced         corev1.ConditionStatus
	ReadyMessage   string
	WithheldReason string
	// ExposedWrites counts the writes, from the resource's creation on,
	// after which longhorn was served while its application admitted the
	// outsider.
	ExposedWrites int
}

func TestRequiredGroups(t *testing.T) {
	t.Parallel()
	const adminsUnbound = `provider withheld: group "admins" has no policy binding on application "longhorn"`
	withheld := func(exposed int) func(pk int32) guardOutcome {
		return func(int32) guardOutcome {
			return guardOutcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionTrue, ReadyMessage: adminsUnbound, WithheldReason: adminsUnbound, ExposedWrites: exposed}
		}
	}
	served := func(exposed int) func(pk int32) guardOutcome {
		return func(pk int32) guardOutcome {
			return guardOutcome{Provider: pk, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExposedWrites: exposed}
		}
	}
	// bindAndSettle binds admins to the application the resource made.
	bindAndSettle := func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application) {
		env.Settle(r, cr)
		bindGroup(t, env, ptr.Deref(cr.Status.AtProvider.PK, ""), "admins")
		env.Settle(r, cr)
	}
	cases := map[string]struct {
		reason string
		cr     *v1alpha1.Application
		steps  func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application)
		want   func(pk int32) guardOutcome
	}{
		"NewApplicationWithheldUntilBound": {
			reason: "A new application has no binding yet, so it is made without its provider and says why; it writes nothing more while it waits.",
			cr:     restricted("admins"),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application) {
				env.Settle(r, cr)
				env.NoWrites(r, cr)
			},
			want: withheld(0),
		},
		"ServedOnceBound": {
			reason: "Once every required group is bound the application gets its provider, and it was never served open meanwhile.",
			cr:     restricted("admins"),
			steps:  bindAndSettle,
			want:   served(0),
		},
		"DeletedInAuthentikComesBackWithheld": {
			reason: "An application deleted in Authentik takes its bindings with it; the one made again has no provider until they exist again, so no write serves the provider open.",
			cr:     restricted("admins"),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application) {
				bindAndSettle(t, env, r, cr)
				if resp, err := env.Authentik.API.CoreAPI.CoreApplicationsDestroy(context.Background(), appSlug).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(authentik.Classify(resp, err))
				}
				env.Settle(r, cr)
			},
			want: withheld(0),
		},
		"DeletedInAuthentikServedOnceBoundAgain": {
			reason: "The application made again gets its provider back by itself once its binding is made again.",
			cr:     restricted("admins"),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application) {
				bindAndSettle(t, env, r, cr)
				if resp, err := env.Authentik.API.CoreAPI.CoreApplicationsDestroy(context.Background(), appSlug).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(authentik.Classify(resp, err))
				}
				bindAndSettle(t, env, r, cr)
			},
			want: served(0),
		},
		"GroupDeletedWithdrawsProvider": {
			reason: "Deleting the bound group deletes its binding; the next poll detaches the provider (only the deletion itself left it open, as nothing else restricts this application).",
			cr:     restricted("admins"),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application) {
				bindAndSettle(t, env, r, cr)
				l, resp, err := env.Authentik.API.CoreAPI.CoreGroupsList(context.Background()).Name("admins").Execute()
				if err := authentik.Classify(resp, err); err != nil {
					t.Fatal(err)
				}
				if resp, err := env.Authentik.API.CoreAPI.CoreGroupsDestroy(context.Background(), l.Results[0].Pk).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(authentik.Classify(resp, err))
				}
				env.Settle(r, cr)
				env.NoWrites(r, cr)
			},
			want: withheld(1),
		},
		"DeletedWhileWithheld": {
			reason: "Deleting a withheld application deletes it and finishes.",
			cr:     restricted("admins"),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application) {
				env.Settle(r, cr)
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
			},
			want: func(int32) guardOutcome { return guardOutcome{} },
		},
		"NoRequiredGroupsServesOpen": {
			reason: "Without requiredGroups the application gets its provider at once, open or not; the simulator records that exposure, so the cases above could see one.",
			cr:     application(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application) {
				env.Settle(r, cr)
			},
			want: served(1),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			pk := proxyProvider(t, env, providerKind)
			outpost := env.Sim.Fixtures().EmbeddedOutpost
			if _, resp, err := env.Authentik.API.OutpostsAPI.OutpostsInstancesPartialUpdate(context.Background(), outpost).
				PatchedOutpostRequest(api.PatchedOutpostRequest{Providers: []int32{pk}}).Execute(); authentik.Classify(resp, err) != nil {
				t.Fatal(authentik.Classify(resp, err))
			}
			if _, resp, err := env.Authentik.API.CoreAPI.CoreGroupsCreate(context.Background()).GroupRequest(*api.NewGroupRequest("admins")).Execute(); authentik.Classify(resp, err) != nil {
				t.Fatal(authentik.Classify(resp, err))
			}
			if err := env.Sim.SetUser(outsider); err != nil {
				t.Fatal(err)
			}
			cr := tc.cr
			env.Create(cr)
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
			tc.steps(t, env, r, cr)

			got := guardOutcome{}
			for _, x := range env.Sim.Exposures("longhorn-proxy", outsider) {
				got.ExposedWrites += x.Writes
			}
			if a, err := retrieve(env, appSlug); err == nil {
				got.Provider = ptr.Deref(a.Provider.Get(), 0)
			} else if !authentik.IsNotFound(err) {
				t.Fatal(err)
			}
			if err := env.Kube.Get(context.Background(), client.ObjectKeyFromObject(cr), cr); err == nil {
				got.Ready = cr.GetCondition(xpv2.TypeReady).Status
				got.Synced = cr.GetCondition(xpv2.TypeSynced).Status
				got.ReadyMessage = cr.GetCondition(xpv2.TypeReady).Message
				got.WithheldReason = ptr.Deref(cr.Status.AtProvider.WithheldReason, "")
			}
			if diff := cmp.Diff(tc.want(pk), got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
		})
	}
}
