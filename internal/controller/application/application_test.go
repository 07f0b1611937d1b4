package application

import (
	"context"
	"strconv"
	"strings"
	"testing"

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

const (
	appSlug      = "longhorn"
	appName      = "Longhorn"
	launchURL    = "https://longhorn.k8s.example.com/dashboard"
	providerKind = "longhorn"
)

func application(mods ...func(*v1alpha1.Application)) *v1alpha1.Application {
	return mrtest.Build(&v1alpha1.Application{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: appSlug, UID: "6d1f2c3a-0000-4000-8000-000000000002"},
		Spec: v1alpha1.ApplicationSpec{
			ManagedResourceSpec: mrtest.Spec(),
			ForProvider: v1alpha1.ApplicationParameters{
				Name:          ptr.To(appName),
				ProviderRef:   &v1alpha1.ProviderReference{Reference: xpv2.Reference{Name: providerKind}},
				MetaLaunchURL: ptr.To(launchURL),
			},
		},
	}, mods...)
}

// proxyProvider makes a proxy provider in Authentik and a ProxyProvider
// resource named name whose external name is its pk, as if the
// ProxyProvider controller had made it.
func proxyProvider(t *testing.T, env *mrtest.Env, name string) int32 {
	t.Helper()
	pk := authentikProvider(t, env, name)
	pp := &v1alpha1.ProxyProvider{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: name, Labels: map[string]string{"app": name}}}
	meta.SetExternalName(pp, strconv.Itoa(int(pk)))
	env.Create(pp)
	return pk
}

func authentikProvider(t *testing.T, env *mrtest.Env, name string) int32 {
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
	req := api.NewProxyProviderRequest(name+"-proxy", authz, inval, "https://"+name+".k8s.example.com")
	req.SetMode(api.PROXYMODE_FORWARD_SINGLE)
	return mrtest.Must(env.Authentik.API.ProvidersAPI.ProvidersProxyCreate(ctx).ProxyProviderRequest(*req).Execute())(t).Pk
}

func existingApplication(t *testing.T, env *mrtest.Env, slug string, provider *int32) *api.Application {
	t.Helper()
	req := api.NewApplicationRequest("Existing "+slug, slug)
	if provider != nil {
		req.SetProvider(*provider)
	}
	req.SetMetaDescription("made by hand")
	return mrtest.Must(env.Authentik.API.CoreAPI.CoreApplicationsCreate(context.Background()).ApplicationRequest(*req).Execute())(t)
}

func retrieve(env *mrtest.Env, slug string) (*api.Application, error) {
	return mrtest.Response(env.Authentik.API.CoreAPI.CoreApplicationsRetrieve(context.Background(), slug).Execute())
}

// outcome summarises a resource and Authentik after a test's steps.
type outcome struct {
	Exists        bool
	Provider      int32
	LaunchURL     string
	Ready         corev1.ConditionStatus
	Synced        corev1.ConditionStatus
	SyncedMessage string
	PKMatches     bool
}

func observe(t *testing.T, env *mrtest.Env, cr *v1alpha1.Application, messageHas string) outcome {
	t.Helper()
	s := env.Status(cr, messageHas)
	o := outcome{Ready: s.Ready, Synced: s.Synced, SyncedMessage: s.SyncedMessage}
	slug := meta.GetExternalName(cr)
	if slug == "" {
		slug = ptr.Deref(cr.Spec.ForProvider.Slug, cr.Name)
	}
	a, err := retrieve(env, slug)
	if err != nil {
		if !authentik.IsNotFound(err) {
			t.Fatal(err)
		}
		return o
	}
	o.Exists = true
	o.Provider = ptr.Deref(a.Provider.Get(), 0)
	o.LaunchURL = ptr.Deref(a.MetaLaunchUrl, "")
	o.PKMatches = ptr.Deref(cr.Status.AtProvider.PK, "") == a.Pk
	return o
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	type setup struct {
		provider int32
	}
	cases := map[string]struct {
		reason     string
		cr         *v1alpha1.Application
		steps      func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application, s setup)
		messageHas string
		want       func(s setup) outcome
	}{
		"CreateWithProviderRef": {
			reason: "A new resource makes an application with its slug as the external name and the referenced provider.",
			cr:     application(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application, _ setup) {
				env.Settle(r, cr)
				if got := meta.GetExternalName(cr); got != appSlug {
					t.Errorf("external name = %q, want %q", got, appSlug)
				}
				if got := ptr.Deref(cr.Spec.ForProvider.Slug, ""); got != appSlug {
					t.Errorf("spec.forProvider.slug not late-initialised: %q", got)
				}
				if got := ptr.Deref(cr.Status.AtProvider.LaunchURL, ""); got != launchURL {
					t.Errorf("status.atProvider.launchUrl = %q, want %q", got, launchURL)
				}
			},
			want: func(s setup) outcome {
				return outcome{Exists: true, Provider: s.provider, LaunchURL: launchURL, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true}
			},
		},
		"SlugFromSpec": {
			reason: "spec.forProvider.slug, when set, is the external name rather than metadata.name.",
			cr: application(func(cr *v1alpha1.Application) {
				cr.Name = "some.name"
				cr.Spec.ForProvider.Slug = ptr.To("storage-ui")
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application, _ setup) {
				env.Settle(r, cr)
				if got := meta.GetExternalName(cr); got != "storage-ui" {
					t.Errorf("external name = %q, want storage-ui", got)
				}
			},
			want: func(s setup) outcome {
				return outcome{Exists: true, Provider: s.provider, LaunchURL: launchURL, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true}
			},
		},
		"CreateWithProviderSelector": {
			reason: "A selector picks the ProxyProvider by its labels and fills providerRef.",
			cr: application(func(cr *v1alpha1.Application) {
				cr.Spec.ForProvider.ProviderRef = nil
				cr.Spec.ForProvider.ProviderSelector = &v1alpha1.ProviderSelector{Selector: xpv2.Selector{MatchLabels: map[string]string{"app": providerKind}}}
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application, _ setup) {
				env.Settle(r, cr)
				if ref := cr.Spec.ForProvider.ProviderRef; ref == nil || ref.Name != providerKind {
					t.Errorf("providerRef not filled from the selector: %+v", ref)
				}
			},
			want: func(s setup) outcome {
				return outcome{Exists: true, Provider: s.provider, LaunchURL: launchURL, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true}
			},
		},
		"DriftIsReverted": {
			reason: "Fields changed in Authentik, the provider detached included, are reported as drift and restored.",
			cr:     application(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application, _ setup) {
				env.Settle(r, cr)
				req := api.NewApplicationRequest("Renamed", appSlug)
				req.SetProviderNil()
				req.SetMetaLaunchUrl("https://elsewhere.example.com")
				if _, resp, err := env.Authentik.API.CoreAPI.CoreApplicationsUpdate(context.Background(), appSlug).ApplicationRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				obs, err := (&external{client: env.Authentik}).Observe(context.Background(), cr.DeepCopy())
				if err != nil {
					t.Fatal(err)
				}
				if obs.ResourceUpToDate || !strings.Contains(obs.Diff, "elsewhere.example.com") || !strings.Contains(obs.Diff, "Provider") {
					t.Errorf("Observe after drift: upToDate=%v diff=%q", obs.ResourceUpToDate, obs.Diff)
				}
				env.Settle(r, cr)
			},
			want: func(s setup) outcome {
				return outcome{Exists: true, Provider: s.provider, LaunchURL: launchURL, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true}
			},
		},
		"ProviderRefFollowsNewPK": {
			reason: "A ProxyProvider made again with a new pk is followed: the reference is resolved on every reconcile.",
			cr:     application(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application, s setup) {
				env.Settle(r, cr)
				if resp, err := env.Authentik.API.ProvidersAPI.ProvidersProxyDestroy(context.Background(), s.provider).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				pk := authentikProvider(t, env, "longhorn-again")
				pp := &v1alpha1.ProxyProvider{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: providerKind}}
				env.Get(pp)
				meta.SetExternalName(pp, strconv.Itoa(int(pk)))
				if err := env.Kube.Update(context.Background(), pp); err != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
				if got := ptr.Deref(cr.Spec.ForProvider.Provider, 0); got != pk {
					t.Errorf("spec.forProvider.provider = %d, want the new pk %d", got, pk)
				}
			},
			want: func(s setup) outcome {
				return outcome{Exists: true, Provider: s.provider + 1, LaunchURL: launchURL, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true}
			},
		},
		"DeletedBehindBackIsRecreated": {
			reason: "An application deleted in Authentik is made again with the same slug.",
			cr:     application(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application, _ setup) {
				env.Settle(r, cr)
				if resp, err := env.Authentik.API.CoreAPI.CoreApplicationsDestroy(context.Background(), appSlug).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				env.BackdateCreate(cr)
				env.Settle(r, cr)
			},
			want: func(s setup) outcome {
				return outcome{Exists: true, Provider: s.provider, LaunchURL: launchURL, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true}
			},
		},
		"DeleteKeepsProvider": {
			reason: "Deleting the resource deletes the application in Authentik, but not its provider.",
			cr:     application(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application, s setup) {
				env.Settle(r, cr)
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
				if _, resp, err := env.Authentik.API.ProvidersAPI.ProvidersProxyRetrieve(context.Background(), s.provider).Execute(); authentik.Classify(resp, err) != nil {
					t.Errorf("the provider is gone after its application was deleted: %v", err)
				}
			},
			want: func(setup) outcome { return outcome{} },
		},
		"ReservedSlugRefused": {
			reason: "Authentik's refusal of a reserved slug reaches the Synced condition, naming the spec field.",
			cr: application(func(cr *v1alpha1.Application) {
				cr.Spec.ForProvider.Slug = ptr.To("authorize")
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application, _ setup) {
				for range 3 {
					_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
				}
			},
			messageHas: "spec.forProvider.slug (slug): The slug 'authorize' is reserved and cannot be used for applications.",
			want: func(setup) outcome {
				return outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse}
			},
		},
		"ProviderTakenRefused": {
			reason: "A provider that already serves another application is refused, naming the reference that chose it.",
			cr:     application(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application, s setup) {
				existingApplication(t, env, "other", &s.provider)
				for range 3 {
					_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
				}
			},
			messageHas: "spec.forProvider.providerRef (provider): Application with this provider already exists.",
			want: func(setup) outcome {
				return outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse}
			},
		},
		"ReferenceNamesKind": {
			reason: "A providerRef that names the ProxyProvider kind resolves like one that leaves it to the default.",
			cr: application(func(cr *v1alpha1.Application) {
				cr.Spec.ForProvider.ProviderRef = &v1alpha1.ProviderReference{Kind: v1alpha1.ProxyProviderKind, Reference: xpv2.Reference{Name: providerKind}}
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application, _ setup) {
				env.Settle(r, cr)
			},
			want: func(s setup) outcome {
				return outcome{Exists: true, Provider: s.provider, LaunchURL: launchURL, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true}
			},
		},
		"UnknownProviderKindRefused": {
			reason: "A providerRef of a kind that is no provider kind is refused before Authentik is asked, naming the field.",
			cr: application(func(cr *v1alpha1.Application) {
				cr.Spec.ForProvider.ProviderRef = &v1alpha1.ProviderReference{Kind: "RadiusProvider", Reference: xpv2.Reference{Name: providerKind}}
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application, _ setup) {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: `spec.forProvider.providerRef.kind: "RadiusProvider" is not a provider kind`,
			want: func(setup) outcome {
				return outcome{Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse}
			},
		},
		"DetachProviderAndBack": {
			reason: "detachProvider takes the provider off the application in Authentik, keeping the reference; unset, the provider is back.",
			cr:     application(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application, s setup) {
				env.Settle(r, cr)
				cr.Spec.ForProvider.DetachProvider = ptr.To(true)
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
				if got := observe(t, env, cr, ""); got.Provider != 0 {
					t.Errorf("with detachProvider the application in Authentik has provider %d, want none", got.Provider)
				}
				cr.Spec.ForProvider.DetachProvider = nil
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
			},
			want: func(s setup) outcome {
				return outcome{Exists: true, Provider: s.provider, LaunchURL: launchURL, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true}
			},
		},
		"CreateDetached": {
			reason: "An application made with detachProvider has no provider in Authentik, although its reference resolves.",
			cr: application(func(cr *v1alpha1.Application) {
				cr.Spec.ForProvider.DetachProvider = ptr.To(true)
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application, s setup) {
				env.Settle(r, cr)
			},
			want: func(s setup) outcome {
				return outcome{Exists: true, LaunchURL: launchURL, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true}
			},
		},
		"UnresolvedProviderRef": {
			reason: "A reference to a ProxyProvider that does not exist is reported with the field that holds it.",
			cr: application(func(cr *v1alpha1.Application) {
				cr.Spec.ForProvider.ProviderRef = &v1alpha1.ProviderReference{Reference: xpv2.Reference{Name: "missing"}}
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.Application, _ setup) {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: "spec.forProvider.providerRef: cannot get referenced resource",
			want: func(setup) outcome {
				return outcome{Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t, tc.cr)
			s := setup{provider: proxyProvider(t, env, providerKind)}
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
			cr := tc.cr.DeepCopy()
			tc.steps(t, env, r, cr, s)
			want := tc.want(s)
			want.SyncedMessage = tc.messageHas
			got := observe(t, env, cr, tc.messageHas)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
		})
	}
}

func TestObserveOnlyImport(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	pk := authentikProvider(t, env, "grafana")
	before := existingApplication(t, env, "grafana", &pk)

	cr := application(func(cr *v1alpha1.Application) {
		cr.Name = "imported"
		cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
		cr.Spec.ForProvider = v1alpha1.ApplicationParameters{}
		meta.SetExternalName(cr, "grafana")
	})
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	mrtest.CheckObserveOnlyImport(env, r, cr, func() {
		if got := ptr.Deref(cr.Status.AtProvider.PK, ""); got != before.Pk {
			t.Errorf("status.atProvider.pk = %q, want %q", got, before.Pk)
		}
	}, before, func() (*api.Application, error) { return retrieve(env, "grafana") })
}

func TestSlugOf(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason  string
		cr      *v1alpha1.Application
		want    string
		wantErr string
	}{
		"SlugWins": {
			reason: "spec.forProvider.slug is the slug to create.",
			cr:     application(func(cr *v1alpha1.Application) { cr.Spec.ForProvider.Slug = ptr.To("from-spec") }),
			want:   "from-spec",
		},
		"NameOtherwise": {
			reason: "Without a slug, metadata.name is the slug to create.",
			cr:     application(),
			want:   appSlug,
		},
		"ExternalNameKept": {
			reason: "An external name that is set is the slug.",
			cr:     application(func(cr *v1alpha1.Application) { meta.SetExternalName(cr, "imported") }),
			want:   "imported",
		},
		"NameNotASlug": {
			reason:  "A metadata.name with a dot cannot be a slug; the error says to set spec.forProvider.slug.",
			cr:      application(func(cr *v1alpha1.Application) { cr.Name = "long.horn" }),
			wantErr: "metadata.name \"long.horn\" " + errBadSlug,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := slugOf(tc.cr)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tc.wantErr, gotErr); diff != "" {
				t.Errorf("%s\nslugOf error: -want, +got:\n%s", tc.reason, diff)
			}
			if got != tc.want {
				t.Errorf("%s\nslugOf = %q, want %q", tc.reason, got, tc.want)
			}
		})
	}
}

func TestSlugMismatch(t *testing.T) {
	t.Parallel()
	cr := application(func(cr *v1alpha1.Application) {
		cr.Spec.ForProvider.Slug = ptr.To("new-slug")
		meta.SetExternalName(cr, appSlug)
	})
	_, err := (&external{}).Observe(context.Background(), cr)
	if err == nil || !strings.Contains(err.Error(), "spec.forProvider.slug differs from the external name") {
		t.Errorf("Observe with a slug that differs from the external name: error %v", err)
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	observed := v1alpha1.ApplicationParameters{
		Name:            ptr.To(appName),
		Slug:            ptr.To(appSlug),
		Provider:        ptr.To(int32(3)),
		MetaLaunchURL:   ptr.To(""),
		MetaDescription: ptr.To(""),
	}
	cases := map[string]struct {
		reason          string
		spec            v1alpha1.ApplicationParameters
		withoutProvider bool // Authentik's application has no provider
		want            bool
	}{
		"UnsetFieldsAreNotManaged": {
			reason: "Fields the spec leaves unset never count as drift.",
			spec:   v1alpha1.ApplicationParameters{Name: ptr.To(appName)},
			want:   true,
		},
		"ReferenceIsNotCompared": {
			reason: "The provider reference is the resource's, not Authentik's.",
			spec:   v1alpha1.ApplicationParameters{Provider: ptr.To(int32(3)), ProviderRef: &v1alpha1.ProviderReference{Reference: xpv2.Reference{Name: "p"}}},
			want:   true,
		},
		"ProviderToDetachIsDrift": {
			reason: "With detachProvider, a provider in Authentik is drift, whatever the spec's provider says.",
			spec:   v1alpha1.ApplicationParameters{Provider: ptr.To(int32(3)), DetachProvider: ptr.To(true)},
			want:   false,
		},
		"NoProviderIsDetached": {
			reason:          "With detachProvider, an application without a provider is up to date.",
			spec:            v1alpha1.ApplicationParameters{Name: ptr.To(appName), DetachProvider: ptr.To(true)},
			withoutProvider: true,
			want:            true,
		},
		"OtherProviderIsDrift": {
			reason: "Another provider is drift.",
			spec:   v1alpha1.ApplicationParameters{Provider: ptr.To(int32(4))},
			want:   false,
		},
		"EmptyLaunchURLMatchesBlank": {
			reason: "An empty launch URL matches Authentik's blank one.",
			spec:   v1alpha1.ApplicationParameters{MetaLaunchURL: ptr.To("")},
			want:   true,
		},
		"ChangedNameIsDrift": {
			reason: "A set field with another value in Authentik is drift.",
			spec:   v1alpha1.ApplicationParameters{Name: ptr.To("Other")},
			want:   false,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := observed
			if tc.withoutProvider {
				o.Provider = nil
			}
			d := specDiff(tc.spec, o)
			if got := d == ""; got != tc.want {
				t.Errorf("%s\nDiff(...) up to date = %v, want %v; diff:\n%s", tc.reason, got, tc.want, d)
			}
		})
	}
}

func TestLateInitialize(t *testing.T) {
	t.Parallel()
	observed := v1alpha1.ApplicationParameters{
		Name:             ptr.To(appName),
		Slug:             ptr.To(appSlug),
		Provider:         ptr.To(int32(3)),
		PolicyEngineMode: ptr.To(v1alpha1.PolicyEngineModeAny),
	}
	cases := map[string]struct {
		reason      string
		spec        v1alpha1.ApplicationParameters
		want        v1alpha1.ApplicationParameters
		wantChanged bool
	}{
		"FillsUnset": {
			reason:      "Unset fields take Authentik's values, the provider included.",
			spec:        v1alpha1.ApplicationParameters{Name: ptr.To(appName)},
			want:        observed,
			wantChanged: true,
		},
		"ReferenceKeepsProviderUnset": {
			reason:      "A provider chosen by reference is left to the reference.",
			spec:        v1alpha1.ApplicationParameters{ProviderRef: &v1alpha1.ProviderReference{Reference: xpv2.Reference{Name: "p"}}},
			want:        v1alpha1.ApplicationParameters{Name: ptr.To(appName), Slug: ptr.To(appSlug), PolicyEngineMode: ptr.To(v1alpha1.PolicyEngineModeAny), ProviderRef: &v1alpha1.ProviderReference{Reference: xpv2.Reference{Name: "p"}}},
			wantChanged: true,
		},
		"KeepsSet": {
			reason: "Set fields are the user's and stay as they are.",
			spec:   v1alpha1.ApplicationParameters{Name: ptr.To("Mine"), Slug: ptr.To(appSlug), Provider: ptr.To(int32(9)), PolicyEngineMode: ptr.To(v1alpha1.PolicyEngineModeAll)},
			want:   v1alpha1.ApplicationParameters{Name: ptr.To("Mine"), Slug: ptr.To(appSlug), Provider: ptr.To(int32(9)), PolicyEngineMode: ptr.To(v1alpha1.PolicyEngineModeAll)},
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
