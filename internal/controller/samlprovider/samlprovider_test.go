package samlprovider

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
	providerName = "wiki-saml"
	acsURL       = "https://wiki.example.com/saml/acs"
	audience     = "https://wiki.example.com/saml/metadata"
	issuer       = "https://auth.example.com/wiki"
	// theirACS is the ACS URL of a provider someone else made.
	theirACS = "https://theirs.example.com/acs"
)

func TestMain(m *testing.M) { mrtest.Main(m) }

func samlProvider(mods ...func(*v1alpha1.SAMLProvider)) *v1alpha1.SAMLProvider {
	return mrtest.Build(&v1alpha1.SAMLProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "wiki", UID: "6d1f2c3a-0000-4000-8000-000000000031"},
		Spec: v1alpha1.SAMLProviderSpec{
			ManagedResourceSpec: mrtest.Spec(),
			ForProvider: v1alpha1.SAMLProviderParameters{
				Name:      ptr.To(providerName),
				ACSURL:    ptr.To(acsURL),
				Audience:  ptr.To(audience),
				Issuer:    ptr.To(issuer),
				SPBinding: ptr.To(v1alpha1.SAMLBindingPost),
			},
		},
	}, mods...)
}

// existingProvider makes a SAML provider in Authentik from cr's spec and
// returns its pk.
func existingProvider(t *testing.T, env *mrtest.Env, cr *v1alpha1.SAMLProvider) int32 {
	t.Helper()
	w, err := resolve(context.Background(), env.Authentik, cr.Spec.ForProvider, read{})
	if err != nil {
		t.Fatal(err)
	}
	return mrtest.Must(env.Authentik.API.ProvidersAPI.ProvidersSamlCreate(context.Background()).SAMLProviderRequest(createRequest(cr.Spec.ForProvider, w)).Execute())(t).Pk
}

func providersNamed(t *testing.T, env *mrtest.Env, name string) []api.SAMLProvider {
	t.Helper()
	return mrtest.Must(env.Authentik.API.ProvidersAPI.ProvidersSamlList(context.Background()).Name(name).Execute())(t).Results
}

// patch changes a provider in Authentik behind the resource's back.
func patch(t *testing.T, env *mrtest.Env, pk int32, r api.PatchedSAMLProviderRequest) {
	t.Helper()
	if _, resp, err := env.Authentik.API.ProvidersAPI.ProvidersSamlPartialUpdate(context.Background(), pk).PatchedSAMLProviderRequest(r).Execute(); authentik.Classify(resp, err) != nil {
		t.Fatal(err)
	}
}

// outcome summarises a resource and Authentik after a test's steps.
type outcome struct {
	Providers     int
	ACS           string
	Audience      string
	Issuer        string
	Binding       string
	SigningKey    string
	Ready         corev1.ConditionStatus
	Synced        corev1.ConditionStatus
	SyncedMessage string
	PKMatches     bool
}

func observe(t *testing.T, env *mrtest.Env, cr *v1alpha1.SAMLProvider, messageHas string) outcome {
	t.Helper()
	s := env.Status(cr, messageHas)
	o := outcome{Ready: s.Ready, Synced: s.Synced, SyncedMessage: s.SyncedMessage}
	ps := providersNamed(t, env, providerName)
	o.Providers = len(ps)
	if len(ps) == 1 {
		p := ps[0]
		o.ACS, o.Audience = p.AcsUrl, p.GetAudience()
		if p.GetSigningKp() != "" {
			// Which UUID is the test's own; that a key signs is checked.
			o.SigningKey = "set"
		}
		o.Issuer, _ = authentik.SAMLIssuer(&p)
		o.Binding = string(p.GetSpBinding())
		o.PKMatches = meta.GetExternalName(cr) == strconv.Itoa(int(p.Pk)) && ptr.Deref(cr.Status.AtProvider.PK, 0) == p.Pk
	}
	return o
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	settled := outcome{Providers: 1, ACS: acsURL, Audience: audience, Issuer: issuer, Binding: v1alpha1.SAMLBindingPost, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true}
	theirs := func(t *testing.T, env *mrtest.Env) {
		existingProvider(t, env, samlProvider(func(cr *v1alpha1.SAMLProvider) { cr.Spec.ForProvider.ACSURL = ptr.To(theirACS) }))
	}
	notOurs := outcome{Providers: 1, ACS: theirACS, Audience: audience, Issuer: issuer, Binding: v1alpha1.SAMLBindingPost, Synced: corev1.ConditionFalse}

	cases := mrtest.Lifecycle[*v1alpha1.SAMLProvider, outcome]{
		Noun:     "SAML provider",
		Path:     "/providers/saml/",
		Resource: samlProvider,
		Settled:  settled,
		Created: func(t *testing.T, cr *v1alpha1.SAMLProvider) {
			got := []any{cr.Spec.ForProvider.SignAssertion, cr.Spec.ForProvider.SignResponse, cr.Spec.ForProvider.AuthorizationFlow, cr.Spec.ForProvider.Issuer}
			want := []any{ptr.To(true), ptr.To(false), ptr.To(authentik.DefaultAuthorizationFlow), ptr.To(issuer)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("late-initialised spec: -want, +got:\n%s", diff)
			}
		},
		Drift: func(t *testing.T, env *mrtest.Env, cr *v1alpha1.SAMLProvider) {
			override, legacy := authentik.SAMLIssuerFields("https://elsewhere.example.com")
			patch(t, env, mrtest.ExternalPK(t, cr), api.PatchedSAMLProviderRequest{
				AcsUrl: ptr.To("https://elsewhere.example.com/acs"), Audience: ptr.To("elsewhere"),
				IssuerOverride: override, AdditionalProperties: legacy, SpBinding: ptr.To(api.SAMLBINDINGSENUM_REDIRECT),
			})
			obs, err := providers.External(env.Authentik).Observe(context.Background(), cr.DeepCopy())
			if err != nil {
				t.Fatal(err)
			}
			for _, field := range []string{"ACSURL", "Audience", "Issuer", "SPBinding", "https://elsewhere.example.com/acs"} {
				if obs.ResourceUpToDate || !strings.Contains(obs.Diff, field) {
					t.Errorf("Observe after drift: upToDate=%v, diff does not name %s:\n%s", obs.ResourceUpToDate, field, obs.Diff)
				}
			}
			env.PassReadAge()
		},
		Destroy: func(env *mrtest.Env, id string) error {
			pk, err := strconv.ParseInt(id, 10, 32)
			if err != nil {
				return err
			}
			resp, err := env.Authentik.API.ProvidersAPI.ProvidersSamlDestroy(context.Background(), int32(pk)).Execute()
			return authentik.Classify(resp, err)
		},
		Retrieve: func(env *mrtest.Env, id string) error {
			pk, err := strconv.ParseInt(id, 10, 32)
			if err != nil {
				return err
			}
			_, resp, err := env.Authentik.API.ProvidersAPI.ProvidersSamlRetrieve(context.Background(), int32(pk)).Execute()
			return authentik.Classify(resp, err)
		},
		Made:           func(t *testing.T, env *mrtest.Env, cr *v1alpha1.SAMLProvider) { existingProvider(t, env, cr) },
		Taken:          theirs,
		TakenOutcome:   with(notOurs, func(o *outcome) { o.Ready = corev1.ConditionFalse }),
		Foreign:        theirs,
		ForeignOutcome: with(notOurs, func(o *outcome) { o.Ready = corev1.ConditionUnknown }),
		CreateOp:       "providers_saml_create",
	}.Cases()
	add := func(name, reason string, cr *v1alpha1.SAMLProvider, steps func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.SAMLProvider), messageHas string, want outcome) {
		cases[name] = mrtest.Case[*v1alpha1.SAMLProvider, outcome]{Reason: reason, CR: cr, Steps: steps, MessageHas: messageHas, Want: want}
	}
	reconcileOnce := func(_ *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.SAMLProvider) {
		_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
	}
	refused := outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse}
	add("SpecChangeIsWritten", "A new ACS URL and issuer in the spec are written to Authentik, under the issuer key the release knows.", samlProvider(),
		func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.SAMLProvider) {
			env.Settle(r, cr)
			cr.Spec.ForProvider.ACSURL = ptr.To("https://wiki.example.com/acs2")
			cr.Spec.ForProvider.Issuer = ptr.To("https://auth.example.com/wiki2")
			if err := env.Kube.Update(context.Background(), cr); err != nil {
				t.Fatal(err)
			}
			env.Settle(r, cr)
		}, "", with(settled, func(o *outcome) { o.ACS, o.Issuer = "https://wiki.example.com/acs2", "https://auth.example.com/wiki2" }))
	add("SigningKeyByName", "A signing key named by name is written with its UUID and signs the assertion.",
		samlProvider(func(cr *v1alpha1.SAMLProvider) {
			cr.Spec.ForProvider.SigningKey = ptr.To(authentikSelfSigned)
			cr.Spec.ForProvider.SignAssertion = ptr.To(true)
		}),
		func(_ *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.SAMLProvider) {
			env.Settle(r, cr)
		},
		"", with(settled, func(o *outcome) { o.SigningKey = "set" }))
	add("UnknownSigningKeyNamed", "A signing key name no key pair has is named in Synced, and nothing is made.",
		samlProvider(func(cr *v1alpha1.SAMLProvider) {
			cr.Spec.ForProvider.SigningKey = ptr.To("nobody's key")
			cr.Spec.ForProvider.SignAssertion = ptr.To(true)
		}), reconcileOnce, authentik.ErrNoSigningKey, refused)
	add("RefusedFieldNamed", "Authentik's refusal of the ACS URL is reported on the spec field that holds it.",
		samlProvider(func(cr *v1alpha1.SAMLProvider) { cr.Spec.ForProvider.ACSURL = ptr.To("ftp://") }), reconcileOnce, "spec.forProvider.acsUrl", refused)

	mrtest.Runner[*v1alpha1.SAMLProvider, outcome]{
		Kind:    Kind,
		Options: fixture.Options,
		Observe: observe,
		Message: func(o *outcome) *string { return &o.SyncedMessage },
	}.Run(t, cases)
}

func with(o outcome, edit func(*outcome)) outcome {
	edit(&o)
	return o
}

// authentikSelfSigned is the key pair every fresh install has.
const authentikSelfSigned = "authentik Self-signed Certificate"

func TestObserveOnlyImport(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	pk := existingProvider(t, env, samlProvider(func(cr *v1alpha1.SAMLProvider) { cr.Spec.ForProvider.Name = ptr.To("imported") }))
	path := "/providers/saml/" + strconv.Itoa(int(pk)) + "/"
	before := env.RawJSON(t, path)
	cr := samlProvider(func(cr *v1alpha1.SAMLProvider) {
		cr.Name = "imported"
		cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
		cr.Spec.ForProvider = v1alpha1.SAMLProviderParameters{}
		meta.SetExternalName(cr, strconv.Itoa(int(pk)))
	})
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	mrtest.CheckObserveOnlyImport(env, r, cr, func() {
		if got := ptr.Deref(cr.Status.AtProvider.Issuer, ""); got != issuer {
			t.Errorf("status.atProvider.issuer = %q, want %q", got, issuer)
		}
		if got := ptr.Deref(cr.Spec.ForProvider.ACSURL, ""); got != acsURL {
			t.Errorf("spec.forProvider.acsUrl not late-initialised: %q", got)
		}
		if cr.Spec.ForProvider.Issuer != nil {
			t.Errorf("spec.forProvider.issuer late-initialised to %q; its default differs between releases", *cr.Spec.ForProvider.Issuer)
		}
	}, before, func() (string, error) { return env.RawJSON(t, path), nil })
}

func TestBadExternalName(t *testing.T) {
	t.Parallel()
	mrtest.CheckBadExternalName(t, providers.External(nil).Observe, samlProvider(func(cr *v1alpha1.SAMLProvider) { meta.SetExternalName(cr, "wiki") }), errExternalName)
}
