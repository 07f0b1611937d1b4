package outpost

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

const outpostName = "apps"

func outpostCR(mods ...func(*v1alpha1.Outpost)) *v1alpha1.Outpost {
	return mrtest.Build(&v1alpha1.Outpost{
		// The usage tracker names each resource's ProviderConfigUsage by
		// its UID, which the fake API server does not assign.
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: outpostName, UID: types.UID("uid-" + outpostName)},
		Spec: v1alpha1.OutpostSpec{
			ManagedResourceSpec: mrtest.Spec(),
			ForProvider: v1alpha1.OutpostParameters{
				Name:   ptr.To(outpostName),
				Type:   ptr.To(v1alpha1.OutpostTypeProxy),
				Config: &runtime.RawExtension{Raw: []byte(`{"log_level": "debug"}`)},
			},
		},
	}, mods...)
}

func withProviders(pks ...int32) func(*v1alpha1.Outpost) {
	return func(cr *v1alpha1.Outpost) { cr.Spec.ForProvider.ProviderIDs = pks }
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

// newLDAPProvider makes an LDAP provider in Authentik.
func newLDAPProvider(t testing.TB, env *mrtest.Env, name string) int32 {
	t.Helper()
	fx := env.Sim.Fixtures().Flows
	req := api.NewLDAPProviderRequest(name, fx["default-authentication-flow"], fx[authentik.DefaultInvalidationFlow])
	p, resp, err := env.Authentik.API.ProvidersAPI.ProvidersLdapCreate(context.Background()).LDAPProviderRequest(*req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return p.Pk
}

// existingOutpost makes an outpost in Authentik, as if made outside this
// resource or before a crash, the way Create would.
func existingOutpost(t testing.TB, env *mrtest.Env, p v1alpha1.OutpostParameters) string {
	t.Helper()
	cfg, err := specConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	defaults, resp, err := env.Authentik.API.OutpostsAPI.OutpostsInstancesDefaultSettingsRetrieve(context.Background()).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	req := api.NewOutpostRequest(*p.Name, api.OutpostTypeEnum(ptr.Deref(p.Type, v1alpha1.OutpostTypeProxy)), p.ProviderIDs, mergedConfig(defaults.Config, cfg))
	return mrtest.Must(env.Authentik.API.OutpostsAPI.OutpostsInstancesCreate(context.Background()).OutpostRequest(*req).Execute())(t).Pk
}

func retrieve(t testing.TB, env *mrtest.Env, id string) (*api.Outpost, error) {
	t.Helper()
	return mrtest.Response(env.Authentik.API.OutpostsAPI.OutpostsInstancesRetrieve(context.Background(), id).Execute())
}

// providersOf lists the providers the outpost serves.
func providersOf(t testing.TB, env *mrtest.Env, id string) []int32 {
	t.Helper()
	o, err := retrieve(t, env, id)
	if err != nil {
		t.Fatal(err)
	}
	return sorted(o.Providers...)
}

// setProviders replaces the outpost's provider list behind the provider's
// back.
func setProviders(t testing.TB, env *mrtest.Env, id string, providers ...int32) {
	t.Helper()
	patch(t, env, id, api.PatchedOutpostRequest{Providers: append([]int32{}, providers...)})
}

func patch(t testing.TB, env *mrtest.Env, id string, req api.PatchedOutpostRequest) {
	t.Helper()
	_, resp, err := env.Authentik.API.OutpostsAPI.OutpostsInstancesPartialUpdate(context.Background(), id).PatchedOutpostRequest(req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
}

// outpostsNamed lists the outposts in Authentik with the given name.
func outpostsNamed(t testing.TB, env *mrtest.Env, name string) []api.Outpost {
	t.Helper()
	return mrtest.Must(env.Authentik.API.OutpostsAPI.OutpostsInstancesList(context.Background()).NameIexact(name).Execute())(t).Results
}

// fixture holds the providers a case's outpost may serve.
type fixture struct {
	p1, p2, other int32
	// ldap is an LDAP provider, for an outpost of type ldap.
	ldap int32
}

// outcome summarises a resource and Authentik after a test's steps.
type outcome struct {
	Outposts      int
	Providers     []int32
	Attached      []int32
	LogLevel      any
	Replicas      any
	Ready         corev1.ConditionStatus
	Synced        corev1.ConditionStatus
	SyncedMessage string
	UUIDMatches   bool
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	settled := func(providers, attached []int32) outcome {
		return outcome{Outposts: 1, Providers: providers, Attached: attached, LogLevel: "debug", Replicas: float64(1), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, UUIDMatches: true}
	}
	cases := map[string]struct {
		reason     string
		cr         func(f fixture) *v1alpha1.Outpost
		steps      func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, f fixture)
		messageHas string
		want       func(f fixture) outcome
	}{
		"CreateRecordsUUID": {
			reason: "A new resource makes an outpost with its config merged over the defaults and records its UUID.",
			cr:     func(f fixture) *v1alpha1.Outpost { return outpostCR(withProviders(f.p1)) },
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, _ fixture) {
				env.Settle(r, cr)
				if ptr.Deref(cr.Status.AtProvider.ID, "") != meta.GetExternalName(cr) || cr.Status.AtProvider.TokenIdentifier == nil {
					t.Errorf("status.atProvider = %+v", cr.Status.AtProvider)
				}
			},
			want: func(f fixture) outcome { return settled([]int32{f.p1}, []int32{f.p1}) },
		},
		"DriftIsReverted": {
			reason: "A config key and the name changed behind the provider's back are restored; keys the spec does not set are left alone.",
			cr:     func(f fixture) *v1alpha1.Outpost { return outpostCR(withProviders(f.p1)) },
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, _ fixture) {
				env.Settle(r, cr)
				id := meta.GetExternalName(cr)
				o, err := retrieve(t, env, id)
				if err != nil {
					t.Fatal(err)
				}
				cfg := mergedConfig(o.Config, map[string]any{"log_level": "warning", "kubernetes_replicas": 3})
				patch(t, env, id, api.PatchedOutpostRequest{Name: ptr.To("renamed"), Config: cfg})
				obs, err := (&external{client: env.Authentik, lists: authentik.NewOutpostLists(authentik.SerializePerOutpost)}).Observe(context.Background(), cr.DeepCopy())
				if err != nil {
					t.Fatal(err)
				}
				if obs.ResourceUpToDate || !strings.Contains(obs.Diff, "warning") || !strings.Contains(obs.Diff, "renamed") || strings.Contains(obs.Diff, "kubernetes_replicas") {
					t.Errorf("Observe after drift: upToDate=%v diff=%q", obs.ResourceUpToDate, obs.Diff)
				}
				env.Settle(r, cr)
			},
			want: func(f fixture) outcome {
				o := settled([]int32{f.p1}, []int32{f.p1})
				o.Replicas = float64(3)
				return o
			},
		},
		"DetachedProviderIsReattached": {
			reason: "A provider of the spec removed from the outpost is attached again; one attached by someone else stays.",
			cr:     func(f fixture) *v1alpha1.Outpost { return outpostCR(withProviders(f.p1)) },
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, f fixture) {
				env.Settle(r, cr)
				setProviders(t, env, meta.GetExternalName(cr), f.other)
				env.Settle(r, cr)
			},
			want: func(f fixture) outcome { return settled(sorted(f.p1, f.other), []int32{f.p1}) },
		},
		"RemovedFromSpecIsDetached": {
			reason: "A provider this resource attached and the spec no longer names is detached; one attached by someone else stays.",
			cr:     func(f fixture) *v1alpha1.Outpost { return outpostCR(withProviders(f.p1, f.p2)) },
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, f fixture) {
				env.Settle(r, cr)
				setProviders(t, env, meta.GetExternalName(cr), f.p1, f.p2, f.other)
				cr.Spec.ForProvider.ProviderIDs = []int32{f.p1}
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
			},
			want: func(f fixture) outcome { return settled(sorted(f.p1, f.other), []int32{f.p1}) },
		},
		"UnsetProvidersAreNotManaged": {
			reason: "With providerIds unset, Update leaves the provider list alone.",
			cr:     func(f fixture) *v1alpha1.Outpost { return outpostCR(withProviders(f.p1)) },
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, f fixture) {
				env.Settle(r, cr)
				setProviders(t, env, meta.GetExternalName(cr), f.other)
				cr.Spec.ForProvider.ProviderIDs = nil
				cr.Spec.ForProvider.Config = &runtime.RawExtension{Raw: []byte(`{"log_level": "trace"}`)}
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
			},
			want: func(f fixture) outcome {
				o := settled([]int32{f.other}, []int32{f.p1})
				o.LogLevel = "trace"
				return o
			},
		},
		"References": {
			reason: "providerRefs resolve to the pks of ProxyProviders in the same namespace, whether they name the kind or leave it to the default.",
			cr: func(f fixture) *v1alpha1.Outpost {
				return outpostCR(func(cr *v1alpha1.Outpost) {
					cr.Spec.ForProvider.ProviderRefs = []v1alpha1.ProviderReference{
						{Reference: xpv2.Reference{Name: "longhorn"}},
						{Kind: v1alpha1.ProxyProviderKind, Reference: xpv2.Reference{Name: "grafana"}},
					}
				})
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, f fixture) {
				for name, pk := range map[string]int32{"longhorn": f.p1, "grafana": f.p2} {
					pp := &v1alpha1.ProxyProvider{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: name}}
					meta.SetExternalName(pp, strconv.Itoa(int(pk)))
					env.Create(pp)
				}
				env.Settle(r, cr)
			},
			want: func(f fixture) outcome { return settled(sorted(f.p1, f.p2), sorted(f.p1, f.p2)) },
		},
		"LDAPOutpostServesLDAPProvider": {
			reason: "An outpost of type ldap takes an LDAPProvider by reference (kind LDAPProvider), and keeps it without drift.",
			cr: func(fixture) *v1alpha1.Outpost {
				return outpostCR(func(cr *v1alpha1.Outpost) {
					cr.Spec.ForProvider.Type = ptr.To(v1alpha1.OutpostTypeLDAP)
					cr.Spec.ForProvider.ProviderRefs = []v1alpha1.ProviderReference{{Kind: v1alpha1.LDAPProviderKind, Reference: xpv2.Reference{Name: "nas"}}}
				})
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, f fixture) {
				lp := &v1alpha1.LDAPProvider{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "nas"}}
				meta.SetExternalName(lp, strconv.Itoa(int(f.ldap)))
				env.Create(lp)
				env.Settle(r, cr)
			},
			want: func(f fixture) outcome { return settled([]int32{f.ldap}, []int32{f.ldap}) },
		},
		"UnknownProviderKindRefused": {
			reason: "A providerRefs entry of a kind that is no provider kind is refused before Authentik is asked, naming the entry.",
			cr: func(f fixture) *v1alpha1.Outpost {
				return outpostCR(func(cr *v1alpha1.Outpost) {
					cr.Spec.ForProvider.ProviderRefs = []v1alpha1.ProviderReference{
						{Reference: xpv2.Reference{Name: "longhorn"}},
						{Kind: "RadiusProvider", Reference: xpv2.Reference{Name: "grafana"}},
					}
				})
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, f fixture) {
				pp := &v1alpha1.ProxyProvider{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "longhorn"}}
				meta.SetExternalName(pp, strconv.Itoa(int(f.p1)))
				env.Create(pp)
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: `spec.forProvider.providerRefs[1].kind: "RadiusProvider" is not a provider kind`,
			want:       func(fixture) outcome { return outcome{Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse} },
		},
		"DeleteRemovesOutpost": {
			reason: "Deleting the resource deletes the outpost, then the resource.",
			cr:     func(f fixture) *v1alpha1.Outpost { return outpostCR(withProviders(f.p1)) },
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, _ fixture) {
				env.Settle(r, cr)
				id := meta.GetExternalName(cr)
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
				if _, err := retrieve(t, env, id); !authentik.IsNotFound(err) {
					t.Errorf("outpost %s after delete: want not found, got %v", id, err)
				}
			},
			want: func(fixture) outcome { return outcome{} },
		},
		"NoProvidersRefused": {
			reason: "Authentik refuses an outpost without providers; the Synced condition says so and names the spec field.",
			cr:     func(fixture) *v1alpha1.Outpost { return outpostCR() },
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, _ fixture) {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: "spec.forProvider.providerIds (providers): This list may not be empty.",
			want:       func(fixture) outcome { return outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse} },
		},
		"WrongTypeRefused": {
			reason: "Authentik's type check on create reaches the Synced condition.",
			cr: func(f fixture) *v1alpha1.Outpost {
				return outpostCR(withProviders(f.p1), func(cr *v1alpha1.Outpost) { cr.Spec.ForProvider.Type = ptr.To(v1alpha1.OutpostTypeLDAP) })
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, _ fixture) {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: "spec.forProvider.providerIds (providers): Outpost type ldap can't be used with ProxyProvider providers.",
			want:       func(fixture) outcome { return outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse} },
		},
		"BadConfigRefused": {
			reason: "A config value of the wrong type is refused by Authentik, naming spec.forProvider.config.",
			cr: func(f fixture) *v1alpha1.Outpost {
				return outpostCR(withProviders(f.p1), func(cr *v1alpha1.Outpost) {
					cr.Spec.ForProvider.Config = &runtime.RawExtension{Raw: []byte(`{"kubernetes_replicas": "two"}`)}
				})
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, _ fixture) {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: `spec.forProvider.config (config): Failed to validate config: wrong value type for field "kubernetes_replicas"`,
			want:       func(fixture) outcome { return outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse} },
		},
		"NameTakenIsNotAdopted": {
			reason: "A resource that never sent a create does not take over an existing outpost of the same name.",
			cr:     func(f fixture) *v1alpha1.Outpost { return outpostCR(withProviders(f.p1)) },
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, f fixture) {
				existingOutpost(t, env, cr.Spec.ForProvider)
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: "already exists in Authentik and this resource did not create it, so nothing was changed; to manage it set spec.adoptExisting: true",
			want: func(f fixture) outcome {
				return outcome{Outposts: 1, Providers: []int32{f.p1}, LogLevel: "debug", Replicas: float64(1), Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse}
			},
		},
		"CrashAfterCreateAdopts": {
			reason: "A create that succeeded before the UUID was recorded is adopted, not duplicated and not stuck.",
			cr: func(f fixture) *v1alpha1.Outpost {
				return outpostCR(withProviders(f.p1), func(cr *v1alpha1.Outpost) { meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute)) })
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, _ fixture) {
				existingOutpost(t, env, cr.Spec.ForProvider)
				env.Settle(r, cr)
			},
			want: func(f fixture) outcome { return settled([]int32{f.p1}, []int32{f.p1}) },
		},
		"CrashWithForeignOutpostRefuses": {
			reason: "After a crash, an outpost of the same name that differs from the spec is neither adopted nor changed.",
			cr: func(f fixture) *v1alpha1.Outpost {
				return outpostCR(withProviders(f.p1), func(cr *v1alpha1.Outpost) { meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute)) })
			},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, f fixture) {
				foreign := cr.Spec.ForProvider.DeepCopy()
				foreign.Config = &runtime.RawExtension{Raw: []byte(`{"log_level": "error"}`)}
				existingOutpost(t, env, *foreign)
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: "differs from this resource",
			want: func(f fixture) outcome {
				return outcome{Outposts: 1, Providers: []int32{f.p1}, LogLevel: "error", Replicas: float64(1), Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse}
			},
		},
		"LostCreateResponseAdopts": {
			reason: "A create whose answer was lost after Authentik made the outpost is adopted on the next reconcile.",
			cr:     func(f fixture) *v1alpha1.Outpost { return outpostCR(withProviders(f.p1)) },
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Outpost, _ fixture) {
				env.CheckLostCreateAdopted(r, cr, "outposts_instances_create")
			},
			want: func(f fixture) outcome { return settled([]int32{f.p1}, []int32{f.p1}) },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			f := fixture{p1: newProvider(t, env, "longhorn"), p2: newProvider(t, env, "grafana"), other: newProvider(t, env, "other"), ldap: newLDAPProvider(t, env, "nas")}
			cr := tc.cr(f)
			env.Create(cr)
			r := env.Reconciler(Kind, reconcilerOptions(env)...)
			tc.steps(t, env, r, cr, f)

			want := tc.want(f)
			want.SyncedMessage = tc.messageHas
			got := outcome{}
			os := outpostsNamed(t, env, outpostName)
			got.Outposts = len(os)
			if len(os) == 1 {
				got.Providers = sorted(os[0].Providers...)
				got.LogLevel = os[0].Config["log_level"]
				got.Replicas = os[0].Config["kubernetes_replicas"]
			}
			if err := env.Kube.Get(context.Background(), client.ObjectKeyFromObject(cr), cr); err == nil {
				got.Attached = cr.Status.AtProvider.AttachedProviderIDs
				got.Ready = cr.GetCondition(xpv2.TypeReady).Status
				got.Synced = cr.GetCondition(xpv2.TypeSynced).Status
				if tc.messageHas != "" && strings.Contains(cr.GetCondition(xpv2.TypeSynced).Message, tc.messageHas) {
					got.SyncedMessage = tc.messageHas
				}
				got.UUIDMatches = len(os) == 1 && meta.GetExternalName(cr) == os[0].Pk
			}
			if diff := cmp.Diff(want, got, sortedInts()); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
		})
	}
}

func TestObserveOnlyImport(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	pk := newProvider(t, env, "longhorn")
	id := existingOutpost(t, env, v1alpha1.OutpostParameters{Name: ptr.To("imported"), ProviderIDs: []int32{pk}})
	before, err := retrieve(t, env, id)
	if err != nil {
		t.Fatal(err)
	}

	cr := outpostCR(func(cr *v1alpha1.Outpost) {
		cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
		cr.Spec.ForProvider = v1alpha1.OutpostParameters{}
		meta.SetExternalName(cr, id)
	})
	r := env.Reconciler(Kind, reconcilerOptions(env)...)
	mrtest.CheckObserveOnlyImport(env, r, cr, func() {
		if ptr.Deref(cr.Spec.ForProvider.Name, "") != "imported" || ptr.Deref(cr.Spec.ForProvider.Type, "") != v1alpha1.OutpostTypeProxy {
			t.Errorf("spec.forProvider not late-initialised: %+v", cr.Spec.ForProvider)
		}
		if cr.Spec.ForProvider.ProviderIDs != nil || cr.Spec.ForProvider.Config != nil {
			t.Errorf("providerIds and config must stay unset: %+v", cr.Spec.ForProvider)
		}
		if diff := cmp.Diff([]int32{pk}, cr.Status.AtProvider.Providers); diff != "" {
			t.Errorf("status.atProvider.providers -want, +got:\n%s", diff)
		}
	}, before, func() (*api.Outpost, error) { return retrieve(t, env, id) })
}

func TestDiff(t *testing.T) {
	t.Parallel()
	observed := view{
		Name:              ptr.To(outpostName),
		Type:              ptr.To(v1alpha1.OutpostTypeProxy),
		ServiceConnection: ptr.To(""),
		Config:            map[string]any{"log_level": "debug", "kubernetes_replicas": float64(2), "docker_labels": nil},
		ProviderIDs:       []int32{1, 2, 3},
	}
	cases := map[string]struct {
		reason   string
		spec     view
		attached []int32
		want     bool
	}{
		"UnsetFieldsAreNotManaged": {
			reason: "Fields the spec leaves unset never count as drift.",
			spec:   view{Name: ptr.To(outpostName)},
			want:   true,
		},
		"OnlySetConfigKeys": {
			reason: "Config keys the spec does not set are not compared.",
			spec:   view{Config: map[string]any{"log_level": "debug"}},
			want:   true,
		},
		"ChangedConfigKey": {
			reason: "A config key the spec sets with another value in Authentik is drift.",
			spec:   view{Config: map[string]any{"kubernetes_replicas": float64(3)}},
			want:   false,
		},
		"NullConfigKey": {
			reason: "A null config key matches Authentik's null.",
			spec:   view{Config: map[string]any{"docker_labels": nil}},
			want:   true,
		},
		"OthersProvidersIgnored": {
			reason: "Providers attached by others are not drift.",
			spec:   view{ProviderIDs: []int32{2}},
			want:   true,
		},
		"MissingProvider": {
			reason: "A provider of the spec the outpost does not serve is drift.",
			spec:   view{ProviderIDs: []int32{2, 4}},
			want:   false,
		},
		"LeftOverAttached": {
			reason: "A provider this resource attached and the spec no longer names is drift.",
			spec:   view{ProviderIDs: []int32{2}},
			attached: []int32{
				2, 3,
			},
			want: false,
		},
		"GoneAttachedIsNotDrift": {
			reason:   "A provider this resource attached that is gone already is not drift.",
			spec:     view{ProviderIDs: []int32{2}},
			attached: []int32{2, 7},
			want:     true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := specDiff(tc.spec, observed, tc.attached)
			if got := d == ""; got != tc.want {
				t.Errorf("%s\nDiff(...) up to date = %v, want %v; diff:\n%s", tc.reason, got, tc.want, d)
			}
		})
	}
}

func TestMergedConfig(t *testing.T) {
	t.Parallel()
	base := map[string]any{"log_level": "info", "kubernetes_replicas": float64(1)}
	got := mergedConfig(base, map[string]any{"log_level": "debug"})
	want := map[string]any{"log_level": "debug", "kubernetes_replicas": float64(1)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("-want, +got:\n%s", diff)
	}
	if base["log_level"] != "info" {
		t.Error("mergedConfig changed its base")
	}
}

// reconcilerOptions are the controller's options, serialised per outpost.
func reconcilerOptions(env *mrtest.Env) []managed.ReconcilerOption {
	return ReconcilerOptions(env.Kube, env.Connector, authentik.NewOutpostLists(authentik.SerializePerOutpost))
}

func sortedInts() cmp.Option {
	return cmp.Transformer("sorted", func(in []int32) []int32 { return slices.Sorted(slices.Values(in)) })
}
