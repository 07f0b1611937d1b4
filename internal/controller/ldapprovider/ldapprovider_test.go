package ldapprovider

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
	providerName = "nas-ldap"
	baseDN       = "DC=ldap,DC=home,DC=example,DC=com"
)

func ldapProvider(mods ...func(*v1alpha1.LDAPProvider)) *v1alpha1.LDAPProvider {
	return mrtest.Build(&v1alpha1.LDAPProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "nas", UID: "6d1f2c3a-0000-4000-8000-000000000125"},
		Spec: v1alpha1.LDAPProviderSpec{
			ManagedResourceSpec: mrtest.Spec(),
			ForProvider: v1alpha1.LDAPProviderParameters{
				Name:       ptr.To(providerName),
				BaseDN:     ptr.To(baseDN),
				BindMode:   ptr.To(v1alpha1.LDAPModeCached),
				SearchMode: ptr.To(v1alpha1.LDAPModeCached),
				MFASupport: ptr.To(false),
			},
		},
	}, mods...)
}

// authentikProvider makes an LDAP provider in Authentik as the UI would.
func authentikProvider(t *testing.T, env *mrtest.Env, name, dn string) string {
	t.Helper()
	flows := env.Sim.Fixtures().Flows
	req := api.NewLDAPProviderRequest(name, flows[defaultBindFlow], flows[defaultUnbindFlow])
	req.SetBaseDn(dn)
	return strconv.Itoa(int(mrtest.Must(env.Authentik.API.ProvidersAPI.ProvidersLdapCreate(context.Background()).LDAPProviderRequest(*req).Execute())(t).Pk))
}

func providersNamed(t *testing.T, env *mrtest.Env, name string) []api.LDAPProvider {
	t.Helper()
	return mrtest.Must(env.Authentik.API.ProvidersAPI.ProvidersLdapList(context.Background()).NameIexact(name).Execute())(t).Results
}

func pkOf(t *testing.T, id string) int32 {
	t.Helper()
	pk, err := strconv.ParseInt(id, 10, 32)
	if err != nil {
		t.Fatalf("external name %q is no pk", id)
	}
	return int32(pk)
}

// outcome summarises a resource and Authentik after a test's steps.
type outcome struct {
	Providers     int
	BaseDN        string
	BindMode      string
	SearchMode    string
	MFA           bool
	UIDStart      int32
	BindFlow      string
	Ready         corev1.ConditionStatus
	Synced        corev1.ConditionStatus
	SyncedMessage string
	ExternalName  bool
	PKMatches     bool
}

func observe(t *testing.T, env *mrtest.Env, cr *v1alpha1.LDAPProvider, messageHas string) outcome {
	t.Helper()
	s := env.Status(cr, messageHas)
	o := outcome{Ready: s.Ready, Synced: s.Synced, SyncedMessage: s.SyncedMessage, ExternalName: s.ExternalName != ""}
	ps := providersNamed(t, env, providerName)
	o.Providers = len(ps)
	if len(ps) == 1 {
		p := ps[0]
		o.BaseDN, o.BindMode, o.SearchMode = p.GetBaseDn(), string(p.GetBindMode()), string(p.GetSearchMode())
		o.MFA, o.UIDStart = p.GetMfaSupport(), p.GetUidStartNumber()
		for slug, pk := range env.Sim.Fixtures().Flows {
			if pk == p.AuthorizationFlow {
				o.BindFlow = slug
			}
		}
		o.PKMatches = o.ExternalName && strconv.Itoa(int(p.Pk)) == meta.GetExternalName(cr) && ptr.Deref(cr.Status.AtProvider.PK, 0) == p.Pk
	}
	return o
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	settled := outcome{Providers: 1, BaseDN: baseDN, BindMode: "cached", SearchMode: "cached", UIDStart: 2000, BindFlow: defaultBindFlow,
		Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true}
	cases := mrtest.Lifecycle[*v1alpha1.LDAPProvider, outcome]{
		Noun:     "LDAP provider",
		Path:     "/providers/ldap/",
		Resource: ldapProvider,
		Settled:  settled,
		Created: func(t *testing.T, cr *v1alpha1.LDAPProvider) {
			// The fields the spec left unset are Authentik's, copied in.
			fp := cr.Spec.ForProvider
			got := []any{ptr.Deref(fp.AuthorizationFlow, ""), ptr.Deref(fp.InvalidationFlow, ""), ptr.Deref(fp.TLSServerName, "-"), ptr.Deref(fp.UIDStartNumber, 0), ptr.Deref(fp.GIDStartNumber, 0)}
			want := []any{defaultBindFlow, defaultUnbindFlow, "", int32(2000), int32(4000)}
			if diff := cmp.Diff(want, got); diff != "" || fp.CertificateID != nil {
				t.Errorf("late-initialised spec: -want, +got:\n%s\ncertificateId: %v", diff, fp.CertificateID)
			}
		},
		Drift: func(t *testing.T, env *mrtest.Env, cr *v1alpha1.LDAPProvider) {
			p := api.NewPatchedLDAPProviderRequest()
			p.SetBaseDn("DC=other")
			p.SetBindMode(api.LDAPAPIACCESSMODE_DIRECT)
			p.SetMfaSupport(true)
			if _, resp, err := env.Authentik.API.ProvidersAPI.ProvidersLdapPartialUpdate(context.Background(), pkOf(t, meta.GetExternalName(cr))).PatchedLDAPProviderRequest(*p).Execute(); authentik.Classify(resp, err) != nil {
				t.Fatal(err)
			}
			obs, err := providers.External(env.Authentik).Observe(context.Background(), cr.DeepCopy())
			if err != nil {
				t.Fatal(err)
			}
			if obs.ResourceUpToDate || !strings.Contains(obs.Diff, "DC=other") || !strings.Contains(obs.Diff, "BindMode") || !strings.Contains(obs.Diff, "MFASupport") {
				t.Errorf("Observe after drift: upToDate=%v diff=%q; want base DN, bind mode and MFA support", obs.ResourceUpToDate, obs.Diff)
			}
		},
		Destroy: func(env *mrtest.Env, id string) error {
			pk, _ := strconv.ParseInt(id, 10, 32)
			resp, err := env.Authentik.API.ProvidersAPI.ProvidersLdapDestroy(context.Background(), int32(pk)).Execute()
			return authentik.Classify(resp, err)
		},
		Retrieve: func(env *mrtest.Env, id string) error {
			pk, _ := strconv.ParseInt(id, 10, 32)
			_, resp, err := env.Authentik.API.ProvidersAPI.ProvidersLdapRetrieve(context.Background(), int32(pk)).Execute()
			return authentik.Classify(resp, err)
		},
		Made: func(t *testing.T, env *mrtest.Env, cr *v1alpha1.LDAPProvider) {
			req, err := request(context.Background(), env.Authentik, cr.Spec.ForProvider, read{})
			if err != nil {
				t.Fatal(err)
			}
			if _, resp, err := env.Authentik.API.ProvidersAPI.ProvidersLdapCreate(context.Background()).LDAPProviderRequest(req).Execute(); authentik.Classify(resp, err) != nil {
				t.Fatal(err)
			}
		},
		Taken:          func(t *testing.T, env *mrtest.Env) { authentikProvider(t, env, providerName, "DC=theirs") },
		TakenOutcome:   outcome{Providers: 1, BaseDN: "DC=theirs", BindMode: "direct", SearchMode: "direct", MFA: true, UIDStart: 2000, BindFlow: defaultBindFlow, Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		Foreign:        func(t *testing.T, env *mrtest.Env) { authentikProvider(t, env, providerName, "DC=theirs") },
		ForeignOutcome: outcome{Providers: 1, BaseDN: "DC=theirs", BindMode: "direct", SearchMode: "direct", MFA: true, UIDStart: 2000, BindFlow: defaultBindFlow, Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse},
		CreateOp:       "providers_ldap_create",
	}.Cases()
	cases["SpecChangeIsWritten"] = mrtest.Case[*v1alpha1.LDAPProvider, outcome]{
		Reason: "A new uid start and bind flow in the spec are written to Authentik.",
		CR:     ldapProvider(),
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.LDAPProvider) {
			env.Settle(r, cr)
			cr.Spec.ForProvider.UIDStartNumber = ptr.To[int32](10000)
			cr.Spec.ForProvider.AuthorizationFlow = ptr.To(authentik.DefaultAuthorizationFlow)
			if err := env.Kube.Update(context.Background(), cr); err != nil {
				t.Fatal(err)
			}
			env.Settle(r, cr)
		},
		Want: outcome{Providers: 1, BaseDN: baseDN, BindMode: "cached", SearchMode: "cached", UIDStart: 10000, BindFlow: authentik.DefaultAuthorizationFlow,
			Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true},
	}
	cases["UnknownFlowNamesField"] = mrtest.Case[*v1alpha1.LDAPProvider, outcome]{
		Reason: "A bind flow slug that names no flow is reported on spec.forProvider, and nothing is created.",
		CR:     ldapProvider(func(cr *v1alpha1.LDAPProvider) { cr.Spec.ForProvider.AuthorizationFlow = ptr.To("no-such-flow") }),
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.LDAPProvider) {
			_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
		},
		MessageHas: errResolveFlow,
		Want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
	}
	cases["BlankBaseDNNamesField"] = mrtest.Case[*v1alpha1.LDAPProvider, outcome]{
		Reason: "Authentik's refusal of a field is reported on the spec field that holds it.",
		CR:     ldapProvider(func(cr *v1alpha1.LDAPProvider) { cr.Spec.ForProvider.BaseDN = ptr.To(" ") }),
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.LDAPProvider) {
			_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
		},
		MessageHas: "spec.forProvider.baseDN",
		Want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
	}
	mrtest.Runner[*v1alpha1.LDAPProvider, outcome]{
		Kind:    Kind,
		Options: fixture.Options,
		Observe: observe,
		Message: func(o *outcome) *string { return &o.SyncedMessage },
	}.Run(t, cases)
}

// TestCertificateRef: a CertificateKeyPair named by certificateRef gives
// the provider its certificate, and a certificate removed in Authentik is
// drift.
func TestCertificateRef(t *testing.T) {
	t.Parallel()
	cr := ldapProvider(func(cr *v1alpha1.LDAPProvider) { cr.Spec.ForProvider.CertificateRef = &xpv2.Reference{Name: "ldaps"} })
	env := mrtest.New(t, cr)
	seeded := env.Sim.Fixtures().Certificate
	env.Create(&v1alpha1.CertificateKeyPair{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "ldaps", Annotations: map[string]string{meta.AnnotationKeyExternalName: seeded}}})
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	env.Settle(r, cr)
	got := providersNamed(t, env, providerName)
	if len(got) != 1 || got[0].Certificate.Get() == nil || *got[0].Certificate.Get() != seeded || ptr.Deref(cr.Spec.ForProvider.CertificateID, "") != seeded {
		t.Fatalf("the provider's certificate: %+v, spec %v; want %s\nSynced: %+v", got, cr.Spec.ForProvider.CertificateID, seeded, cr.GetCondition(xpv2.TypeSynced))
	}
	p := api.NewPatchedLDAPProviderRequest()
	p.SetCertificateNil()
	if _, resp, err := env.Authentik.API.ProvidersAPI.ProvidersLdapPartialUpdate(context.Background(), got[0].Pk).PatchedLDAPProviderRequest(*p).Execute(); authentik.Classify(resp, err) != nil {
		t.Fatal(err)
	}
	env.PassReadAge()
	env.Settle(r, cr)
	if got := providersNamed(t, env, providerName); got[0].Certificate.Get() == nil {
		t.Errorf("a certificate removed in Authentik was not restored")
	}
}

// TestWaitsForCertificate: a provider whose certificateRef names a
// CertificateKeyPair without a UUID yet waits and is woken once it has one.
func TestWaitsForCertificate(t *testing.T) {
	t.Parallel()
	mrtest.WaitsForKeyPair(t, mrtest.KeyPairRef[*v1alpha1.LDAPProvider]{
		Kind:    Kind,
		Options: mrtest.OptionsOf(ReconcilerOptions),
		Resource: func() *v1alpha1.LDAPProvider {
			return ldapProvider(func(cr *v1alpha1.LDAPProvider) {
				cr.Spec.ForProvider.CertificateRef = &xpv2.Reference{Name: mrtest.SigningPair}
			})
		},
		Keys: func(t *testing.T, e *mrtest.Env) []string {
			keys := []string{}
			for _, p := range providersNamed(t, e, providerName) {
				keys = append(keys, ptr.Deref(p.Certificate.Get(), ""))
			}
			return keys
		},
	})
}

// TestUpdateTakesObservedFlows: an update's request takes the flows the
// reconcile's Observe resolved: with the flow cache emptied in between, it
// looks none up again.
func TestUpdateTakesObservedFlows(t *testing.T) {
	t.Parallel()
	cr := ldapProvider()
	env := mrtest.New(t, cr)
	env.Settle(env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...), cr)
	cr.Spec.ForProvider.BaseDN = ptr.To("DC=changed")
	ctx := context.Background()
	e := providers.External(env.Authentik)
	if obs, err := e.Observe(ctx, cr); err != nil || obs.ResourceUpToDate {
		t.Fatalf("Observe of a changed base DN: %+v, %v; want it out of date", obs, err)
	}
	env.Authentik.ForgetFlow(defaultBindFlow)
	env.Authentik.ForgetFlow(defaultUnbindFlow)
	looked := env.Sim.Counts()["flows_instances_retrieve"]
	if _, err := e.Update(ctx, cr); err != nil {
		t.Fatal(err)
	}
	if got := env.Sim.Counts()["flows_instances_retrieve"] - looked; got != 0 {
		t.Errorf("the update looked up %d flows, want 0: its Observe resolved them", got)
	}
	if got := providersNamed(t, env, providerName); len(got) != 1 || got[0].GetBaseDn() != "DC=changed" {
		t.Errorf("the provider after the update: %+v; want base DN DC=changed", got)
	}
}

func TestObserveOnlyImport(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	id := authentikProvider(t, env, "imported", "DC=imported")
	read := func() (*api.LDAPProvider, error) {
		return mrtest.Response(env.Authentik.API.ProvidersAPI.ProvidersLdapRetrieve(context.Background(), pkOf(t, id)).Execute())
	}
	before, err := read()
	if err != nil {
		t.Fatal(err)
	}
	cr := &v1alpha1.LDAPProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "imported", UID: "6d1f2c3a-0000-4000-8000-000000000126", Annotations: map[string]string{meta.AnnotationKeyExternalName: id}},
		Spec: v1alpha1.LDAPProviderSpec{ManagedResourceSpec: xpv2.ManagedResourceSpec{
			ProviderConfigReference: &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: mrtest.ConfigName},
			ManagementPolicies:      xpv2.ManagementPolicies{xpv2.ManagementActionObserve},
		}},
	}
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	mrtest.CheckObserveOnlyImport(env, r, cr, func() {
		fp := cr.Spec.ForProvider
		if ptr.Deref(fp.Name, "") != "imported" || ptr.Deref(fp.BaseDN, "") != "DC=imported" || ptr.Deref(fp.BindMode, "") != "direct" {
			t.Errorf("observe-only import did not copy Authentik's fields: %+v", fp)
		}
	}, before, read)
}
