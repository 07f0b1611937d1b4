package oauth2provider

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
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	providerName   = "grafana-oidc"
	redirectURI    = "https://grafana.example.com/login/generic_oauth"
	connectionName = "grafana-oidc-credentials"
	sourceSecret   = "grafana-client-secret"
	sourceKey      = "secret"
	signingKeyName = "authentik Self-signed Certificate"
	scopeOpenID    = "goauthentik.io/providers/oauth2/scope-openid"
	scopeEmail     = "goauthentik.io/providers/oauth2/scope-email"
	// scopeProfileName names the profile mapping by its name, not its key.
	scopeProfileName = "authentik default OAuth Mapping: OpenID 'profile'"
	scopeProfile     = "goauthentik.io/providers/oauth2/scope-profile"
)

func oauth2Provider(mods ...func(*v1alpha1.OAuth2Provider)) *v1alpha1.OAuth2Provider {
	return mrtest.Build(&v1alpha1.OAuth2Provider{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "grafana", UID: "6d1f2c3a-0000-4000-8000-000000000016"},
		Spec: v1alpha1.OAuth2ProviderSpec{
			ManagedResourceSpec: mrtest.SpecWritingTo(connectionName),
			ForProvider: v1alpha1.OAuth2ProviderParameters{
				Name:                 ptr.To(providerName),
				ClientType:           ptr.To(v1alpha1.ClientTypeConfidential),
				RedirectURIs:         []v1alpha1.RedirectURI{{MatchingMode: v1alpha1.MatchingModeStrict, URL: redirectURI}},
				ScopeMappings:        []string{scopeOpenID, scopeEmail, scopeProfileName},
				SigningKeyParameters: v1alpha1.SigningKeyParameters{SigningKey: ptr.To(signingKeyName)},
			},
		},
	}, mods...)
}

// withSourceSecret reads the client secret from the Secret sourceSecret.
func withSourceSecret(cr *v1alpha1.OAuth2Provider) {
	cr.Spec.ForProvider.ClientSecretSecretRef = &xpv2.LocalSecretKeySelector{
		LocalSecretReference: xpv2.LocalSecretReference{Name: sourceSecret},
		Key:                  sourceKey,
	}
}

func clientSecret(value string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: sourceSecret},
		Data:       map[string][]byte{sourceKey: []byte(value)},
	}
}

// writeSourceSecret replaces the client secret in its source Secret.
func writeSourceSecret(t *testing.T, env *mrtest.Env, value string) {
	t.Helper()
	s := clientSecret("")
	env.Get(s)
	s.Data = map[string][]byte{sourceKey: []byte(value)}
	if err := env.Kube.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// existingProvider makes a provider in Authentik as cr's spec would, as if
// made outside this resource or before a crash.
func existingProvider(t *testing.T, env *mrtest.Env, cr *v1alpha1.OAuth2Provider) int32 {
	t.Helper()
	e := &external{client: env.Authentik, kube: env.Kube}
	w, err := e.resolve(context.Background(), cr)
	if err != nil {
		t.Fatal(err)
	}
	return mrtest.Must(env.Authentik.API.ProvidersAPI.ProvidersOauth2Create(context.Background()).OAuth2ProviderRequest(createRequest(cr.Spec.ForProvider, w)).Execute())(t).Pk
}

func providersNamed(t *testing.T, env *mrtest.Env, name string) []api.OAuth2Provider {
	t.Helper()
	return mrtest.Must(env.Authentik.API.ProvidersAPI.ProvidersOauth2List(context.Background()).Name(name).Execute())(t).Results
}

func retrieve(t *testing.T, env *mrtest.Env, pk int32) (*api.OAuth2Provider, error) {
	t.Helper()
	return mrtest.Response(env.Authentik.API.ProvidersAPI.ProvidersOauth2Retrieve(context.Background(), pk).Execute())
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

// outcome summarises a resource, its connection Secret and Authentik after
// a test's steps.
type outcome struct {
	Providers     int
	RedirectURIs  string
	ScopeMappings string
	SigningKey    bool
	Ready         corev1.ConditionStatus
	Synced        corev1.ConditionStatus
	SyncedMessage string
	PKMatches     bool
	// Secret is the client secret Authentik holds, when the test knows it.
	Secret string
	// Connection lists the connection Secret's keys whose values are
	// Authentik's (client id and secret), and the issuer keys present.
	Connection []string
}

func observe(t *testing.T, env *mrtest.Env, cr *v1alpha1.OAuth2Provider, messageHas string, knownSecrets ...string) outcome {
	t.Helper()
	env.Get(cr)
	o := outcome{
		Ready:  cr.GetCondition(xpv2.TypeReady).Status,
		Synced: cr.GetCondition(xpv2.TypeSynced).Status,
	}
	if messageHas != "" && strings.Contains(cr.GetCondition(xpv2.TypeSynced).Message, messageHas) {
		o.SyncedMessage = messageHas
	}
	ps := providersNamed(t, env, providerName)
	o.Providers = len(ps)
	if len(ps) != 1 {
		return o
	}
	p := ps[0]
	o.PKMatches = strconv.Itoa(int(p.Pk)) == meta.GetExternalName(cr)
	var uris []string
	for _, u := range p.RedirectUris {
		uris = append(uris, string(u.MatchingMode)+" "+u.Url)
	}
	o.RedirectURIs = strings.Join(uris, ",")
	o.ScopeMappings = scopeLabels(t, env, p.PropertyMappings)
	o.SigningKey = p.SigningKey.Get() != nil && *p.SigningKey.Get() == env.Sim.Fixtures().Certificate
	if slices.Contains(knownSecrets, p.GetClientSecret()) {
		o.Secret = p.GetClientSecret()
	}
	c := connection(t, env)
	if c[v1alpha1.ConnectionClientID] == p.GetClientId() && p.GetClientId() != "" {
		o.Connection = append(o.Connection, v1alpha1.ConnectionClientID)
	}
	if c[v1alpha1.ConnectionClientSecret] == p.GetClientSecret() && p.GetClientSecret() != "" {
		o.Connection = append(o.Connection, v1alpha1.ConnectionClientSecret)
	}
	for _, k := range []string{v1alpha1.ConnectionIssuer, v1alpha1.ConnectionDiscoveryURL} {
		if _, ok := c[k]; ok {
			o.Connection = append(o.Connection, k)
		}
	}
	return o
}

// scopeLabels names mappings by managed key, sorted.
func scopeLabels(t *testing.T, env *mrtest.Env, pks []string) string {
	t.Helper()
	fx := env.Sim.Fixtures()
	var out []string
	for _, pk := range pks {
		for key, id := range fx.ScopeMappings {
			if id == pk {
				out = append(out, strings.TrimPrefix(key, "goauthentik.io/providers/oauth2/"))
			}
		}
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

var credentials = []string{v1alpha1.ConnectionClientID, v1alpha1.ConnectionClientSecret}

func settled(secret string) outcome {
	return outcome{
		Providers: 1, RedirectURIs: "strict " + redirectURI, ScopeMappings: "scope-email,scope-openid,scope-profile", SigningKey: true,
		Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, PKMatches: true, Secret: secret, Connection: credentials,
	}
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason     string
		cr         *v1alpha1.OAuth2Provider
		objs       []*corev1.Secret
		steps      func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider)
		messageHas string
		secrets    []string
		want       outcome
	}{
		"CreateWritesCredentials": {
			reason: "A new resource makes a confidential provider with the named scopes and key, and writes its generated client id and secret to the connection Secret.",
			cr:     oauth2Provider(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) {
				env.Settle(r, cr)
				if got := ptr.Deref(cr.Status.AtProvider.PK, 0); got != mrtest.ExternalPK(t, cr) {
					t.Errorf("status.atProvider.pk = %d, external name %d", got, mrtest.ExternalPK(t, cr))
				}
				if cr.Spec.ForProvider.ClientID == nil || ptr.Deref(cr.Spec.ForProvider.AuthorizationFlow, "") != authentik.DefaultAuthorizationFlow {
					t.Errorf("clientId or authorizationFlow not late-initialised: %+v", cr.Spec.ForProvider)
				}
			},
			want: settled(""),
		},
		"IssuerOnceAnApplicationUsesIt": {
			reason: "The issuer and discovery URLs name the application's slug, so they are written once an application uses the provider.",
			cr:     oauth2Provider(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) {
				env.Settle(r, cr)
				app := api.NewApplicationRequest("Grafana", "grafana")
				app.SetProvider(mrtest.ExternalPK(t, cr))
				if _, resp, err := env.Authentik.API.CoreAPI.CoreApplicationsCreate(context.Background()).ApplicationRequest(*app).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
				c := connection(t, env)
				want := map[string]string{
					v1alpha1.ConnectionIssuer:       env.Sim.URL + "/application/o/grafana/",
					v1alpha1.ConnectionDiscoveryURL: env.Sim.URL + "/application/o/grafana/.well-known/openid-configuration",
				}
				got := map[string]string{v1alpha1.ConnectionIssuer: c[v1alpha1.ConnectionIssuer], v1alpha1.ConnectionDiscoveryURL: c[v1alpha1.ConnectionDiscoveryURL]}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("connection Secret's issuer (-want, +got):\n%s", diff)
				}
				if got := ptr.Deref(cr.Status.AtProvider.Issuer, ""); got != want[v1alpha1.ConnectionIssuer] {
					t.Errorf("status.atProvider.issuer = %q", got)
				}
			},
			want: func() outcome {
				o := settled("")
				o.Connection = append(credentials, v1alpha1.ConnectionIssuer, v1alpha1.ConnectionDiscoveryURL)
				return o
			}(),
		},
		"RedirectURIDriftIsReverted": {
			reason: "Redirect URIs changed in Authentik behind the provider's back are reported as drift and restored.",
			cr:     oauth2Provider(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) {
				env.Settle(r, cr)
				pk := mrtest.ExternalPK(t, cr)
				patch := api.PatchedOAuth2ProviderRequest{RedirectUris: []api.RedirectURIRequest{*api.NewRedirectURIRequest(api.MATCHINGMODEENUM_REGEX, "https://.*\\.attacker\\.example")}}
				if _, resp, err := env.Authentik.API.ProvidersAPI.ProvidersOauth2PartialUpdate(context.Background(), pk).PatchedOAuth2ProviderRequest(patch).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				obs, err := (&external{client: env.Authentik, kube: env.Kube}).Observe(context.Background(), cr.DeepCopy())
				if err != nil {
					t.Fatal(err)
				}
				if obs.ResourceUpToDate || !strings.Contains(obs.Diff, "attacker") {
					t.Errorf("Observe after drift: upToDate=%v diff=%q", obs.ResourceUpToDate, obs.Diff)
				}
				env.Settle(r, cr)
			},
			want: settled(""),
		},
		"DeletedBehindBackIsRecreated": {
			reason: "A provider deleted in Authentik is made again and the new pk recorded.",
			cr:     oauth2Provider(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) {
				env.Settle(r, cr)
				old := mrtest.ExternalPK(t, cr)
				if resp, err := env.Authentik.API.ProvidersAPI.ProvidersOauth2Destroy(context.Background(), old).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				env.BackdateCreate(cr)
				env.Settle(r, cr)
				if mrtest.ExternalPK(t, cr) == old {
					t.Errorf("external name still names the deleted provider %d", old)
				}
			},
			want: settled(""),
		},
		"DeleteRemovesProvider": {
			reason: "Deleting the resource deletes the provider in Authentik, then the resource.",
			cr:     oauth2Provider(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) {
				env.Settle(r, cr)
				pk := mrtest.ExternalPK(t, cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
				if _, err := retrieve(t, env, pk); !authentik.IsNotFound(err) {
					t.Errorf("provider %d after delete: want not found, got %v", pk, err)
				}
			},
			want: outcome{},
		},
		"SecretFromItsSource": {
			reason: "A client secret read from the Secret the spec names is Authentik's and the connection Secret's, without its trailing newline.",
			cr:     oauth2Provider(withSourceSecret),
			objs:   []*corev1.Secret{clientSecret("first-secret-value\n")},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) {
				env.Settle(r, cr)
			},
			secrets: []string{"first-secret-value"},
			want:    settled("first-secret-value"),
		},
		"RotatedSecretReachesAuthentik": {
			reason: "A new value in the source Secret reaches Authentik and the connection Secret at the next reconcile.",
			cr:     oauth2Provider(withSourceSecret),
			objs:   []*corev1.Secret{clientSecret("first-secret-value")},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) {
				env.Settle(r, cr)
				writeSourceSecret(t, env, "rotated-secret-value")
				if _, err := env.Reconcile(r, client.ObjectKeyFromObject(cr)); err != nil {
					t.Fatal(err)
				}
			},
			secrets: []string{"first-secret-value", "rotated-secret-value"},
			want:    settled("rotated-secret-value"),
		},
		"MissingSourceSecret": {
			reason: "A source Secret that does not exist is named in Synced, and nothing is created.",
			cr:     oauth2Provider(withSourceSecret),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: "cannot get the Secret named by spec.forProvider.clientSecretSecretRef (" + sourceSecret + ")",
			want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
		"RefusedRegexNamesField": {
			reason: "Authentik's refusal of a redirect URI regex reaches Synced with the spec field to change.",
			cr: oauth2Provider(func(cr *v1alpha1.OAuth2Provider) {
				cr.Spec.ForProvider.RedirectURIs = []v1alpha1.RedirectURI{{MatchingMode: v1alpha1.MatchingModeRegex, URL: "https://(grafana"}}
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: "spec.forProvider.redirectUris (redirect_uris): Invalid Regex Pattern: https://(grafana",
			want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
		"RefusedClientIDNamesField": {
			reason: "A client id another provider holds is refused by Authentik, naming the spec field.",
			cr: oauth2Provider(func(cr *v1alpha1.OAuth2Provider) {
				cr.Spec.ForProvider.ClientID = ptr.To("grafana")
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) {
				other := cr.DeepCopy()
				other.Spec.ForProvider.Name = ptr.To("someone-else")
				existingProvider(t, env, other)
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: "spec.forProvider.clientId (client_id): OAuth2/OpenID Provider with this Client ID already exists.",
			want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
		"UnknownScopeMapping": {
			reason: "A scope mapping no managed key or name matches is named in Synced, and nothing is created.",
			cr: oauth2Provider(func(cr *v1alpha1.OAuth2Provider) {
				cr.Spec.ForProvider.ScopeMappings = []string{scopeOpenID, "groups"}
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: `spec.forProvider.scopeMappings: no scope mapping has the managed key or name "groups"`,
			want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
		"UnknownSigningKey": {
			reason: "A signing key no key pair is named after is named in Synced, and nothing is created.",
			cr: oauth2Provider(func(cr *v1alpha1.OAuth2Provider) {
				cr.Spec.ForProvider.SigningKey = ptr.To("grafana-signing")
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: `spec.forProvider.signingKey: no certificate key pair is named "grafana-signing"`,
			want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
		"CrashAfterCreateAdopts": {
			reason: "A create that succeeded before the pk was recorded is adopted, not duplicated and not stuck.",
			cr: oauth2Provider(withSourceSecret, func(cr *v1alpha1.OAuth2Provider) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			objs: []*corev1.Secret{clientSecret("first-secret-value")},
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) {
				existingProvider(t, env, cr)
				env.Settle(r, cr)
			},
			secrets: []string{"first-secret-value"},
			want:    settled("first-secret-value"),
		},
		"CrashBeforeCreateCreates": {
			reason: "A create that never reached Authentik runs again.",
			cr: oauth2Provider(func(cr *v1alpha1.OAuth2Provider) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) {
				env.Settle(r, cr)
			},
			want: settled(""),
		},
		"CrashWithForeignProviderRefuses": {
			reason: "After a crash, a provider of the same name that differs from the spec is neither adopted nor changed.",
			cr: oauth2Provider(func(cr *v1alpha1.OAuth2Provider) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) {
				foreign := cr.DeepCopy()
				foreign.Spec.ForProvider.RedirectURIs = []v1alpha1.RedirectURI{{URL: "https://someone-else.example.com/cb"}}
				existingProvider(t, env, foreign)
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
			},
			messageHas: "differs from this resource",
			want: outcome{Providers: 1, RedirectURIs: "strict https://someone-else.example.com/cb", ScopeMappings: "scope-email,scope-openid,scope-profile", SigningKey: true,
				Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse},
		},
		"LostCreateResponseAdopts": {
			reason: "A create whose answer was lost after Authentik made the provider is adopted on the next reconcile.",
			cr:     oauth2Provider(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.OAuth2Provider) {
				env.CheckLostCreateAdopted(r, cr, "providers_oauth2_create")
			},
			want: settled(""),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t, tc.cr)
			for _, s := range tc.objs {
				env.Create(s)
			}
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
			cr := tc.cr.DeepCopy()
			tc.steps(t, env, r, cr)
			want := tc.want
			want.SyncedMessage = tc.messageHas
			var got outcome
			if err := env.Kube.Get(context.Background(), client.ObjectKeyFromObject(cr), cr); err == nil {
				got = observe(t, env, cr, tc.messageHas, tc.secrets...)
			} else {
				got.Providers = len(providersNamed(t, env, providerName))
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
	pk := existingProvider(t, env, oauth2Provider())
	before, err := retrieve(t, env, pk)
	if err != nil {
		t.Fatal(err)
	}

	cr := oauth2Provider(func(cr *v1alpha1.OAuth2Provider) {
		cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
		cr.Spec.ForProvider = v1alpha1.OAuth2ProviderParameters{}
		meta.SetExternalName(cr, strconv.Itoa(int(pk)))
	})
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	mrtest.CheckObserveOnlyImport(env, r, cr, func() {
		wantScopes := []string{scopeEmail, scopeOpenID, scopeProfile}
		gotScopes := slices.Sorted(slices.Values(cr.Status.AtProvider.ScopeMappings))
		if diff := cmp.Diff(wantScopes, gotScopes); diff != "" {
			t.Errorf("status.atProvider.scopeMappings (-want, +got):\n%s", diff)
		}
		if c := connection(t, env); c[v1alpha1.ConnectionClientSecret] != before.GetClientSecret() {
			t.Errorf("an imported provider's connection Secret lacks its client secret")
		}
	}, before, func() (*api.OAuth2Provider, error) { return retrieve(t, env, pk) })
}

func TestDiff(t *testing.T) {
	t.Parallel()
	observed := v1alpha1.OAuth2ProviderParameters{
		Name:          ptr.To(providerName),
		ClientType:    ptr.To(v1alpha1.ClientTypeConfidential),
		RedirectURIs:  []v1alpha1.RedirectURI{{MatchingMode: "strict", URL: "https://b.example.com"}, {MatchingMode: "regex", URL: "https://a.*"}},
		ScopeMappings: []string{scopeOpenID, scopeEmail},
	}
	cases := map[string]struct {
		reason string
		spec   v1alpha1.OAuth2ProviderParameters
		want   bool
	}{
		"UnsetFieldsAreNotManaged": {
			reason: "Fields the spec leaves unset never count as drift.",
			spec:   v1alpha1.OAuth2ProviderParameters{Name: ptr.To(providerName)},
			want:   true,
		},
		"RedirectURIsAreASet": {
			reason: "The same redirect URIs in another order, with the default matching mode left out, are no drift.",
			spec:   v1alpha1.OAuth2ProviderParameters{RedirectURIs: []v1alpha1.RedirectURI{{MatchingMode: "regex", URL: "https://a.*"}, {URL: "https://b.example.com"}}},
			want:   true,
		},
		"ChangedMatchingModeIsDrift": {
			reason: "A redirect URI whose matching mode differs is drift.",
			spec:   v1alpha1.OAuth2ProviderParameters{RedirectURIs: []v1alpha1.RedirectURI{{MatchingMode: "strict", URL: "https://a.*"}, {URL: "https://b.example.com"}}},
			want:   false,
		},
		"ScopeMappingsAreASet": {
			reason: "Scope mappings are compared without order.",
			spec:   v1alpha1.OAuth2ProviderParameters{ScopeMappings: []string{scopeEmail, scopeOpenID}},
			want:   true,
		},
		"ExtraScopeMappingIsDrift": {
			reason: "Authentik adds no scope mappings of its own to OAuth2 providers, so one the spec lacks is drift.",
			spec:   v1alpha1.OAuth2ProviderParameters{ScopeMappings: []string{scopeOpenID}},
			want:   false,
		},
		"SecretRefIsNotCompared": {
			reason: "The client secret is compared apart, never by this diff.",
			spec: v1alpha1.OAuth2ProviderParameters{ClientSecretSecretRef: &xpv2.LocalSecretKeySelector{
				LocalSecretReference: xpv2.LocalSecretReference{Name: sourceSecret}, Key: sourceKey,
			}},
			want: true,
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
