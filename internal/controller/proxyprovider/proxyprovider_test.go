package proxyprovider

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
	providerName = "longhorn-proxy"
	externalHost = "https://longhorn.k8s.example.com"
	internalHost = "http://longhorn-frontend.longhorn-system.svc.cluster.local:80"
)

func proxyProvider(mods ...func(*v1alpha1.ProxyProvider)) *v1alpha1.ProxyProvider {
	return mrtest.Build(&v1alpha1.ProxyProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "longhorn", UID: "6d1f2c3a-0000-4000-8000-000000000001"},
		Spec: v1alpha1.ProxyProviderSpec{
			ManagedResourceSpec: mrtest.Spec(),
			ForProvider: v1alpha1.ProxyProviderParameters{
				Name:         ptr.To(providerName),
				Mode:         ptr.To(v1alpha1.ProxyModeForwardSingle),
				ExternalHost: ptr.To(externalHost),
				InternalHost: ptr.To(internalHost),
			},
		},
	}, mods...)
}

// existingProvider makes a provider in Authentik the way the spec of cr
// would, as if made outside this resource or before a crash.
func existingProvider(t *testing.T, env *mrtest.Env, p v1alpha1.ProxyProviderParameters) int32 {
	t.Helper()
	req, err := request(context.Background(), env.Authentik, p, read{})
	if err != nil {
		t.Fatal(err)
	}
	return mrtest.Must(env.Authentik.API.ProvidersAPI.ProvidersProxyCreate(context.Background()).ProxyProviderRequest(req).Execute())(t).Pk
}

// providersNamed lists the providers in Authentik with the given name.
func providersNamed(t *testing.T, env *mrtest.Env, name string) []api.ProxyProvider {
	t.Helper()
	return mrtest.Must(env.Authentik.API.ProvidersAPI.ProvidersProxyList(context.Background()).NameIexact(name).Execute())(t).Results
}

func retrieve(t testing.TB, env *mrtest.Env, pk int32) (*api.ProxyProvider, error) {
	t.Helper()
	return mrtest.Response(env.Authentik.API.ProvidersAPI.ProvidersProxyRetrieve(context.Background(), pk).Execute())
}

// outcome summarises a resource and Authentik after a test's steps.
type outcome struct {
	Providers     int
	ExternalHost  string
	Ready         corev1.ConditionStatus
	Synced        corev1.ConditionStatus
	SyncedMessage string
	ExternalName  bool
	PKMatches     bool
}

func observe(t *testing.T, env *mrtest.Env, cr *v1alpha1.ProxyProvider, messageHas string) outcome {
	t.Helper()
	st := env.Status(cr, messageHas)
	o := outcome{Ready: st.Ready, Synced: st.Synced, SyncedMessage: st.SyncedMessage, ExternalName: st.ExternalName != ""}
	ps := providersNamed(t, env, ptr.Deref(cr.Spec.ForProvider.Name, providerName))
	o.Providers = len(ps)
	if len(ps) == 1 {
		o.ExternalHost = ps[0].ExternalHost
		o.PKMatches = o.ExternalName && strconv.Itoa(int(ps[0].Pk)) == st.ExternalName
	}
	return o
}

// pk is the provider pk an external name holds.
func pk(t testing.TB, id string) int32 {
	t.Helper()
	n, err := strconv.ParseInt(id, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	return int32(n)
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	settled := outcome{Providers: 1, ExternalHost: externalHost, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true}
	foreignHost := "https://someone-else.example.com"

	cases := mrtest.Lifecycle[*v1alpha1.ProxyProvider, outcome]{
		Noun:     "provider",
		Path:     fixture.Path,
		Resource: proxyProvider,
		Settled:  settled,
		Created: func(t *testing.T, cr *v1alpha1.ProxyProvider) {
			if got := ptr.Deref(cr.Status.AtProvider.PK, 0); got != mrtest.ExternalPK(t, cr) {
				t.Errorf("status.atProvider.pk = %d, external name %d", got, mrtest.ExternalPK(t, cr))
			}
			if cr.Status.AtProvider.ClientID == nil || len(cr.Status.AtProvider.RedirectURIs) == 0 {
				t.Errorf("status.atProvider lacks clientId or redirectURIs: %+v", cr.Status.AtProvider)
			}
			if ptr.Deref(cr.Spec.ForProvider.AuthorizationFlow, "") != authentik.DefaultAuthorizationFlow {
				t.Errorf("authorizationFlow not late-initialised to the default: %v", cr.Spec.ForProvider.AuthorizationFlow)
			}
		},
		Drift: func(t *testing.T, env *mrtest.Env, cr *v1alpha1.ProxyProvider) {
			pk := mrtest.ExternalPK(t, cr)
			p, err := retrieve(t, env, pk)
			if err != nil {
				t.Fatal(err)
			}
			req := api.NewProxyProviderRequest(p.Name, p.AuthorizationFlow, p.InvalidationFlow, "https://elsewhere.example.com")
			req.Mode = p.Mode
			if _, resp, err := env.Authentik.API.ProvidersAPI.ProvidersProxyUpdate(context.Background(), pk).ProxyProviderRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
				t.Fatal(err)
			}
			obs, err := providers.External(env.Authentik).Observe(context.Background(), cr.DeepCopy())
			if err != nil {
				t.Fatal(err)
			}
			if obs.ResourceUpToDate || !strings.Contains(obs.Diff, "elsewhere.example.com") {
				t.Errorf("Observe after drift: upToDate=%v diff=%q", obs.ResourceUpToDate, obs.Diff)
			}
		},
		Destroy: func(env *mrtest.Env, id string) error {
			resp, err := env.Authentik.API.ProvidersAPI.ProvidersProxyDestroy(context.Background(), pk(env.T, id)).Execute()
			return authentik.Classify(resp, err)
		},
		Retrieve: func(env *mrtest.Env, id string) error {
			_, err := retrieve(env.T, env, pk(env.T, id))
			return err
		},
		Made: func(t *testing.T, env *mrtest.Env, cr *v1alpha1.ProxyProvider) {
			existingProvider(t, env, cr.Spec.ForProvider)
		},
		Taken:        func(t *testing.T, env *mrtest.Env) { existingProvider(t, env, proxyProvider().Spec.ForProvider) },
		TakenOutcome: outcome{Providers: 1, ExternalHost: externalHost, Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		Foreign: func(t *testing.T, env *mrtest.Env) {
			foreign := proxyProvider().Spec.ForProvider
			foreign.ExternalHost = ptr.To(foreignHost)
			existingProvider(t, env, foreign)
		},
		ForeignOutcome: outcome{Providers: 1, ExternalHost: foreignHost, Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse},
		CreateOp:       fixture.CreateOp,
	}.Cases()
	cases["DeleteRightAfterCreate"] = mrtest.Case[*v1alpha1.ProxyProvider, outcome]{
		Reason: "A resource deleted right after its create is gone in a few reconciles: Authentik reads its own writes, so no grace period holds the delete up.",
		CR:     proxyProvider(),
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ProxyProvider) {
			env.Settle(r, cr)
			pk := mrtest.ExternalPK(t, cr)
			env.Delete(cr)
			env.SettleDeletion(r, cr)
			if _, err := retrieve(t, env, pk); !authentik.IsNotFound(err) {
				t.Errorf("provider %d after delete: want not found, got %v", pk, err)
			}
		},
	}
	cases["RefusalNamesField"] = mrtest.Case[*v1alpha1.ProxyProvider, outcome]{
		Reason: "Authentik's 400 reaches the Synced condition with its message and the spec field to change.",
		CR: proxyProvider(func(cr *v1alpha1.ProxyProvider) {
			cr.Spec.ForProvider.Mode = ptr.To(v1alpha1.ProxyModeProxy)
			cr.Spec.ForProvider.InternalHost = ptr.To("")
		}),
		Steps: func(_ *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ProxyProvider) {
			_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
		},
		MessageHas: "spec.forProvider.internalHost (internal_host): Internal host cannot be empty when forward auth is disabled.",
		Want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
	}
	mrtest.Runner[*v1alpha1.ProxyProvider, outcome]{
		Kind:    Kind,
		Options: fixture.Options,
		Observe: observe,
		Message: func(o *outcome) *string { return &o.SyncedMessage },
	}.Run(t, cases)
}

func TestObserveOnlyImport(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	want := proxyProvider().Spec.ForProvider
	want.SkipPathRegex = ptr.To("^/api/.*")
	pk := existingProvider(t, env, want)
	before, err := retrieve(t, env, pk)
	if err != nil {
		t.Fatal(err)
	}

	cr := proxyProvider(func(cr *v1alpha1.ProxyProvider) {
		cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
		cr.Spec.ForProvider = v1alpha1.ProxyProviderParameters{}
		meta.SetExternalName(cr, strconv.Itoa(int(pk)))
	})
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	mrtest.CheckObserveOnlyImport(env, r, cr, func() {
		if got := ptr.Deref(cr.Status.AtProvider.PK, 0); got != pk {
			t.Errorf("status.atProvider.pk = %d, want %d", got, pk)
		}
	}, before, func() (*api.ProxyProvider, error) { return retrieve(t, env, pk) })
}

func TestDiff(t *testing.T) {
	t.Parallel()
	observed := v1alpha1.ProxyProviderParameters{
		Name:             ptr.To(providerName),
		Mode:             ptr.To(v1alpha1.ProxyModeForwardSingle),
		ExternalHost:     ptr.To(externalHost),
		InternalHost:     ptr.To(""),
		CookieDomain:     ptr.To(""),
		PropertyMappings: []string{"default-a", "default-b", "mine"},
	}
	cases := map[string]struct {
		reason string
		spec   v1alpha1.ProxyProviderParameters
		want   bool
	}{
		"UnsetFieldsAreNotManaged": {
			reason: "Fields the spec leaves unset never count as drift.",
			spec:   v1alpha1.ProxyProviderParameters{Name: ptr.To(providerName)},
			want:   true,
		},
		"ChangedFieldIsDrift": {
			reason: "A set field with another value in Authentik is drift.",
			spec:   v1alpha1.ProxyProviderParameters{ExternalHost: ptr.To("https://other.example.com")},
			want:   false,
		},
		"ServerAddedMappingsIgnored": {
			reason: "Mappings Authentik adds on its own are not drift.",
			spec:   v1alpha1.ProxyProviderParameters{PropertyMappings: []string{"mine"}},
			want:   true,
		},
		"MissingMappingIsDrift": {
			reason: "A mapping the spec wants that Authentik lacks is drift.",
			spec:   v1alpha1.ProxyProviderParameters{PropertyMappings: []string{"mine", "absent"}},
			want:   false,
		},
		"EmptyEqualsUnsetInternalHost": {
			reason: "An empty internal host matches Authentik's blank one.",
			spec:   v1alpha1.ProxyProviderParameters{InternalHost: ptr.To("")},
			want:   true,
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
	observed := v1alpha1.ProxyProviderParameters{
		Name:             ptr.To(providerName),
		Mode:             ptr.To(v1alpha1.ProxyModeForwardSingle),
		CookieDomain:     ptr.To("example.com"),
		Certificate:      ptr.To("c0ffee00-0000-4000-8000-000000000000"),
		PropertyMappings: []string{"default-a"},
	}
	cases := map[string]struct {
		reason      string
		spec        v1alpha1.ProxyProviderParameters
		want        v1alpha1.ProxyProviderParameters
		wantChanged bool
	}{
		"FillsUnset": {
			reason:      "Unset fields take Authentik's values, but not its default mappings or certificate.",
			spec:        v1alpha1.ProxyProviderParameters{Name: ptr.To(providerName)},
			want:        v1alpha1.ProxyProviderParameters{Name: ptr.To(providerName), Mode: ptr.To(v1alpha1.ProxyModeForwardSingle), CookieDomain: ptr.To("example.com")},
			wantChanged: true,
		},
		"KeepsSet": {
			reason: "Set fields are the user's and stay as they are.",
			spec:   v1alpha1.ProxyProviderParameters{Name: ptr.To(providerName), Mode: ptr.To(v1alpha1.ProxyModeProxy), CookieDomain: ptr.To("")},
			want:   v1alpha1.ProxyProviderParameters{Name: ptr.To(providerName), Mode: ptr.To(v1alpha1.ProxyModeProxy), CookieDomain: ptr.To("")},
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

// TestTokenRotation rotates the API token under a Ready resource: the next
// reconcile must use whatever the Secret holds now, without a restart.
func TestTokenRotation(t *testing.T) {
	t.Parallel()
	const rotated = "rotated-token"
	cases := map[string]struct {
		reason      string
		writeSecret bool
		want        outcome
	}{
		"SecretRotatedWithAuthentik": {
			reason:      "A new token in the Secret is used from the next reconcile, so refusing the old one causes no error.",
			writeSecret: true,
			want:        outcome{Providers: 1, ExternalHost: externalHost, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true},
		},
		"OnlyAuthentikRotated": {
			reason: "While the Secret still holds the refused token, the resource says so once the list it reads is renewed.",
			want:   outcome{Providers: 1, ExternalHost: externalHost, Ready: corev1.ConditionTrue, Synced: corev1.ConditionFalse, SyncedMessage: "Token invalid/expired", ExternalName: true, PKMatches: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			cr := proxyProvider()
			env.Create(cr)
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
			env.Settle(r, cr)

			if tc.writeSecret {
				env.WriteToken(rotated)
			}
			env.AcceptOnlyToken(rotated)
			env.PassReadAge()
			_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))

			if diff := cmp.Diff(tc.want, observe(t, env, cr, tc.want.SyncedMessage)); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
