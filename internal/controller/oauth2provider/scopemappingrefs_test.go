package oauth2provider

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

const groupsMapping = "groups"

// authentikScopeMapping makes a groups scope mapping in Authentik and
// returns its UUID.
func authentikScopeMapping(t *testing.T, env *mrtest.Env, name string) string {
	t.Helper()
	m, resp, err := env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderScopeCreate(context.Background()).
		ScopeMappingRequest(*api.NewScopeMappingRequest(name, "return {}", "groups")).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return m.Pk
}

// scopeMappingResource is the ScopeMapping resource named groupsMapping,
// with the given external name ("" for none yet).
func scopeMappingResource(externalName string) *v1alpha1.ScopeMapping {
	sm := &v1alpha1.ScopeMapping{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: groupsMapping}}
	if externalName != "" {
		meta.SetExternalName(sm, externalName)
	}
	return sm
}

func withGroupsRef(cr *v1alpha1.OAuth2Provider) {
	cr.Spec.ForProvider.ScopeMappingRefs = []xpv2.Reference{{Name: groupsMapping}}
}

// providerMappings are the UUIDs of the mappings Authentik's provider
// offers.
func providerMappings(t *testing.T, env *mrtest.Env) []string {
	t.Helper()
	ps := providersNamed(t, env, providerName)
	if len(ps) != 1 {
		t.Fatalf("Authentik has %d providers named %s, want 1", len(ps), providerName)
	}
	out := slices.Clone(ps[0].PropertyMappings)
	slices.Sort(out)
	return out
}

func TestScopeMappingRefs(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		// steps run with the UUID of the mapping the ScopeMapping resource
		// names; they return the UUIDs the provider must then offer beside
		// the spec's keys and names.
		steps      func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.OAuth2Provider, mapping string) []string
		messageHas string
		ready      corev1.ConditionStatus
		synced     corev1.ConditionStatus
	}{
		"RefIsWritten": {
			reason: "A mapping named by reference is offered beside those named by key or name, its UUID recorded in scopeMappingIds.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.OAuth2Provider, mapping string) []string {
				env.Settle(r, cr)
				if diff := cmp.Diff([]string{mapping}, cr.Spec.ForProvider.ScopeMappingIDs); diff != "" {
					t.Errorf("spec.forProvider.scopeMappingIds: -want, +got:\n%s", diff)
				}
				return []string{mapping}
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"RemovedInAuthentikIsRestored": {
			reason: "A referenced mapping taken off the provider in Authentik is drift, named by its UUID in scopeMappingIds, and restored.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.OAuth2Provider, mapping string) []string {
				env.Settle(r, cr)
				pk := mrtest.ExternalPK(t, cr)
				patch := api.PatchedOAuth2ProviderRequest{PropertyMappings: slices.DeleteFunc(providerMappings(t, env), func(pk string) bool { return pk == mapping })}
				if _, resp, err := env.Authentik.API.ProvidersAPI.ProvidersOauth2PartialUpdate(context.Background(), pk).PatchedOAuth2ProviderRequest(patch).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(authentik.Classify(resp, err))
				}
				obs, err := (&external{client: env.Authentik, kube: env.Kube}).Observe(context.Background(), cr.DeepCopy())
				if err != nil {
					t.Fatal(err)
				}
				if obs.ResourceUpToDate || !strings.Contains(obs.Diff, "ScopeMappingIDs") || !strings.Contains(obs.Diff, mapping) {
					t.Errorf("Observe after the mapping was taken off: upToDate=%v diff=%q; want scopeMappingIds naming %s", obs.ResourceUpToDate, obs.Diff, mapping)
				}
				env.PassReadAge()
				env.Settle(r, cr)
				return []string{mapping}
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"ExtraMappingIsRemoved": {
			reason: "A mapping added in Authentik beside the referenced one is drift and removed: the set is the spec's.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.OAuth2Provider, mapping string) []string {
				env.Settle(r, cr)
				extra := authentikScopeMapping(t, env, "extra")
				patch := api.PatchedOAuth2ProviderRequest{PropertyMappings: append(providerMappings(t, env), extra)}
				if _, resp, err := env.Authentik.API.ProvidersAPI.ProvidersOauth2PartialUpdate(context.Background(), mrtest.ExternalPK(t, cr)).PatchedOAuth2ProviderRequest(patch).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(authentik.Classify(resp, err))
				}
				env.PassReadAge()
				env.Settle(r, cr)
				return []string{mapping}
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"MappingMadeAgainIsFollowed": {
			reason: "A ScopeMapping whose Authentik mapping was made again with a new UUID is followed on the next reconcile.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.OAuth2Provider, mapping string) []string {
				env.Settle(r, cr)
				again := authentikScopeMapping(t, env, "groups again")
				sm := scopeMappingResource("")
				env.Get(sm)
				meta.SetExternalName(sm, again)
				if err := env.Kube.Update(context.Background(), sm); err != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
				return []string{again}
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"SelectorFillsRefs": {
			reason: "scopeMappingSelector selects the ScopeMappings by label, fills scopeMappingRefs and offers what they resolve to.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.OAuth2Provider, mapping string) []string {
				sm := scopeMappingResource("")
				env.Get(sm)
				sm.SetLabels(map[string]string{"claim": "groups"})
				if err := env.Kube.Update(context.Background(), sm); err != nil {
					t.Fatal(err)
				}
				env.Get(cr)
				cr.Spec.ForProvider.ScopeMappingRefs = nil
				cr.Spec.ForProvider.ScopeMappingSelector = &xpv2.Selector{MatchLabels: map[string]string{"claim": "groups"}}
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
				if diff := cmp.Diff([]xpv2.Reference{{Name: groupsMapping}}, cr.Spec.ForProvider.ScopeMappingRefs); diff != "" {
					t.Errorf("spec.forProvider.scopeMappingRefs: -want, +got:\n%s", diff)
				}
				return []string{mapping}
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"MissingScopeMappingNamesField": {
			reason: "A reference to a ScopeMapping that does not exist is reported on scopeMappingRefs, and nothing is made.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.OAuth2Provider, _ string) []string {
				cr.Spec.ForProvider.ScopeMappingRefs = []xpv2.Reference{{Name: "missing"}}
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
				return nil
			},
			messageHas: "spec.forProvider.scopeMappingRefs",
			ready:      corev1.ConditionUnknown, synced: corev1.ConditionFalse,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cr := oauth2Provider(withGroupsRef)
			env := mrtest.New(t, cr)
			mapping := authentikScopeMapping(t, env, groupsMapping)
			env.Create(scopeMappingResource(mapping))
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
			extra := tc.steps(t, env, r, cr, mapping)

			env.Get(cr)
			got := struct {
				Ready, Synced corev1.ConditionStatus
				Message       bool
			}{cr.GetCondition(xpv2.TypeReady).Status, cr.GetCondition(xpv2.TypeSynced).Status, strings.Contains(cr.GetCondition(xpv2.TypeSynced).Message, tc.messageHas)}
			want := struct {
				Ready, Synced corev1.ConditionStatus
				Message       bool
			}{tc.ready, tc.synced, true}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
			if extra == nil {
				if n := len(providersNamed(t, env, providerName)); n != 0 {
					t.Errorf("%s\nAuthentik has %d providers, want none", tc.reason, n)
				}
				return
			}
			fx := env.Sim.Fixtures()
			wantPKs := append([]string{fx.ScopeMappings[scopeOpenID], fx.ScopeMappings[scopeEmail], fx.ScopeMappings[scopeProfile]}, extra...)
			slices.Sort(wantPKs)
			if diff := cmp.Diff(wantPKs, providerMappings(t, env)); diff != "" {
				t.Errorf("%s\nthe provider's mappings in Authentik: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestWaitsForScopeMapping: a provider whose scopeMappingRefs name a
// ScopeMapping without a UUID yet waits, writing nothing, and is woken
// once the mapping has one.
func TestWaitsForScopeMapping(t *testing.T) {
	t.Parallel()
	cr := oauth2Provider(withGroupsRef)
	env := mrtest.New(t, cr)
	mapping := authentikScopeMapping(t, env, groupsMapping)
	pending := scopeMappingResource("")
	env.Create(pending)
	r := mrbehavior.WaitsForDependencies(env.Kube, Kind.Object, Kind.Dependencies, env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...), time.Minute)

	res, err := env.Reconcile(r, client.ObjectKeyFromObject(cr))
	if err != nil || res.RequeueAfter != time.Minute || env.Changes(cr) != 0 || len(providersNamed(t, env, providerName)) != 0 {
		t.Errorf("while the mapping has no UUID: result %+v, error %v, %d writes; want a wait of a poll, no write and no provider", res, err, env.Changes(cr))
	}

	env.Get(pending)
	meta.SetExternalName(pending, mapping)
	if err := env.Kube.Update(context.Background(), pending); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range Kind.Dependencies {
		if _, ok := d.Object.(*v1alpha1.ScopeMapping); ok && d.Value(pending) == mapping {
			names = append(names, d.Names(cr)...)
		}
	}
	if diff := cmp.Diff([]string{groupsMapping}, names); diff != "" {
		t.Errorf("the ScopeMapping dependency names the scopeMappingRefs and resolves to the UUID: -want, +got:\n%s", diff)
	}
	env.Settle(r, cr)
	if !slices.Contains(providerMappings(t, env), mapping) {
		t.Errorf("the provider does not offer mapping %s once it has its UUID", mapping)
	}
}
