package samlpropertymapping

import (
	"context"
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
	mappingName  = "nextcloud: groups"
	samlName     = "http://schemas.xmlsoap.org/claims/Group"
	friendlyName = "Groups"
	// expression ends in a newline, as a YAML block scalar does; Authentik
	// stores it without.
	expression = "return [g.name for g in request.user.ak_groups.all()]\n"
	// foreign is an expression this resource never wrote.
	foreign = "return [g.name for g in request.user.ak_groups.filter(is_superuser=True)]"
)

func mapping(mods ...func(*v1alpha1.SAMLPropertyMapping)) *v1alpha1.SAMLPropertyMapping {
	return mrtest.Build(&v1alpha1.SAMLPropertyMapping{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "nextcloud-groups", UID: "6d1f2c3a-0000-4000-8000-000000000026"},
		Spec: v1alpha1.SAMLPropertyMappingSpec{
			ManagedResourceSpec: mrtest.Spec(),
			ForProvider: v1alpha1.SAMLPropertyMappingParameters{
				Name:         ptr.To(mappingName),
				SAMLName:     ptr.To(samlName),
				FriendlyName: ptr.To(friendlyName),
				Expression:   ptr.To(expression),
			},
		},
	}, mods...)
}

func authentikMapping(t *testing.T, env *mrtest.Env, req api.SAMLPropertyMappingRequest) string {
	t.Helper()
	return mrtest.Must(env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderSamlCreate(context.Background()).SAMLPropertyMappingRequest(req).Execute())(t).Pk
}

func mappingsNamed(t *testing.T, env *mrtest.Env, name string) []api.SAMLPropertyMapping {
	t.Helper()
	return mrtest.Must(env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderSamlList(context.Background()).Name(name).Execute())(t).Results
}

func retrieve(env *mrtest.Env, id string) (*api.SAMLPropertyMapping, error) {
	return mrtest.Response(env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderSamlRetrieve(context.Background(), id).Execute())
}

// codeMarker is in every expression of these tests and in nothing else
// the provider says.
const codeMarker = "ak_groups"

// outcome summarises a resource and Authentik after a test's steps.
type outcome struct {
	Mappings      int
	SAMLName      string
	FriendlyName  string
	Expression    string
	Ready         corev1.ConditionStatus
	Synced        corev1.ConditionStatus
	SyncedMessage string
	ExternalName  bool
	PKMatches     bool
}

func observe(t *testing.T, env *mrtest.Env, cr *v1alpha1.SAMLPropertyMapping, messageHas string) outcome {
	t.Helper()
	s := env.Status(cr, messageHas)
	o := outcome{Ready: s.Ready, Synced: s.Synced, SyncedMessage: s.SyncedMessage, ExternalName: s.ExternalName != ""}
	ms := mappingsNamed(t, env, mappingName)
	o.Mappings = len(ms)
	if len(ms) == 1 {
		o.SAMLName = ms[0].SamlName
		o.FriendlyName = ms[0].GetFriendlyName()
		o.Expression = ms[0].Expression
		o.PKMatches = o.ExternalName && ms[0].Pk == meta.GetExternalName(cr) && ptr.Deref(cr.Status.AtProvider.PK, "") == ms[0].Pk
	}
	return o
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	settled := outcome{Mappings: 1, SAMLName: samlName, FriendlyName: friendlyName, Expression: strings.TrimSpace(expression), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true}

	// The trailing newline of the expression, which Authentik trims, is no
	// drift in any case.
	cases := mrtest.Lifecycle[*v1alpha1.SAMLPropertyMapping, outcome]{
		Noun:     "SAML property mapping",
		Path:     "/propertymappings/provider/saml/",
		Resource: mapping,
		Settled:  settled,
		Drift: func(t *testing.T, env *mrtest.Env, cr *v1alpha1.SAMLPropertyMapping) {
			// Name, SAML name, friendly name and expression are reported,
			// without the expressions.
			req := api.NewSAMLPropertyMappingRequest("renamed", foreign, "memberOf")
			req.SetFriendlyName("changed")
			if _, resp, err := env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderSamlUpdate(context.Background(), meta.GetExternalName(cr)).SAMLPropertyMappingRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
				t.Fatal(err)
			}
			obs, err := mappings.External(env.Authentik).Observe(context.Background(), cr.DeepCopy())
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"renamed", "memberOf", "changed", otherExpression, specExpression}
			if obs.ResourceUpToDate || !containsAll(obs.Diff, want) || strings.Contains(obs.Diff, codeMarker) {
				t.Errorf("Observe after drift: upToDate=%v diff=%q; want every field and that the expression differs, without it", obs.ResourceUpToDate, obs.Diff)
			}
		},
		Destroy: func(env *mrtest.Env, id string) error {
			resp, err := env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderSamlDestroy(context.Background(), id).Execute()
			return authentik.Classify(resp, err)
		},
		Retrieve: func(env *mrtest.Env, id string) error { _, err := retrieve(env, id); return err },
		Made: func(t *testing.T, env *mrtest.Env, cr *v1alpha1.SAMLPropertyMapping) {
			authentikMapping(t, env, request(cr.Spec.ForProvider))
		},
		Taken: func(t *testing.T, env *mrtest.Env) {
			authentikMapping(t, env, *api.NewSAMLPropertyMappingRequest(mappingName, foreign, "memberOf"))
		},
		TakenOutcome: outcome{Mappings: 1, SAMLName: "memberOf", Expression: foreign, Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		// The message does not show the foreign expression.
		Foreign: func(t *testing.T, env *mrtest.Env) {
			req := api.NewSAMLPropertyMappingRequest(mappingName, foreign, samlName)
			req.SetFriendlyName(friendlyName)
			authentikMapping(t, env, *req)
		},
		ForeignOutcome: outcome{Mappings: 1, SAMLName: samlName, FriendlyName: friendlyName, Expression: foreign, Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse},
		CreateOp:       "propertymappings_provider_saml_create",
	}.Cases()
	cases["FriendlyNameLateInitialised"] = mrtest.Case[*v1alpha1.SAMLPropertyMapping, outcome]{
		Reason: "A spec without a friendly name makes a mapping without one, copied to the spec as empty.",
		CR:     mapping(func(cr *v1alpha1.SAMLPropertyMapping) { cr.Spec.ForProvider.FriendlyName = nil }),
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.SAMLPropertyMapping) {
			env.Settle(r, cr)
			if got := cr.Spec.ForProvider.FriendlyName; got == nil || *got != "" {
				t.Errorf("friendly name not late-initialised to empty: %v", got)
			}
		},
		Want: outcome{Mappings: 1, SAMLName: samlName, Expression: strings.TrimSpace(expression), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true},
	}
	cases["SpecChangeIsWritten"] = mrtest.Case[*v1alpha1.SAMLPropertyMapping, outcome]{
		Reason: "A new SAML name in the spec is written to Authentik.",
		CR:     mapping(),
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.SAMLPropertyMapping) {
			env.Settle(r, cr)
			cr.Spec.ForProvider.SAMLName = ptr.To("memberOf")
			if err := env.Kube.Update(context.Background(), cr); err != nil {
				t.Fatal(err)
			}
			env.Settle(r, cr)
		},
		Want: outcome{Mappings: 1, SAMLName: "memberOf", FriendlyName: friendlyName, Expression: strings.TrimSpace(expression), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true},
	}
	cases["BlankSAMLNameNamesField"] = mrtest.Case[*v1alpha1.SAMLPropertyMapping, outcome]{
		Reason: "Authentik's refusal of a field is reported on the spec field that holds it.",
		CR:     mapping(func(cr *v1alpha1.SAMLPropertyMapping) { cr.Spec.ForProvider.SAMLName = ptr.To(" ") }),
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.SAMLPropertyMapping) {
			_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
		},
		MessageHas: "spec.forProvider.samlName",
		Want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
	}
	cases["NameOfScopeMappingNamesField"] = mrtest.Case[*v1alpha1.SAMLPropertyMapping, outcome]{
		Reason: "A scope mapping with the name is not listed as a SAML mapping and never taken over; Authentik's refusal names spec.forProvider.name.",
		CR:     mapping(func(cr *v1alpha1.SAMLPropertyMapping) { cr.Spec.AdoptExisting = true }),
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.SAMLPropertyMapping) {
			if _, resp, err := env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderScopeCreate(context.Background()).ScopeMappingRequest(*api.NewScopeMappingRequest(mappingName, foreign, "groups")).Execute(); authentik.Classify(resp, err) != nil {
				t.Fatal(err)
			}
			_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
		},
		MessageHas: "spec.forProvider.name",
		Want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
	}
	mrtest.Runner[*v1alpha1.SAMLPropertyMapping, outcome]{
		Kind:    Kind,
		Options: fixture.Options,
		Observe: observe,
		Message: func(o *outcome) *string { return &o.SyncedMessage },
		Said: func(t *testing.T, s *mrtest.Said, cr *v1alpha1.SAMLPropertyMapping, reason string) {
			var conditions []string
			for _, c := range cr.Status.Conditions {
				conditions = append(conditions, c.Message)
			}
			if leaks := s.Lines(conditions, codeMarker); len(leaks) > 0 {
				t.Errorf("%s\nan expression is in a log line, event or condition:\n%s", reason, strings.Join(leaks, "\n"))
			}
		},
	}.Run(t, cases)
}

func containsAll(msg string, want []string) bool {
	for _, w := range want {
		if !strings.Contains(msg, w) {
			return false
		}
	}
	return true
}

func TestObserveOnlyImport(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	req := api.NewSAMLPropertyMappingRequest("imported", foreign, "memberOf")
	req.SetFriendlyName("Admin groups")
	id := authentikMapping(t, env, *req)
	before, err := retrieve(env, id)
	if err != nil {
		t.Fatal(err)
	}

	cr := mapping(func(cr *v1alpha1.SAMLPropertyMapping) {
		cr.Name = "imported"
		cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
		cr.Spec.ForProvider = v1alpha1.SAMLPropertyMappingParameters{}
		meta.SetExternalName(cr, id)
	})
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	mrtest.CheckObserveOnlyImport(env, r, cr, func() {
		if got := ptr.Deref(cr.Status.AtProvider.PK, ""); got != id {
			t.Errorf("status.atProvider.pk = %q, want %q", got, id)
		}
		want := v1alpha1.SAMLPropertyMappingParameters{Name: ptr.To("imported"), SAMLName: ptr.To("memberOf"), FriendlyName: ptr.To("Admin groups"), Expression: ptr.To(foreign)}
		if diff := cmp.Diff(want, cr.Spec.ForProvider); diff != "" {
			t.Errorf("spec.forProvider not late-initialised: -want, +got:\n%s", diff)
		}
	}, before, func() (*api.SAMLPropertyMapping, error) { return retrieve(env, id) })
}

func TestBadExternalName(t *testing.T) {
	t.Parallel()
	cr := mapping(func(cr *v1alpha1.SAMLPropertyMapping) { meta.SetExternalName(cr, "groups") })
	_, err := mappings.External(nil).Observe(context.Background(), cr)
	if err == nil || !strings.Contains(err.Error(), errExternalName) {
		t.Errorf("Observe with an external name that is not a UUID: error %v", err)
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	observed := v1alpha1.SAMLPropertyMappingParameters{
		Name:         ptr.To(mappingName),
		SAMLName:     ptr.To(samlName),
		FriendlyName: ptr.To(friendlyName),
		Expression:   ptr.To(strings.TrimSpace(expression)),
	}
	cases := map[string]struct {
		reason   string
		spec     v1alpha1.SAMLPropertyMappingParameters
		observed *v1alpha1.SAMLPropertyMappingParameters
		want     bool
	}{
		"UnsetFieldsAreNotManaged": {
			reason: "Fields the spec leaves unset never count as drift.",
			spec:   v1alpha1.SAMLPropertyMappingParameters{Name: ptr.To(mappingName)},
			want:   true,
		},
		"ExpressionComparedTrimmed": {
			reason: "Authentik trims the expression, so surrounding whitespace is no drift.",
			spec:   v1alpha1.SAMLPropertyMappingParameters{Expression: ptr.To("\n  " + expression + "\n\n")},
			want:   true,
		},
		"OtherExpressionIsDrift": {
			reason: "Another expression is drift.",
			spec:   v1alpha1.SAMLPropertyMappingParameters{Expression: ptr.To(foreign)},
			want:   false,
		},
		"OtherSAMLNameIsDrift": {
			reason: "Another SAML name is drift.",
			spec:   v1alpha1.SAMLPropertyMappingParameters{SAMLName: ptr.To("memberOf")},
			want:   false,
		},
		"EmptyFriendlyNameIsDrift": {
			reason: "An empty friendly name in the spec differs from a set one.",
			spec:   v1alpha1.SAMLPropertyMappingParameters{FriendlyName: ptr.To("")},
			want:   false,
		},
		"EmptyFriendlyNameIsNull": {
			reason: "An empty friendly name in the spec matches Authentik's null: neither gives the attribute one.",
			spec:   v1alpha1.SAMLPropertyMappingParameters{FriendlyName: ptr.To("")},
			observed: &v1alpha1.SAMLPropertyMappingParameters{
				Name: observed.Name, SAMLName: observed.SAMLName, Expression: observed.Expression,
			},
			want: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			obs := observed
			if tc.observed != nil {
				obs = *tc.observed
			}
			d := specDiff(tc.spec, obs)
			if got := d == ""; got != tc.want {
				t.Errorf("%s\nDiff(...) up to date = %v, want %v; diff:\n%s", tc.reason, got, tc.want, d)
			}
			if strings.Contains(d, codeMarker) {
				t.Errorf("%s\nthe diff shows an expression:\n%s", tc.reason, d)
			}
		})
	}
}
