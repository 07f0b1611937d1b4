package outpostbinding

import (
	"context"
	"fmt"
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

// outsider is a simulator fixture user in no group: whenever the outpost
// serves longhorn while its application admits this user, the simulator
// records an exposure.
const outsider = "outsider"

// guarded is a binding of provider pk that requires the groups.
func guarded(pk int32, groups ...string) *v1alpha1.OutpostBinding {
	return binding("longhorn", withProvider(pk), func(cr *v1alpha1.OutpostBinding) { cr.Spec.ForProvider.RequiredGroups = groups })
}

// newApplication makes an application for provider pk; it returns the
// application's pk, the target of its policy bindings.
func newApplication(t testing.TB, env *mrtest.Env, slug string, pk int32) string {
	t.Helper()
	req := api.NewApplicationRequest(slug, slug)
	req.SetProvider(pk)
	return mrtest.Must(env.Authentik.API.CoreAPI.CoreApplicationsCreate(context.Background()).ApplicationRequest(*req).Execute())(t).Pk
}

// newGroup makes a group and returns its UUID.
func newGroup(t testing.TB, env *mrtest.Env, name string) string {
	t.Helper()
	return mrtest.Must(env.Authentik.API.CoreAPI.CoreGroupsCreate(context.Background()).GroupRequest(*api.NewGroupRequest(name)).Execute())(t).Pk
}

// bindGroup binds the group to the application, as a PolicyBinding does.
func bindGroup(t testing.TB, env *mrtest.Env, app, group string, order int32, mods ...func(*api.PolicyBindingRequest)) {
	t.Helper()
	req := api.NewPolicyBindingRequest(app, order)
	req.SetGroup(group)
	for _, m := range mods {
		m(req)
	}
	if _, resp, err := env.Authentik.API.PoliciesAPI.PoliciesBindingsCreate(context.Background()).PolicyBindingRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
		t.Fatal(authentik.Classify(resp, err))
	}
}

// deleteGroup deletes a group in Authentik, which deletes its bindings.
func deleteGroup(t testing.TB, env *mrtest.Env, id string) {
	t.Helper()
	resp, err := env.Authentik.API.CoreAPI.CoreGroupsDestroy(context.Background(), id).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
}

// exposedWrites counts the accepted writes after which the outpost served
// longhorn while its application admitted the outsider.
func exposedWrites(env *mrtest.Env) int {
	n := 0
	for _, x := range env.Sim.Exposures("longhorn", outsider) {
		n += x.Writes
	}
	return n
}

// guardFixture is what a case's setup made in Authentik.
type guardFixture struct {
	outpost     string
	mine, other int32
	app         string
	groups      map[string]string // name to UUID
}

// guardOutcome summarises a binding that requires groups after a case's
// steps.
type guardOutcome struct {
	// Providers are those the embedded outpost serves.
	Providers []int32
	Ready     corev1.ConditionStatus
	Synced    corev1.ConditionStatus
	// ReadyMessage is the Ready condition's message.
	ReadyMessage string
	// ExposedWrites counts the writes, from the binding's creation on,
	// after which longhorn was served to the outsider.
	ExposedWrites int
	// PollCalls are the requests one more poll sends, by operation.
	PollCalls map[string]int
}

func TestRequiredGroups(t *testing.T) {
	t.Parallel()
	notBound := func(groups ...string) string {
		msg := "not served: "
		for i, g := range groups {
			if i > 0 {
				msg += "; "
			}
			msg += fmt.Sprintf("group %q has no policy binding on application %q", g, "longhorn")
		}
		return msg
	}
	// The outpost comes from the shared list of outposts, read before. A
	// poll whose shared lists of applications and bindings do not show
	// every group bound checks with fresh reads: an attached provider's
	// application is named by the outpost, a withheld one's by its provider.
	attachedPoll := map[string]int{"core_applications_retrieve": 1, "policies_bindings_list": 1}
	withheldPoll := map[string]int{"providers_proxy_retrieve": 1, "core_applications_retrieve": 1, "policies_bindings_list": 1}
	// served: longhorn is on the outpost beside grafana; exposed counts the
	// writes that served it to the outsider, poll the requests of one more poll.
	served := func(exposed int, poll map[string]int) func(f *guardFixture) guardOutcome {
		return func(f *guardFixture) guardOutcome {
			return guardOutcome{Providers: sorted(f.mine, f.other), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExposedWrites: exposed, PollCalls: poll}
		}
	}
	// withheld: longhorn is off the outpost and the binding says why.
	withheld := func(why string, exposed int) func(f *guardFixture) guardOutcome {
		return func(f *guardFixture) guardOutcome {
			return guardOutcome{Providers: sorted(f.other), Ready: corev1.ConditionFalse, Synced: corev1.ConditionTrue, ReadyMessage: why, ExposedWrites: exposed, PollCalls: withheldPoll}
		}
	}
	// adminsBound binds admins to longhorn's application and requires it.
	adminsBound := func(t *testing.T, env *mrtest.Env, f *guardFixture) *v1alpha1.OutpostBinding {
		bindGroup(t, env, f.app, f.groups["admins"], 0)
		return guarded(f.mine, "admins")
	}
	settle := func(_ *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, _ *guardFixture) {
		env.Settle(r, cr)
	}

	cases := map[string]struct {
		reason string
		// setup binds groups to the application and returns the binding.
		setup func(t *testing.T, env *mrtest.Env, f *guardFixture) *v1alpha1.OutpostBinding
		steps func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *guardFixture)
		want  func(f *guardFixture) guardOutcome
	}{
		"BoundGroupServed": {
			reason: "A provider whose required group is bound to its application is attached, and a poll costs no request while the shared lists are fresh.",
			setup:  adminsBound,
			steps:  settle,
			want:   served(0, map[string]int{}),
		},
		"MissingBindingNeverServed": {
			reason: "A required group without a binding keeps the provider off the outpost from the start; the binding is Synced and says why it is not Ready.",
			setup: func(t *testing.T, env *mrtest.Env, f *guardFixture) *v1alpha1.OutpostBinding {
				return guarded(f.mine, "admins")
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *guardFixture) {
				env.Settle(r, cr)
				env.NoWrites(r, cr)
				if got := env.Sim.WriteCounts(); len(got) != 0 {
					t.Errorf("a binding whose group is not bound wrote to Authentik: %v", got)
				}
			},
			want: withheld(notBound("admins"), 0),
		},
		"GroupThatDoesNotExist": {
			reason: "A required group that does not exist in Authentik (a typo) is not bound either.",
			setup: func(t *testing.T, env *mrtest.Env, f *guardFixture) *v1alpha1.OutpostBinding {
				bindGroup(t, env, f.app, f.groups["admins"], 0)
				return guarded(f.mine, "admins", "amdins")
			},
			steps: settle,
			want:  withheld(notBound("amdins"), 0),
		},
		"DisabledOrNegatedBindingIsNoRestriction": {
			reason: "A disabled binding applies to no one and a negated one admits everyone outside the group: neither counts.",
			setup: func(t *testing.T, env *mrtest.Env, f *guardFixture) *v1alpha1.OutpostBinding {
				bindGroup(t, env, f.app, f.groups["admins"], 0, func(r *api.PolicyBindingRequest) { r.SetEnabled(false) })
				bindGroup(t, env, f.app, f.groups["operators"], 1, func(r *api.PolicyBindingRequest) { r.SetNegate(true) })
				return guarded(f.mine, "admins", "operators")
			},
			steps: settle,
			want:  withheld(notBound("admins", "operators"), 0),
		},
		"NoApplication": {
			reason: "A provider without an application cannot be restricted by a binding, so it is not served.",
			setup: func(t *testing.T, env *mrtest.Env, f *guardFixture) *v1alpha1.OutpostBinding {
				f.mine = newProvider(t, env, "orphan")
				return guarded(f.mine, "admins")
			},
			steps: settle,
			want: func(f *guardFixture) guardOutcome {
				return guardOutcome{
					Providers: sorted(f.other), Ready: corev1.ConditionFalse, Synced: corev1.ConditionTrue,
					ReadyMessage: fmt.Sprintf("not served: provider %d has no application in Authentik, so no policy binding restricts it", f.mine),
					PollCalls:    map[string]int{"providers_proxy_retrieve": 1},
				}
			},
		},
		"GroupDeletedIsWithdrawnInOnePoll": {
			reason: "Deleting a bound group deletes its binding in Authentik; the next poll takes the provider off the outpost, so only the deletion itself left it served to everyone.",
			setup:  adminsBound,
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *guardFixture) {
				env.Settle(r, cr)
				deleteGroup(t, env, f.groups["admins"])
				if _, err := env.Reconcile(r, client.ObjectKeyFromObject(cr)); err != nil {
					t.Fatal(err)
				}
				if got := providersOf(t, env, f.outpost); !cmp.Equal(got, sorted(f.other)) {
					t.Errorf("one poll after the group was deleted the outpost serves %v, want %v", got, sorted(f.other))
				}
				env.Settle(r, cr)
				env.NoWrites(r, cr)
			},
			want: withheld(notBound("admins"), 1),
		},
		"GroupBackIsServedAgain": {
			reason: "Once the group and its binding are back the provider is attached again by itself; until the shared list of bindings is renewed, which shows the binding made outside the resource, each poll checks with fresh reads.",
			setup:  adminsBound,
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *guardFixture) {
				env.Settle(r, cr)
				deleteGroup(t, env, f.groups["admins"])
				env.Settle(r, cr)
				bindGroup(t, env, f.app, newGroup(t, env, "admins"), 0)
				env.Settle(r, cr)
			},
			want: served(1, attachedPoll),
		},
		"FoundAttachedIsWithdrawn": {
			reason: "A provider someone else attached is taken off too while its group is not bound: the binding's groups say it must not be served.",
			setup: func(t *testing.T, env *mrtest.Env, f *guardFixture) *v1alpha1.OutpostBinding {
				setProviders(t, env, f.outpost, f.mine, f.other)
				return guarded(f.mine, "admins")
			},
			steps: settle,
			want:  withheld(notBound("admins"), 0),
		},
		"CrashAfterAttachThenGroupDeleted": {
			reason: "A binding that attached its provider and stopped before recording its external name still takes it off when the group goes, and deleting it later keeps the other providers.",
			setup:  adminsBound,
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *guardFixture) {
				crashing := env.CrashingReconciler(Kind, reconcilerOptions(env, authentik.NewOutpostLists(authentik.SerializePerOutpost))...)
				_, _ = env.Reconcile(crashing, client.ObjectKeyFromObject(cr))
				env.Get(cr)
				if got := providersOf(t, env, f.outpost); !cmp.Equal(got, sorted(f.mine, f.other)) || cr.GetAnnotations()[AnnotationAttaching] == "" {
					t.Fatalf("the crash left providers %v and annotations %v, want %d attached and the intent recorded", got, cr.GetAnnotations(), f.mine)
				}
				deleteGroup(t, env, f.groups["admins"])
				env.Settle(r, cr)
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
			},
			want: func(f *guardFixture) guardOutcome {
				return guardOutcome{Providers: sorted(f.other), ExposedWrites: 1}
			},
		},
		"DeletedWhileWithheld": {
			reason: "Deleting a binding whose provider is off the outpost changes nothing more and finishes.",
			setup:  adminsBound,
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *guardFixture) {
				env.Settle(r, cr)
				deleteGroup(t, env, f.groups["admins"])
				env.Settle(r, cr)
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
			},
			want: func(f *guardFixture) guardOutcome {
				return guardOutcome{Providers: sorted(f.other), ExposedWrites: 1}
			},
		},
		"NoRequiredGroupsServesOpen": {
			reason: "Without requiredGroups a binding serves its provider as before, open application or not; the simulator records that exposure, so the cases above could see one.",
			setup: func(t *testing.T, env *mrtest.Env, f *guardFixture) *v1alpha1.OutpostBinding {
				return binding("longhorn", withProvider(f.mine))
			},
			steps: settle,
			want: func(f *guardFixture) guardOutcome {
				return guardOutcome{Providers: sorted(f.mine, f.other), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExposedWrites: 1, PollCalls: map[string]int{}}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			f := &guardFixture{outpost: embedded(env), mine: newProvider(t, env, "longhorn"), other: newProvider(t, env, "grafana")}
			f.app = newApplication(t, env, "longhorn", f.mine)
			f.groups = map[string]string{"admins": newGroup(t, env, "admins"), "operators": newGroup(t, env, "operators")}
			if err := env.Sim.SetUser(outsider); err != nil {
				t.Fatal(err)
			}
			setProviders(t, env, f.outpost, f.other)
			cr := tc.setup(t, env, f)
			exposedBefore := exposedWrites(env)
			env.Sim.ResetCounts()
			env.Create(cr)
			r := env.Reconciler(Kind, reconcilerOptions(env, authentik.NewOutpostLists(authentik.SerializePerOutpost))...)
			tc.steps(t, env, r, cr, f)

			got := guardOutcome{Providers: providersOf(t, env, f.outpost), ExposedWrites: exposedWrites(env) - exposedBefore}
			if err := env.Kube.Get(context.Background(), client.ObjectKeyFromObject(cr), cr); err == nil {
				got.Ready = cr.GetCondition(xpv2.TypeReady).Status
				got.Synced = cr.GetCondition(xpv2.TypeSynced).Status
				got.ReadyMessage = cr.GetCondition(xpv2.TypeReady).Message
				got.PollCalls = pollCalls(t, env, r, cr)
			}
			if diff := cmp.Diff(tc.want(f), got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
		})
	}
}

// pollCalls runs one more poll of the binding and counts its requests to
// Authentik by operation.
func pollCalls(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding) map[string]int {
	t.Helper()
	env.Sim.ResetCounts()
	if _, err := env.Reconcile(r, client.ObjectKeyFromObject(cr)); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for op, n := range env.Sim.Counts() {
		if n > 0 {
			out[op] = n
		}
	}
	return out
}

// TestRequiredGroupsStatus: a withheld binding's status names the outpost
// but no attached provider, and the reason.
func TestRequiredGroupsStatus(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	pk := newProvider(t, env, "longhorn")
	newApplication(t, env, "longhorn", pk)
	cr := guarded(pk, "admins")
	env.Create(cr)
	r := env.Reconciler(Kind, reconcilerOptions(env, authentik.NewOutpostLists(authentik.SerializePerOutpost))...)
	env.Settle(r, cr)
	want := v1alpha1.OutpostBindingObservation{
		OutpostID:       ptr.To(embedded(env)),
		OutpostName:     ptr.To("authentik Embedded Outpost"),
		Providers:       ptr.To(int32(0)),
		NotServedReason: ptr.To(`not served: group "admins" has no policy binding on application "longhorn"`),
	}
	if diff := cmp.Diff(want, cr.Status.AtProvider); diff != "" {
		t.Errorf("status.atProvider -want, +got:\n%s", diff)
	}
}
