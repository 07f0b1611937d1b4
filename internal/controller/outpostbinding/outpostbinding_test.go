package outpostbinding

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

func binding(name string, mods ...func(*v1alpha1.OutpostBinding)) *v1alpha1.OutpostBinding {
	return mrtest.Build(&v1alpha1.OutpostBinding{
		// The usage tracker names each resource's ProviderConfigUsage by
		// its UID, which the fake API server does not assign.
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: name, UID: types.UID("uid-" + name)},
		Spec: v1alpha1.OutpostBindingSpec{
			ManagedResourceSpec: mrtest.Spec(),
		},
	}, mods...)
}

func withProvider(pk int32) func(*v1alpha1.OutpostBinding) {
	return func(cr *v1alpha1.OutpostBinding) { cr.Spec.ForProvider.ProviderID = ptr.To(pk) }
}

// newProvider makes a proxy provider in Authentik and returns its pk.
func newProvider(t testing.TB, env *mrtest.Env, name string) int32 {
	t.Helper()
	ctx := context.Background()
	authz, err := env.Authentik.FlowUUID(ctx, authentik.DefaultAuthorizationFlow)
	if err != nil {
		t.Fatal(err)
	}
	inval, err := env.Authentik.FlowUUID(ctx, authentik.DefaultInvalidationFlow)
	if err != nil {
		t.Fatal(err)
	}
	req := api.NewProxyProviderRequest(name, authz, inval, "https://"+name+".example.com")
	req.Mode = ptr.To(api.PROXYMODE_FORWARD_SINGLE)
	return mrtest.Must(env.Authentik.API.ProvidersAPI.ProvidersProxyCreate(ctx).ProxyProviderRequest(*req).Execute())(t).Pk
}

// newOutpost makes a proxy outpost in Authentik and returns its UUID.
func newOutpost(t testing.TB, env *mrtest.Env, name string, providers ...int32) string {
	t.Helper()
	req := api.NewOutpostRequest(name, api.OUTPOSTTYPEENUM_PROXY, providers, map[string]any{"log_level": "info"})
	return mrtest.Must(env.Authentik.API.OutpostsAPI.OutpostsInstancesCreate(context.Background()).OutpostRequest(*req).Execute())(t).Pk
}

// providersOf lists the providers the outpost serves.
func providersOf(t testing.TB, env *mrtest.Env, id string) []int32 {
	t.Helper()
	o, resp, err := env.Authentik.API.OutpostsAPI.OutpostsInstancesRetrieve(context.Background(), id).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(slices.Values(o.Providers))
}

// setProviders replaces the outpost's provider list behind the provider's
// back.
func setProviders(t testing.TB, env *mrtest.Env, id string, providers ...int32) {
	t.Helper()
	req := api.PatchedOutpostRequest{Providers: append([]int32{}, providers...)}
	_, resp, err := env.Authentik.API.OutpostsAPI.OutpostsInstancesPartialUpdate(context.Background(), id).PatchedOutpostRequest(req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
}

func embedded(env *mrtest.Env) string { return env.Sim.Fixtures().EmbeddedOutpost }

// outcome summarises a binding and its outpost after a test's steps.
type outcome struct {
	Providers     []int32
	ExternalName  string
	FoundAttached bool
	Ready         corev1.ConditionStatus
	Synced        corev1.ConditionStatus
	SyncedMessage string
}

// fixture holds what a case's steps made in Authentik, for its wanted
// outcome.
type fixture struct {
	outpost      string // the outpost the case checks
	mine, other  int32  // the binding's provider and one it must not touch
	otherOutpost string
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason     string
		setup      func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding
		steps      func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture)
		messageHas string
		want       func(f *fixture) outcome
	}{
		"AttachKeepsOthers": {
			reason: "A binding adds its provider to the embedded outpost, keeps the providers already there and records <uuid>/<pk>.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				setProviders(t, env, f.outpost, f.other)
				return binding("longhorn", withProvider(f.mine))
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				env.Settle(r, cr)
				if got := ptr.Deref(cr.Status.AtProvider.OutpostName, ""); got != "authentik Embedded Outpost" {
					t.Errorf("status.atProvider.outpostName = %q", got)
				}
			},
			want: func(f *fixture) outcome {
				return outcome{Providers: sorted(f.mine, f.other), ExternalName: ExternalName(f.outpost, f.mine), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue}
			},
		},
		"RemovedBehindBackIsPutBack": {
			reason: "A provider removed from the outpost behind the binding's back is attached again, and the rest kept.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				return binding("longhorn", withProvider(f.mine))
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				env.Settle(r, cr)
				setProviders(t, env, f.outpost, f.other)
				obs, err := (&external{client: env.Authentik, lists: authentik.NewOutpostLists(authentik.SerializePerOutpost)}).Observe(context.Background(), cr.DeepCopy())
				if err != nil || obs.ResourceExists {
					t.Errorf("Observe after removal: exists=%v err=%v, want not exists", obs.ResourceExists, err)
				}
				env.BackdateCreate(cr)
				env.Settle(r, cr)
			},
			want: func(f *fixture) outcome {
				return outcome{Providers: sorted(f.mine, f.other), ExternalName: ExternalName(f.outpost, f.mine), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue}
			},
		},
		"DeleteDetachesOnlyItsOwn": {
			reason: "Deleting a binding removes its provider and keeps every other.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				setProviders(t, env, f.outpost, f.other)
				return binding("longhorn", withProvider(f.mine))
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				env.Settle(r, cr)
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
			},
			want: func(f *fixture) outcome { return outcome{Providers: sorted(f.other)} },
		},
		"FoundAttachedIsNotDetached": {
			reason: "A binding whose provider was on the outpost before it never removes it.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				setProviders(t, env, f.outpost, f.mine, f.other)
				return binding("longhorn", withProvider(f.mine))
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				env.Settle(r, cr)
				if cr.GetAnnotations()[AnnotationFoundAttached] != "true" {
					t.Errorf("binding lacks %s: %v", AnnotationFoundAttached, cr.GetAnnotations())
				}
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
			},
			want: func(f *fixture) outcome { return outcome{Providers: sorted(f.mine, f.other)} },
		},
		"CrashAfterAttachStillDetaches": {
			reason: "A binding that stopped after attaching its provider, before recording its external name, still owns the provider: deleting it later detaches it and keeps the others.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				setProviders(t, env, f.outpost, f.other)
				return binding("longhorn", withProvider(f.mine))
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				crashing := env.CrashingReconciler(Kind, reconcilerOptions(env, authentik.NewOutpostLists(authentik.SerializePerOutpost))...)
				_, _ = env.Reconcile(crashing, client.ObjectKeyFromObject(cr))
				env.Get(cr)
				if got := providersOf(t, env, f.outpost); !slices.Contains(got, f.mine) || meta.GetExternalName(cr) != "" {
					t.Fatalf("the crash left providers %v and external name %q, want %d attached and no name", got, meta.GetExternalName(cr), f.mine)
				}
				env.Settle(r, cr)
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
			},
			want: func(f *fixture) outcome { return outcome{Providers: sorted(f.other)} },
		},
		"FoundAttachedLeftByteIdentical": {
			reason: "Without consent, a binding whose provider someone else attached changes nothing in Authentik, neither when made nor when deleted.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				setProviders(t, env, f.outpost, f.mine, f.other)
				return binding("longhorn", withProvider(f.mine))
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				before := env.RawJSON(t, "/outposts/instances/"+f.outpost+"/")
				env.Settle(r, cr)
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
				if diff := cmp.Diff(before, env.RawJSON(t, "/outposts/instances/"+f.outpost+"/")); diff != "" {
					t.Errorf("the outpost changed (-before, +after):\n%s", diff)
				}
			},
			want: func(f *fixture) outcome { return outcome{Providers: sorted(f.mine, f.other)} },
		},
		"FoundAttachedAdoptedWithConsent": {
			reason: "With spec.adoptExisting a binding manages the provider it found attached: deleting it detaches the provider, and only it.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				setProviders(t, env, f.outpost, f.mine, f.other)
				return binding("longhorn", withProvider(f.mine), func(cr *v1alpha1.OutpostBinding) { cr.Spec.AdoptExisting = true })
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				env.Sim.ResetCounts()
				env.Settle(r, cr)
				if w := env.Sim.WriteCounts(); len(w) != 0 {
					t.Errorf("adopting an attachment wrote to Authentik (a detach and attach would interrupt the service): %v", w)
				}
				if _, found := cr.GetAnnotations()[AnnotationFoundAttached]; found {
					t.Errorf("an adopting binding has %s", AnnotationFoundAttached)
				}
				if got := providersOf(t, env, f.outpost); !cmp.Equal(got, sorted(f.mine, f.other)) {
					t.Errorf("adopting duplicated or dropped a provider: %v", got)
				}
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
			},
			want: func(f *fixture) outcome { return outcome{Providers: []int32{f.other}} },
		},
		"ConsentGivenLater": {
			reason: "spec.adoptExisting set on a binding that found its provider attached makes the attachment its own, without touching the outpost; deleting the binding then detaches the provider, and only it.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				setProviders(t, env, f.outpost, f.mine, f.other)
				return binding("longhorn", withProvider(f.mine))
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				env.Settle(r, cr)
				if cr.GetAnnotations()[AnnotationFoundAttached] != "true" {
					t.Fatalf("binding lacks %s before consent: %v", AnnotationFoundAttached, cr.GetAnnotations())
				}
				env.Sim.ResetCounts()
				cr.Spec.AdoptExisting = true
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
				if w := env.Sim.WriteCounts(); len(w) != 0 {
					t.Errorf("consent wrote to Authentik: %v", w)
				}
				if _, found := cr.GetAnnotations()[AnnotationFoundAttached]; found {
					t.Errorf("the binding still has %s after consent", AnnotationFoundAttached)
				}
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
			},
			want: func(f *fixture) outcome { return outcome{Providers: []int32{f.other}} },
		},
		"FoundAttachedAdoptedByExternalName": {
			reason: "The binding's external name is consent too: deleting it detaches the provider.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				setProviders(t, env, f.outpost, f.mine, f.other)
				return binding("longhorn", withProvider(f.mine), func(cr *v1alpha1.OutpostBinding) {
					meta.SetExternalName(cr, ExternalName(f.outpost, f.mine))
				})
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				env.Settle(r, cr)
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
			},
			want: func(f *fixture) outcome { return outcome{Providers: []int32{f.other}} },
		},
		"OutpostByName": {
			reason: "outpostName picks that outpost; the embedded one is not touched.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				f.otherOutpost = f.outpost
				f.outpost = newOutpost(t, env, "apps", f.other)
				return binding("longhorn", withProvider(f.mine), func(cr *v1alpha1.OutpostBinding) { cr.Spec.ForProvider.OutpostName = ptr.To("apps") })
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				env.Settle(r, cr)
				if got := providersOf(t, env, f.otherOutpost); len(got) != 0 {
					t.Errorf("embedded outpost serves %v, want none", got)
				}
			},
			want: func(f *fixture) outcome {
				return outcome{Providers: sorted(f.mine, f.other), ExternalName: ExternalName(f.outpost, f.mine), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue}
			},
		},
		"References": {
			reason: "providerRef and outpostRef resolve to the ProxyProvider's pk and the Outpost's UUID in the same namespace.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				f.outpost = newOutpost(t, env, "apps", f.other)
				pp := &v1alpha1.ProxyProvider{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "longhorn"}}
				meta.SetExternalName(pp, strconv.Itoa(int(f.mine)))
				op := &v1alpha1.Outpost{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "apps"}}
				meta.SetExternalName(op, f.outpost)
				env.Create(pp)
				env.Create(op)
				return binding("longhorn", func(cr *v1alpha1.OutpostBinding) {
					cr.Spec.ForProvider.ProviderRef = &v1alpha1.ProviderReference{Reference: xpv2.Reference{Name: "longhorn"}}
					cr.Spec.ForProvider.OutpostRef = &xpv2.Reference{Name: "apps"}
				})
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				env.Settle(r, cr)
				if ptr.Deref(cr.Spec.ForProvider.ProviderID, 0) != f.mine || ptr.Deref(cr.Spec.ForProvider.OutpostID, "") != f.outpost {
					t.Errorf("references resolved to providerId %v, outpostId %v", cr.Spec.ForProvider.ProviderID, cr.Spec.ForProvider.OutpostID)
				}
			},
			want: func(f *fixture) outcome {
				return outcome{Providers: sorted(f.mine, f.other), ExternalName: ExternalName(f.outpost, f.mine), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue}
			},
		},
		"ReferenceNamesKind": {
			reason: "A providerRef that names the ProxyProvider kind resolves like one that leaves it to the default.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				pp := &v1alpha1.ProxyProvider{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "longhorn"}}
				meta.SetExternalName(pp, strconv.Itoa(int(f.mine)))
				env.Create(pp)
				return binding("longhorn", func(cr *v1alpha1.OutpostBinding) {
					cr.Spec.ForProvider.ProviderRef = &v1alpha1.ProviderReference{Kind: v1alpha1.ProxyProviderKind, Reference: xpv2.Reference{Name: "longhorn"}}
				})
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				env.Settle(r, cr)
			},
			want: func(f *fixture) outcome {
				return outcome{Providers: sorted(f.mine), ExternalName: ExternalName(f.outpost, f.mine), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue}
			},
		},
		"UnknownProviderKindRefused": {
			reason: "A providerRef of a kind that is no provider kind is refused before Authentik is asked, naming the field.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				pp := &v1alpha1.ProxyProvider{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "longhorn"}}
				meta.SetExternalName(pp, strconv.Itoa(int(f.mine)))
				env.Create(pp)
				return binding("longhorn", func(cr *v1alpha1.OutpostBinding) {
					cr.Spec.ForProvider.ProviderRef = &v1alpha1.ProviderReference{Kind: "RadiusProvider", Reference: xpv2.Reference{Name: "longhorn"}}
				})
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: `spec.forProvider.providerRef.kind: "RadiusProvider" is not a provider kind`,
			want: func(f *fixture) outcome {
				return outcome{Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse}
			},
		},
		"UnknownProviderRefused": {
			reason: "Authentik's 400 for a provider that does not exist reaches the Synced condition, naming the spec field.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				setProviders(t, env, f.outpost, f.other)
				return binding("longhorn", withProvider(9999))
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: `spec.forProvider.providerId (providers): Invalid pk "9999" - object does not exist.`,
			want: func(f *fixture) outcome {
				return outcome{Providers: sorted(f.other), Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse}
			},
		},
		"UnknownOutpostName": {
			reason: "An outpostName no outpost has is reported with the field.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				return binding("longhorn", withProvider(f.mine), func(cr *v1alpha1.OutpostBinding) { cr.Spec.ForProvider.OutpostName = ptr.To("nowhere") })
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: `no outpost has the name in spec.forProvider.outpostName: "nowhere"`,
			want:       func(f *fixture) outcome { return outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse} },
		},
		"MovedIsRefused": {
			reason: "Pointing an attached binding at another provider is refused and changes nothing.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				return binding("longhorn", withProvider(f.mine))
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				env.Settle(r, cr)
				cr.Spec.ForProvider.ProviderID = ptr.To(f.other)
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: "a binding is not moved while its provider is attached",
			want: func(f *fixture) outcome {
				return outcome{Providers: sorted(f.mine), ExternalName: ExternalName(f.outpost, f.mine), Ready: corev1.ConditionTrue, Synced: corev1.ConditionFalse}
			},
		},
		"LastProviderOfOwnOutpost": {
			reason: "Detaching the last provider of an outpost Authentik does not manage is refused by Authentik; the binding says why.",
			setup: func(t *testing.T, env *mrtest.Env, f *fixture) *v1alpha1.OutpostBinding {
				f.outpost = newOutpost(t, env, "apps", f.mine)
				return binding("longhorn", withProvider(f.mine), func(cr *v1alpha1.OutpostBinding) {
					cr.Spec.ForProvider.OutpostID = ptr.To(f.outpost)
					meta.SetExternalName(cr, ExternalName(f.outpost, f.mine))
				})
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OutpostBinding, f *fixture) {
				env.Settle(r, cr)
				env.Delete(cr)
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: "(Authentik keeps at least one provider on an outpost it does not manage: attach another provider or delete the outpost first): cannot write the provider list of outpost",
			want: func(f *fixture) outcome {
				return outcome{Providers: sorted(f.mine), ExternalName: ExternalName(f.outpost, f.mine), Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			f := &fixture{outpost: embedded(env), mine: newProvider(t, env, "longhorn"), other: newProvider(t, env, "grafana")}
			cr := tc.setup(t, env, f)
			env.Create(cr)
			r := env.Reconciler(Kind, reconcilerOptions(env, authentik.NewOutpostLists(authentik.SerializePerOutpost))...)
			tc.steps(t, env, r, cr, f)

			want := tc.want(f)
			want.SyncedMessage = tc.messageHas
			got := outcome{Providers: providersOf(t, env, f.outpost)}
			if err := env.Kube.Get(context.Background(), client.ObjectKeyFromObject(cr), cr); err == nil {
				got.ExternalName = meta.GetExternalName(cr)
				got.FoundAttached = cr.GetAnnotations()[AnnotationFoundAttached] == "true"
				got.Ready = cr.GetCondition(xpv2.TypeReady).Status
				got.Synced = cr.GetCondition(xpv2.TypeSynced).Status
				if tc.messageHas != "" && strings.Contains(cr.GetCondition(xpv2.TypeSynced).Message, tc.messageHas) {
					got.SyncedMessage = tc.messageHas
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
		})
	}
}

func TestObserveOnlyImport(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	id := embedded(env)
	pk := newProvider(t, env, "longhorn")
	setProviders(t, env, id, pk)

	cr := binding("imported", func(cr *v1alpha1.OutpostBinding) {
		cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
		meta.SetExternalName(cr, ExternalName(id, pk))
	})
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector, authentik.NewOutpostLists(authentik.SerializePerOutpost))...)
	mrtest.CheckObserveOnlyImport(env, r, cr, func() {
		want := v1alpha1.OutpostBindingObservation{OutpostID: ptr.To(id), OutpostName: ptr.To("authentik Embedded Outpost"), ProviderID: ptr.To(pk), Providers: ptr.To(int32(1))}
		if diff := cmp.Diff(want, cr.Status.AtProvider); diff != "" {
			t.Errorf("status.atProvider -want, +got:\n%s", diff)
		}
		if got := ptr.Deref(cr.Spec.ForProvider.ProviderID, 0); got != pk {
			t.Errorf("spec.forProvider.providerId late-initialised to %d, want %d", got, pk)
		}
	}, []int32{pk}, func() ([]int32, error) { return providersOf(t, env, id), nil })
}

// TestConcurrentBindings reconciles many bindings to one outpost at once,
// with the simulator slowed down so that reads and writes of the outpost
// overlap. With the per-outpost serialization every provider lands and the
// providers nobody bound stay; without it Authentik's lack of locking loses
// updates, which shows the test can fail.
func TestConcurrentBindings(t *testing.T) {
	t.Parallel()
	const bindings = 50
	cases := map[string]struct {
		reason        string
		serialization authentik.Serialization
		wantAll       bool
	}{
		"Serialized": {
			reason:        "With edits serialized and batched per outpost every binding's provider lands and none already there is lost.",
			serialization: authentik.SerializePerOutpost,
			wantAll:       true,
		},
		"Unserialized": {
			reason:        "Without the serialization concurrent read-modify-writes overwrite each other.",
			serialization: authentik.Unserialized,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			id := embedded(env)
			seeded := []int32{newProvider(t, env, "seeded-a"), newProvider(t, env, "seeded-b")}
			setProviders(t, env, id, seeded...)
			crs := make([]*v1alpha1.OutpostBinding, bindings)
			pks := make([]int32, bindings)
			for i := range crs {
				pks[i] = newProvider(t, env, fmt.Sprintf("app-%02d", i))
				crs[i] = binding(fmt.Sprintf("app-%02d", i), withProvider(pks[i]))
				env.Create(crs[i])
			}
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector, authentik.NewOutpostLists(tc.serialization))...)

			// Slow reads and writes of the outpost so that unserialized
			// read-modify-writes overlap.
			slow := authentiksim.Fault{Latency: 10 * time.Millisecond}
			env.Sim.SetFault("outposts_instances_retrieve", slow)
			env.Sim.SetFault("outposts_instances_partial_update", slow)
			env.Sim.ResetCounts()

			start := time.Now()
			var wg sync.WaitGroup
			gate := make(chan struct{})
			for _, cr := range crs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-gate
					if _, err := env.Reconcile(r, client.ObjectKeyFromObject(cr)); err != nil {
						t.Errorf("reconcile %s: %v", cr.Name, err)
					}
				}()
			}
			close(gate)
			wg.Wait()
			elapsed := time.Since(start)
			env.Sim.ClearFaults()

			got := providersOf(t, env, id)
			var missing, lostAfterSuccess []int32
			for i, cr := range crs {
				if slices.Contains(got, pks[i]) {
					continue
				}
				missing = append(missing, pks[i])
				env.Get(cr)
				if meta.GetExternalName(cr) != "" {
					lostAfterSuccess = append(lostAfterSuccess, pks[i])
				}
			}
			writes := env.Sim.Counts()["outposts_instances_partial_update"]
			t.Logf("%d bindings reconciled concurrently in %v: %d PATCHes, %d of %d providers missing, %d of them after their create had succeeded",
				bindings, elapsed.Round(time.Millisecond), writes, len(missing), bindings, len(lostAfterSuccess))
			for _, pk := range seeded {
				if !slices.Contains(got, pk) {
					t.Errorf("%s\nprovider %d, attached before and bound by no one, was removed", tc.reason, pk)
				}
			}
			if !tc.wantAll {
				if len(missing) == 0 {
					t.Errorf("%s\nevery update landed without serialization; the test cannot show lost updates", tc.reason)
				}
				return
			}
			if len(missing) > 0 {
				t.Errorf("%s\nproviders %v are missing from the outpost", tc.reason, missing)
			}
			if writes > bindings/2 {
				t.Errorf("%s\n%d PATCHes for %d bindings, want at most %d: edits that wait are written together", tc.reason, writes, bindings, bindings/2)
			}
			for _, cr := range crs {
				env.Settle(r, cr)
				if got := cr.GetCondition(xpv2.TypeReady).Status; got != corev1.ConditionTrue {
					t.Errorf("%s is not Ready: %+v", cr.Name, cr.GetCondition(xpv2.TypeSynced))
				}
			}
		})
	}
}

func TestExternalName(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		en      string
		id      string
		pk      int32
		wantErr bool
	}{
		"Valid":      {en: "6a1c0000-0000-4000-8000-000000000001/7", id: "6a1c0000-0000-4000-8000-000000000001", pk: 7},
		"NoSlash":    {en: "7", wantErr: true},
		"NoUUID":     {en: "/7", wantErr: true},
		"NotNumeric": {en: "6a1c0000-0000-4000-8000-000000000001/seven", wantErr: true},
		"Zero":       {en: "6a1c0000-0000-4000-8000-000000000001/0", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			id, pk, err := ParseExternalName(tc.en)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseExternalName(%q) error = %v, want error %v", tc.en, err, tc.wantErr)
			}
			if id != tc.id || pk != tc.pk {
				t.Errorf("ParseExternalName(%q) = %q, %d; want %q, %d", tc.en, id, pk, tc.id, tc.pk)
			}
			if !tc.wantErr && ExternalName(id, pk) != tc.en {
				t.Errorf("ExternalName(%q, %d) = %q, want %q", id, pk, ExternalName(id, pk), tc.en)
			}
		})
	}
}

// reconcilerOptions are the controller's options with the supplied list
// editor.
func reconcilerOptions(env *mrtest.Env, lists *authentik.OutpostLists) []managed.ReconcilerOption {
	return ReconcilerOptions(env.Kube, env.Connector, lists)
}

func sorted(pks ...int32) []int32 { return slices.Sorted(slices.Values(pks)) }
