package v1alpha1

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reference"
	"github.com/crossplane/crossplane-runtime/v2/pkg/test"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

const refNamespace = "apps"

// standInKind is registered by the tests as a provider kind added later
// would register itself: Group plays it, with a pk as external name.
const standInKind = "Group"

func registerStandInKind(t *testing.T) {
	t.Helper()
	registerProviderKind(standInKind, func() reference.To { return reference.To{Managed: &Group{}, List: &GroupList{}} })
	t.Cleanup(func() { delete(providerKinds, standInKind) })
}

func proxyProviderWithPK(name, pk string) client.Object {
	pp := &ProxyProvider{ObjectMeta: metav1.ObjectMeta{Namespace: refNamespace, Name: name, Labels: map[string]string{"app": name}}}
	meta.SetExternalName(pp, pk)
	return pp
}

func samlProviderWithPK(name, pk string) client.Object {
	p := &SAMLProvider{ObjectMeta: metav1.ObjectMeta{Namespace: refNamespace, Name: name}}
	meta.SetExternalName(p, pk)
	return p
}

func standInWithPK(name, pk string) client.Object {
	g := &Group{ObjectMeta: metav1.ObjectMeta{Namespace: refNamespace, Name: name, Labels: map[string]string{"app": name}}}
	meta.SetExternalName(g, pk)
	return g
}

func providerRef(kind, name string) *ProviderReference {
	return &ProviderReference{Kind: kind, Reference: xpv2.Reference{Name: name}}
}

func kubeWith(t *testing.T, objs ...client.Object) client.Client {
	t.Helper()
	s := runtime.NewScheme()
	if err := SchemeBuilder.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
}

func unknownKind(field, kind string) error {
	return errors.Errorf(errUnknownProviderKind, field, kind, strings.Join(ProviderKinds(), ", "))
}

func TestProviderKinds(t *testing.T) {
	// ProxyProvider must stay registered: references without a kind name it.
	if !slices.Contains(ProviderKinds(), defaultProviderKind) {
		t.Errorf("registered provider kinds %v lack the default %s", ProviderKinds(), defaultProviderKind)
	}
}

func TestApplicationProviderReference(t *testing.T) {
	type want struct {
		fp  ApplicationParameters
		err error
	}
	cases := map[string]struct {
		reason  string
		standIn bool
		objs    []client.Object
		fp      ApplicationParameters
		want    want
	}{
		"NoKindIsProxyProvider": {
			reason: "A reference written before references named a kind still names a ProxyProvider.",
			objs:   []client.Object{proxyProviderWithPK("longhorn", "7")},
			fp:     ApplicationParameters{ProviderRef: providerRef("", "longhorn")},
			want:   want{fp: ApplicationParameters{Provider: ptr.To(int32(7)), ProviderRef: providerRef("", "longhorn")}},
		},
		"ProxyProviderByKind": {
			reason: "A reference that names the ProxyProvider kind resolves to its pk.",
			objs:   []client.Object{proxyProviderWithPK("longhorn", "7")},
			fp:     ApplicationParameters{Provider: ptr.To(int32(3)), ProviderRef: providerRef(ProxyProviderKind, "longhorn")},
			want:   want{fp: ApplicationParameters{Provider: ptr.To(int32(7)), ProviderRef: providerRef(ProxyProviderKind, "longhorn")}},
		},
		"SAMLProviderByKind": {
			reason: "A reference that names the SAMLProvider kind resolves to that provider's pk, not to a ProxyProvider of the same name.",
			objs:   []client.Object{proxyProviderWithPK("nextcloud", "7"), samlProviderWithPK("nextcloud", "9")},
			fp:     ApplicationParameters{ProviderRef: providerRef(SAMLProviderKind, "nextcloud")},
			want:   want{fp: ApplicationParameters{Provider: ptr.To(int32(9)), ProviderRef: providerRef(SAMLProviderKind, "nextcloud")}},
		},
		"RegisteredKind": {
			reason:  "A kind that registered itself resolves with no change to the Application: the registry is the only place that knows the kinds.",
			standIn: true,
			objs:    []client.Object{proxyProviderWithPK("longhorn", "7"), standInWithPK("longhorn", "12")},
			fp:      ApplicationParameters{ProviderRef: providerRef(standInKind, "longhorn")},
			want:    want{fp: ApplicationParameters{Provider: ptr.To(int32(12)), ProviderRef: providerRef(standInKind, "longhorn")}},
		},
		"UnknownKindRefused": {
			reason: "A kind nobody registered is refused, naming the field and the kinds there are.",
			objs:   []client.Object{proxyProviderWithPK("longhorn", "7")},
			fp:     ApplicationParameters{ProviderRef: providerRef("RadiusProvider", "longhorn")},
			want:   want{err: unknownKind("spec.forProvider.providerRef", "RadiusProvider")},
		},
		"SelectorOfUnknownKindRefused": {
			reason: "A selector of an unknown kind is refused, naming the selector.",
			fp:     ApplicationParameters{ProviderSelector: &ProviderSelector{Kind: "RadiusProvider", Selector: xpv2.Selector{MatchLabels: map[string]string{"app": "longhorn"}}}},
			want:   want{err: unknownKind("spec.forProvider.providerSelector", "RadiusProvider")},
		},
		"SelectorFillsReferenceOfItsKind": {
			reason:  "A selector picks a provider of its kind and records a reference that names the kind.",
			standIn: true,
			objs:    []client.Object{proxyProviderWithPK("longhorn", "7"), standInWithPK("grafana", "12")},
			fp:      ApplicationParameters{ProviderSelector: &ProviderSelector{Kind: standInKind, Selector: xpv2.Selector{MatchLabels: map[string]string{"app": "grafana"}}}},
			want: want{fp: ApplicationParameters{
				Provider:         ptr.To(int32(12)),
				ProviderRef:      providerRef(standInKind, "grafana"),
				ProviderSelector: &ProviderSelector{Kind: standInKind, Selector: xpv2.Selector{MatchLabels: map[string]string{"app": "grafana"}}},
			}},
		},
		"SelectorKeepsASetProvider": {
			reason: "A selector only fills an empty provider.",
			objs:   []client.Object{proxyProviderWithPK("longhorn", "7")},
			fp:     ApplicationParameters{Provider: ptr.To(int32(3)), ProviderSelector: &ProviderSelector{Selector: xpv2.Selector{MatchLabels: map[string]string{"app": "longhorn"}}}},
			want:   want{fp: ApplicationParameters{Provider: ptr.To(int32(3)), ProviderSelector: &ProviderSelector{Selector: xpv2.Selector{MatchLabels: map[string]string{"app": "longhorn"}}}}},
		},
		"ExternalNameNotAPK": {
			reason: "A provider whose external name is no pk is refused, naming the reference and the kind.",
			objs:   []client.Object{proxyProviderWithPK("longhorn", "abc")},
			fp:     ApplicationParameters{ProviderRef: providerRef("", "longhorn")},
			want:   want{err: errors.Errorf(errProviderNotPK, "spec.forProvider.providerRef", "ProxyProvider", "abc")},
		},
		"OptionalMissingKeepsProvider": {
			reason: "An optional reference to a provider that does not exist leaves the provider as it is.",
			fp: ApplicationParameters{Provider: ptr.To(int32(3)), ProviderRef: &ProviderReference{Reference: xpv2.Reference{
				Name: "missing", Policy: &xpv2.Policy{Resolution: ptr.To(xpv2.ResolutionPolicyOptional)},
			}}},
			want: want{fp: ApplicationParameters{Provider: ptr.To(int32(3)), ProviderRef: &ProviderReference{Reference: xpv2.Reference{
				Name: "missing", Policy: &xpv2.Policy{Resolution: ptr.To(xpv2.ResolutionPolicyOptional)},
			}}}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if tc.standIn {
				registerStandInKind(t)
			}
			mg := &Application{ObjectMeta: metav1.ObjectMeta{Namespace: refNamespace, Name: "app"}, Spec: ApplicationSpec{ForProvider: tc.fp}}
			err := mg.ResolveReferences(context.Background(), kubeWith(t, tc.objs...))
			if diff := cmp.Diff(tc.want.err, err, test.EquateErrors()); diff != "" {
				t.Fatalf("%s\nerror: -want, +got:\n%s", tc.reason, diff)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tc.want.fp, mg.Spec.ForProvider); diff != "" {
				t.Errorf("%s\nspec.forProvider: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestOutpostBindingProviderReference(t *testing.T) {
	cases := map[string]struct {
		reason  string
		standIn bool
		fp      OutpostBindingParameters
		want    *int32
		wantErr error
	}{
		"NoKindIsProxyProvider": {
			reason: "A reference without a kind names a ProxyProvider.",
			fp:     OutpostBindingParameters{ProviderRef: providerRef("", "longhorn")},
			want:   ptr.To(int32(7)),
		},
		"RegisteredKind": {
			reason:  "A kind that registered itself resolves with no change to the OutpostBinding.",
			standIn: true,
			fp:      OutpostBindingParameters{ProviderRef: providerRef(standInKind, "longhorn")},
			want:    ptr.To(int32(12)),
		},
		"UnknownKindRefused": {
			reason:  "A kind nobody registered is refused, naming the field.",
			fp:      OutpostBindingParameters{ProviderRef: providerRef("RadiusProvider", "longhorn")},
			wantErr: unknownKind("spec.forProvider.providerRef", "RadiusProvider"),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if tc.standIn {
				registerStandInKind(t)
			}
			mg := &OutpostBinding{ObjectMeta: metav1.ObjectMeta{Namespace: refNamespace, Name: "b"}, Spec: OutpostBindingSpec{ForProvider: tc.fp}}
			err := mg.ResolveReferences(context.Background(), kubeWith(t, proxyProviderWithPK("longhorn", "7"), standInWithPK("longhorn", "12")))
			if diff := cmp.Diff(tc.wantErr, err, test.EquateErrors()); diff != "" {
				t.Fatalf("%s\nerror: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.want, mg.Spec.ForProvider.ProviderID); err == nil && diff != "" {
				t.Errorf("%s\nspec.forProvider.providerId: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestOutpostProviderReferences(t *testing.T) {
	type want struct {
		ids  []int32
		refs []ProviderReference
		err  error
	}
	cases := map[string]struct {
		reason  string
		standIn bool
		fp      OutpostParameters
		want    want
	}{
		"KindsMixed": {
			reason:  "References of different kinds each resolve through their own kind.",
			standIn: true,
			fp:      OutpostParameters{ProviderRefs: []ProviderReference{*providerRef("", "longhorn"), *providerRef(standInKind, "grafana")}},
			want:    want{ids: []int32{7, 12}, refs: []ProviderReference{*providerRef("", "longhorn"), *providerRef(standInKind, "grafana")}},
		},
		"UnknownKindNamesTheEntry": {
			reason: "A kind nobody registered is refused, naming the list entry.",
			fp:     OutpostParameters{ProviderRefs: []ProviderReference{*providerRef("", "longhorn"), *providerRef("RadiusProvider", "grafana")}},
			want:   want{err: unknownKind("spec.forProvider.providerRefs[1]", "RadiusProvider")},
		},
		"OneProviderTwice": {
			reason: "Two references to one provider give one pk: providerIds is a set.",
			fp:     OutpostParameters{ProviderRefs: []ProviderReference{*providerRef("", "longhorn"), *providerRef(ProxyProviderKind, "longhorn")}},
			want:   want{ids: []int32{7}, refs: []ProviderReference{*providerRef("", "longhorn"), *providerRef(ProxyProviderKind, "longhorn")}},
		},
		"SelectorOfAKind": {
			reason:  "A selector picks providers of its kind only.",
			standIn: true,
			fp:      OutpostParameters{ProviderSelector: &ProviderSelector{Kind: standInKind, Selector: xpv2.Selector{MatchLabels: map[string]string{"tier": "apps"}}}},
			want:    want{ids: []int32{12}, refs: []ProviderReference{{Kind: standInKind, Reference: xpv2.Reference{Name: "grafana"}}}},
		},
		"SelectorOfUnknownKindRefused": {
			reason: "A selector of an unknown kind is refused, naming the selector.",
			fp:     OutpostParameters{ProviderSelector: &ProviderSelector{Kind: "RadiusProvider"}},
			want:   want{err: unknownKind("spec.forProvider.providerSelector", "RadiusProvider")},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if tc.standIn {
				registerStandInKind(t)
			}
			longhorn := proxyProviderWithPK("longhorn", "7")
			grafana := standInWithPK("grafana", "12")
			longhorn.SetLabels(map[string]string{"tier": "apps"})
			grafana.SetLabels(map[string]string{"tier": "apps"})
			mg := &Outpost{ObjectMeta: metav1.ObjectMeta{Namespace: refNamespace, Name: "o"}, Spec: OutpostSpec{ForProvider: tc.fp}}
			err := mg.ResolveReferences(context.Background(), kubeWith(t, longhorn, grafana))
			if diff := cmp.Diff(tc.want.err, err, test.EquateErrors()); diff != "" {
				t.Fatalf("%s\nerror: -want, +got:\n%s", tc.reason, diff)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tc.want.ids, mg.Spec.ForProvider.ProviderIDs); diff != "" {
				t.Errorf("%s\nspec.forProvider.providerIds: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.want.refs, mg.Spec.ForProvider.ProviderRefs); diff != "" {
				t.Errorf("%s\nspec.forProvider.providerRefs: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
