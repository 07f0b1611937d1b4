package samlprovider

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

// authentikSAMLMapping makes a SAML property mapping in Authentik and
// returns its UUID.
func authentikSAMLMapping(t *testing.T, env *mrtest.Env, name string) string {
	t.Helper()
	return mrtest.Must(env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderSamlCreate(context.Background()).
		SAMLPropertyMappingRequest(*api.NewSAMLPropertyMappingRequest(name, "return []", "memberOf")).Execute())(t).Pk
}

// samlMappingResource is the SAMLPropertyMapping resource named
// groupsMapping, with the given external name ("" for none yet).
func samlMappingResource(externalName string) *v1alpha1.SAMLPropertyMapping {
	m := &v1alpha1.SAMLPropertyMapping{ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: groupsMapping}}
	if externalName != "" {
		meta.SetExternalName(m, externalName)
	}
	return m
}

func withGroupsRef(cr *v1alpha1.SAMLProvider) {
	cr.Spec.ForProvider.PropertyMappingRefs = []xpv2.Reference{{Name: groupsMapping}}
}

// providerMappings are the UUIDs of the provider's property mappings in
// Authentik.
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

func TestPropertyMappingRefs(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		// steps run with the UUID of the mapping the SAMLPropertyMapping
		// resource names; they return the UUIDs the provider must then
		// have, nil for no provider at all.
		steps      func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.SAMLProvider, mapping string) []string
		messageHas string
		ready      corev1.ConditionStatus
		synced     corev1.ConditionStatus
	}{
		"RefIsWritten": {
			reason: "A mapping named by reference is written, its UUID recorded in propertyMappingIds.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.SAMLProvider, mapping string) []string {
				env.Settle(r, cr)
				if diff := cmp.Diff([]string{mapping}, cr.Spec.ForProvider.PropertyMappingIDs); diff != "" {
					t.Errorf("spec.forProvider.propertyMappingIds: -want, +got:\n%s", diff)
				}
				return []string{mapping}
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"RemovedInAuthentikIsRestored": {
			reason: "A referenced mapping taken off the provider in Authentik is drift, named by its UUID, and restored.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.SAMLProvider, mapping string) []string {
				env.Settle(r, cr)
				patch(t, env, mrtest.ExternalPK(t, cr), api.PatchedSAMLProviderRequest{PropertyMappings: []string{}})
				obs, err := providers.External(env.Authentik).Observe(context.Background(), cr.DeepCopy())
				if err != nil {
					t.Fatal(err)
				}
				if obs.ResourceUpToDate || !strings.Contains(obs.Diff, "PropertyMappingIDs") || !strings.Contains(obs.Diff, mapping) {
					t.Errorf("Observe after the mapping was taken off: upToDate=%v diff=%q; want propertyMappingIds naming %s", obs.ResourceUpToDate, obs.Diff, mapping)
				}
				env.PassReadAge()
				env.Settle(r, cr)
				return []string{mapping}
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"ExtraMappingIsRemoved": {
			reason: "A mapping added in Authentik beside the referenced one is drift and removed: the set is the spec's.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.SAMLProvider, mapping string) []string {
				env.Settle(r, cr)
				extra := authentikSAMLMapping(t, env, "extra")
				patch(t, env, mrtest.ExternalPK(t, cr), api.PatchedSAMLProviderRequest{PropertyMappings: []string{mapping, extra}})
				env.PassReadAge()
				env.Settle(r, cr)
				return []string{mapping}
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"MappingMadeAgainIsFollowed": {
			reason: "A mapping deleted in Authentik leaves the provider; the SAMLPropertyMapping made again with a new UUID is followed on the next reconcile.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.SAMLProvider, mapping string) []string {
				env.Settle(r, cr)
				if resp, err := env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderSamlDestroy(context.Background(), mapping).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(authentik.Classify(resp, err))
				}
				again := authentikSAMLMapping(t, env, groupsMapping)
				m := samlMappingResource("")
				env.Get(m)
				meta.SetExternalName(m, again)
				if err := env.Kube.Update(context.Background(), m); err != nil {
					t.Fatal(err)
				}
				env.PassReadAge()
				env.Settle(r, cr)
				return []string{again}
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"SelectorFillsRefs": {
			reason: "propertyMappingSelector selects the SAMLPropertyMappings by label, fills propertyMappingRefs and writes what they resolve to.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.SAMLProvider, mapping string) []string {
				m := samlMappingResource("")
				env.Get(m)
				m.SetLabels(map[string]string{"attribute": "groups"})
				if err := env.Kube.Update(context.Background(), m); err != nil {
					t.Fatal(err)
				}
				env.Get(cr)
				cr.Spec.ForProvider.PropertyMappingRefs = nil
				cr.Spec.ForProvider.PropertyMappingSelector = &xpv2.Selector{MatchLabels: map[string]string{"attribute": "groups"}}
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
				if diff := cmp.Diff([]xpv2.Reference{{Name: groupsMapping}}, cr.Spec.ForProvider.PropertyMappingRefs); diff != "" {
					t.Errorf("spec.forProvider.propertyMappingRefs: -want, +got:\n%s", diff)
				}
				return []string{mapping}
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"MissingMappingNamesField": {
			reason: "A reference to a SAMLPropertyMapping that does not exist is reported on propertyMappingRefs, and nothing is made.",
			steps: func(t *testing.T, env *mrtest.Env, r reconcile.Reconciler, cr *v1alpha1.SAMLProvider, _ string) []string {
				cr.Spec.ForProvider.PropertyMappingRefs = []xpv2.Reference{{Name: "missing"}}
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
				return nil
			},
			messageHas: "spec.forProvider.propertyMappingRefs",
			ready:      corev1.ConditionUnknown, synced: corev1.ConditionFalse,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cr := samlProvider(withGroupsRef)
			env := mrtest.New(t, cr)
			mapping := authentikSAMLMapping(t, env, groupsMapping)
			env.Create(samlMappingResource(mapping))
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
			want := tc.steps(t, env, r, cr, mapping)

			env.Get(cr)
			type conditions struct {
				Ready, Synced corev1.ConditionStatus
				Message       bool
			}
			got := conditions{cr.GetCondition(xpv2.TypeReady).Status, cr.GetCondition(xpv2.TypeSynced).Status, strings.Contains(cr.GetCondition(xpv2.TypeSynced).Message, tc.messageHas)}
			if diff := cmp.Diff(conditions{tc.ready, tc.synced, true}, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
			if want == nil {
				if n := len(providersNamed(t, env, providerName)); n != 0 {
					t.Errorf("%s\nAuthentik has %d providers, want none", tc.reason, n)
				}
				return
			}
			if diff := cmp.Diff(want, providerMappings(t, env)); diff != "" {
				t.Errorf("%s\nthe provider's mappings in Authentik: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestWaitsForPropertyMapping: a provider whose propertyMappingRefs name a
// SAMLPropertyMapping without a UUID yet waits, writing nothing, and is
// woken once the mapping has one.
func TestWaitsForPropertyMapping(t *testing.T) {
	t.Parallel()
	cr := samlProvider(withGroupsRef)
	env := mrtest.New(t, cr)
	mapping := authentikSAMLMapping(t, env, groupsMapping)
	pending := samlMappingResource("")
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
		if _, ok := d.Object.(*v1alpha1.SAMLPropertyMapping); ok && d.Value(pending) == mapping {
			names = append(names, d.Names(cr)...)
		}
	}
	if diff := cmp.Diff([]string{groupsMapping}, names); diff != "" {
		t.Errorf("the SAMLPropertyMapping dependency names the propertyMappingRefs and resolves to the UUID: -want, +got:\n%s", diff)
	}
	env.Settle(r, cr)
	if diff := cmp.Diff([]string{mapping}, providerMappings(t, env)); diff != "" {
		t.Errorf("the provider's mappings once the mapping has its UUID: -want, +got:\n%s", diff)
	}
}
