package scopemapping

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
	mappingName = "grafana: groups claim"
	scopeName   = "groups"
	description = "Your groups"
	// expression ends in a newline, as a YAML block scalar does; Authentik
	// stores it without.
	expression = "return {\"groups\": [g.name for g in request.user.ak_groups.all()]}\n"
	// foreign is an expression this resource never wrote.
	foreign = "return {\"groups\": [g.name for g in request.user.ak_groups.filter(is_superuser=True)]}"
)

func mapping(mods ...func(*v1alpha1.ScopeMapping)) *v1alpha1.ScopeMapping {
	return mrtest.Build(&v1alpha1.ScopeMapping{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "grafana-groups", UID: "6d1f2c3a-0000-4000-8000-000000000025"},
		Spec: v1alpha1.ScopeMappingSpec{
			ManagedResourceSpec: mrtest.Spec(),
			ForProvider: v1alpha1.ScopeMappingParameters{
				Name:        ptr.To(mappingName),
				ScopeName:   ptr.To(scopeName),
				Description: ptr.To(description),
				Expression:  ptr.To(expression),
			},
		},
	}, mods...)
}

func authentikMapping(t *testing.T, env *mrtest.Env, req api.ScopeMappingRequest) string {
	t.Helper()
	return mrtest.Must(env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderScopeCreate(context.Background()).ScopeMappingRequest(req).Execute())(t).Pk
}

func mappingsNamed(t *testing.T, env *mrtest.Env, name string) []api.ScopeMapping {
	t.Helper()
	return mrtest.Must(env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderScopeList(context.Background()).Name(name).Execute())(t).Results
}

func retrieve(env *mrtest.Env, id string) (*api.ScopeMapping, error) {
	return mrtest.Response(env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderScopeRetrieve(context.Background(), id).Execute())
}

// codeMarker is in every expression of these tests and in nothing else
// the provider says.
const codeMarker = "ak_groups"

// outcome summarises a resource and Authentik after a test's steps.
type outcome struct {
	Mappings      int
	Scope         string
	Description   string
	Expression    string
	Ready         corev1.ConditionStatus
	Synced        corev1.ConditionStatus
	SyncedMessage string
	ExternalName  bool
	PKMatches     bool
}

func observe(t *testing.T, env *mrtest.Env, cr *v1alpha1.ScopeMapping, messageHas string) outcome {
	t.Helper()
	s := env.Status(cr, messageHas)
	o := outcome{Ready: s.Ready, Synced: s.Synced, SyncedMessage: s.SyncedMessage, ExternalName: s.ExternalName != ""}
	ms := mappingsNamed(t, env, mappingName)
	o.Mappings = len(ms)
	if len(ms) == 1 {
		o.Scope = ms[0].ScopeName
		o.Description = ms[0].GetDescription()
		o.Expression = ms[0].Expression
		o.PKMatches = o.ExternalName && ms[0].Pk == meta.GetExternalName(cr) && ptr.Deref(cr.Status.AtProvider.PK, "") == ms[0].Pk
	}
	return o
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	settled := outcome{Mappings: 1, Scope: scopeName, Description: description, Expression: strings.TrimSpace(expression), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true}

	// The trailing newline of the expression, which Authentik trims, is no
	// drift in any case.
	cases := mrtest.Lifecycle[*v1alpha1.ScopeMapping, outcome]{
		Noun:     "scope mapping",
		Path:     "/propertymappings/provider/scope/",
		Resource: mapping,
		Settled:  settled,
		Drift: func(t *testing.T, env *mrtest.Env, cr *v1alpha1.ScopeMapping) {
			// Name, scope, description and expression are reported, without
			// the expressions.
			req := api.NewScopeMappingRequest("renamed", foreign, "roles")
			req.SetDescription("changed")
			if _, resp, err := env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderScopeUpdate(context.Background(), meta.GetExternalName(cr)).ScopeMappingRequest(*req).Execute(); authentik.Classify(resp, err) != nil {
				t.Fatal(err)
			}
			obs, err := mappings.External(env.Authentik).Observe(context.Background(), cr.DeepCopy())
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Join([]string{"renamed", "roles", "changed", otherExpression, specExpression}, "\n")
			if obs.ResourceUpToDate || !containsAll(obs.Diff, want) || strings.Contains(obs.Diff, codeMarker) {
				t.Errorf("Observe after drift: upToDate=%v diff=%q; want every field and that the expression differs, without it", obs.ResourceUpToDate, obs.Diff)
			}
		},
		Destroy: func(env *mrtest.Env, id string) error {
			resp, err := env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderScopeDestroy(context.Background(), id).Execute()
			return authentik.Classify(resp, err)
		},
		Retrieve: func(env *mrtest.Env, id string) error { _, err := retrieve(env, id); return err },
		Made: func(t *testing.T, env *mrtest.Env, cr *v1alpha1.ScopeMapping) {
			authentikMapping(t, env, request(cr.Spec.ForProvider))
		},
		Taken: func(t *testing.T, env *mrtest.Env) {
			authentikMapping(t, env, *api.NewScopeMappingRequest(mappingName, foreign, "roles"))
		},
		TakenOutcome: outcome{Mappings: 1, Scope: "roles", Expression: foreign, Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		// The message does not show the foreign expression.
		Foreign: func(t *testing.T, env *mrtest.Env) {
			req := api.NewScopeMappingRequest(mappingName, foreign, scopeName)
			req.SetDescription(description)
			authentikMapping(t, env, *req)
		},
		ForeignOutcome: outcome{Mappings: 1, Scope: scopeName, Description: description, Expression: foreign, Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse},
		CreateOp:       "propertymappings_provider_scope_create",
	}.Cases()
	cases["DescriptionLateInitialised"] = mrtest.Case[*v1alpha1.ScopeMapping, outcome]{
		Reason: "A spec without a description makes a mapping with Authentik's empty one, copied to the spec.",
		CR:     mapping(func(cr *v1alpha1.ScopeMapping) { cr.Spec.ForProvider.Description = nil }),
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ScopeMapping) {
			env.Settle(r, cr)
			if got := cr.Spec.ForProvider.Description; got == nil || *got != "" {
				t.Errorf("description not late-initialised to empty: %v", got)
			}
		},
		Want: outcome{Mappings: 1, Scope: scopeName, Expression: strings.TrimSpace(expression), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true},
	}
	cases["SpecChangeIsWritten"] = mrtest.Case[*v1alpha1.ScopeMapping, outcome]{
		Reason: "A new scope name in the spec is written to Authentik.",
		CR:     mapping(),
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ScopeMapping) {
			env.Settle(r, cr)
			cr.Spec.ForProvider.ScopeName = ptr.To("roles")
			if err := env.Kube.Update(context.Background(), cr); err != nil {
				t.Fatal(err)
			}
			env.Settle(r, cr)
		},
		Want: outcome{Mappings: 1, Scope: "roles", Description: description, Expression: strings.TrimSpace(expression), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true},
	}
	cases["BlankScopeNameNamesField"] = mrtest.Case[*v1alpha1.ScopeMapping, outcome]{
		Reason: "Authentik's refusal of a field is reported on the spec field that holds it.",
		CR:     mapping(func(cr *v1alpha1.ScopeMapping) { cr.Spec.ForProvider.ScopeName = ptr.To(" ") }),
		Steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ScopeMapping) {
			_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
		},
		MessageHas: "spec.forProvider.scopeName",
		Want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
	}
	mrtest.Runner[*v1alpha1.ScopeMapping, outcome]{
		Kind:    Kind,
		Options: fixture.Options,
		Observe: observe,
		Message: func(o *outcome) *string { return &o.SyncedMessage },
		Said: func(t *testing.T, s *mrtest.Said, cr *v1alpha1.ScopeMapping, reason string) {
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

func containsAll(msg, want string) bool {
	for _, w := range strings.Split(want, "\n") {
		if !strings.Contains(msg, w) {
			return false
		}
	}
	return true
}

func TestObserveOnlyImport(t *testing.T) {
	t.Parallel()
	env := mrtest.New(t)
	req := api.NewScopeMappingRequest("imported", foreign, "roles")
	req.SetDescription("Your roles")
	id := authentikMapping(t, env, *req)
	before, err := retrieve(env, id)
	if err != nil {
		t.Fatal(err)
	}

	cr := mapping(func(cr *v1alpha1.ScopeMapping) {
		cr.Name = "imported"
		cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
		cr.Spec.ForProvider = v1alpha1.ScopeMappingParameters{}
		meta.SetExternalName(cr, id)
	})
	r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
	mrtest.CheckObserveOnlyImport(env, r, cr, func() {
		if got := ptr.Deref(cr.Status.AtProvider.PK, ""); got != id {
			t.Errorf("status.atProvider.pk = %q, want %q", got, id)
		}
		want := v1alpha1.ScopeMappingParameters{Name: ptr.To("imported"), ScopeName: ptr.To("roles"), Description: ptr.To("Your roles"), Expression: ptr.To(foreign)}
		if diff := cmp.Diff(want, cr.Spec.ForProvider); diff != "" {
			t.Errorf("spec.forProvider not late-initialised: -want, +got:\n%s", diff)
		}
	}, before, func() (*api.ScopeMapping, error) { return retrieve(env, id) })
}

func TestBadExternalName(t *testing.T) {
	t.Parallel()
	mrtest.CheckBadExternalName(t, mappings.External(nil).Observe, mapping(func(cr *v1alpha1.ScopeMapping) { meta.SetExternalName(cr, "groups") }), errExternalName)
}

func TestDiff(t *testing.T) {
	t.Parallel()
	observed := v1alpha1.ScopeMappingParameters{
		Name:        ptr.To(mappingName),
		ScopeName:   ptr.To(scopeName),
		Description: ptr.To(description),
		Expression:  ptr.To(strings.TrimSpace(expression)),
	}
	cases := map[string]struct {
		reason string
		spec   v1alpha1.ScopeMappingParameters
		want   bool
	}{
		"UnsetFieldsAreNotManaged": {
			reason: "Fields the spec leaves unset never count as drift.",
			spec:   v1alpha1.ScopeMappingParameters{Name: ptr.To(mappingName)},
			want:   true,
		},
		"ExpressionComparedTrimmed": {
			reason: "Authentik trims the expression, so surrounding whitespace is no drift.",
			spec:   v1alpha1.ScopeMappingParameters{Expression: ptr.To("\n  " + expression + "\n\n")},
			want:   true,
		},
		"DescriptionComparedTrimmed": {
			reason: "Authentik trims the description too.",
			spec:   v1alpha1.ScopeMappingParameters{Description: ptr.To(description + "\n")},
			want:   true,
		},
		"OtherExpressionIsDrift": {
			reason: "Another expression is drift.",
			spec:   v1alpha1.ScopeMappingParameters{Expression: ptr.To(foreign)},
			want:   false,
		},
		"OtherScopeIsDrift": {
			reason: "Another scope name is drift.",
			spec:   v1alpha1.ScopeMappingParameters{ScopeName: ptr.To("roles")},
			want:   false,
		},
		"EmptyDescriptionIsDrift": {
			reason: "An empty description in the spec differs from a set one.",
			spec:   v1alpha1.ScopeMappingParameters{Description: ptr.To("")},
			want:   false,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := specDiff(tc.spec, observed)
			if got := d == ""; got != tc.want {
				t.Errorf("%s\nDiff(...) up to date = %v, want %v; diff:\n%s", tc.reason, got, tc.want, d)
			}
			if strings.Contains(d, codeMarker) {
				t.Errorf("%s\nthe diff shows an expression:\n%s", tc.reason, d)
			}
		})
	}
}
