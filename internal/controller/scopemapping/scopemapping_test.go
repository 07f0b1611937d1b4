package scopemapping

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
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
	cr := &v1alpha1.ScopeMapping{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "grafana-groups", UID: "6d1f2c3a-0000-4000-8000-000000000025"},
		Spec: v1alpha1.ScopeMappingSpec{
			ManagedResourceSpec: xpv2.ManagedResourceSpec{
				ProviderConfigReference: &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: mrtest.ConfigName},
				ManagementPolicies:      xpv2.ManagementPolicies{xpv2.ManagementActionAll},
			},
			ForProvider: v1alpha1.ScopeMappingParameters{
				Name:        ptr.To(mappingName),
				ScopeName:   ptr.To(scopeName),
				Description: ptr.To(description),
				Expression:  ptr.To(expression),
			},
		},
	}
	for _, m := range mods {
		m(cr)
	}
	return cr
}

func authentikMapping(t *testing.T, env *mrtest.Env, req api.ScopeMappingRequest) string {
	t.Helper()
	m, resp, err := env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderScopeCreate(context.Background()).ScopeMappingRequest(req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return m.Pk
}

func mappingsNamed(t *testing.T, env *mrtest.Env, name string) []api.ScopeMapping {
	t.Helper()
	l, resp, err := env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderScopeList(context.Background()).Name(name).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return l.Results
}

func retrieve(env *mrtest.Env, id string) (*api.ScopeMapping, error) {
	m, resp, err := env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderScopeRetrieve(context.Background(), id).Execute()
	return m, authentik.Classify(resp, err)
}

func keyOf(cr *v1alpha1.ScopeMapping) types.NamespacedName {
	return types.NamespacedName{Namespace: cr.Namespace, Name: cr.Name}
}

// said records every log line and event of a reconciler, to show that no
// expression is ever in one.
type said struct {
	mu    sync.Mutex
	lines []string
}

func (s *said) add(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, line)
}

func (s *said) Event(_ runtime.Object, e event.Event) {
	s.add(fmt.Sprintf("event %s %s: %s", e.Type, e.Reason, e.Message))
}

func (s *said) WithAnnotations(...string) event.Recorder { return s }

func (s *said) logger() logging.Logger {
	return logging.NewLogrLogger(funcr.New(func(prefix, args string) { s.add(prefix + " " + args) }, funcr.Options{Verbosity: 1}))
}

// codeMarker is in every expression of these tests and in nothing else
// the provider says.
const codeMarker = "ak_groups"

// leaks is every line said that holds an expression.
func (s *said) leaks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range s.lines {
		if strings.Contains(l, codeMarker) {
			out = append(out, l)
		}
	}
	return out
}

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
	o := outcome{}
	if err := env.Kube.Get(context.Background(), keyOf(cr), cr); err == nil {
		o.Ready = cr.GetCondition(xpv2.TypeReady).Status
		o.Synced = cr.GetCondition(xpv2.TypeSynced).Status
		o.ExternalName = meta.GetExternalName(cr) != ""
		if messageHas != "" && strings.Contains(cr.GetCondition(xpv2.TypeSynced).Message, messageHas) {
			o.SyncedMessage = messageHas
		}
	}
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

	cases := map[string]struct {
		reason     string
		cr         *v1alpha1.ScopeMapping
		steps      func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ScopeMapping)
		messageHas string
		want       outcome
	}{
		"CreateRecordsUUID": {
			reason: "A new resource makes a mapping whose UUID becomes the external name; the trailing newline Authentik trims is no drift.",
			cr:     mapping(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ScopeMapping) {
				env.Settle(r, cr)
			},
			want: settled,
		},
		"DescriptionLateInitialised": {
			reason: "A spec without a description makes a mapping with Authentik's empty one, copied to the spec.",
			cr:     mapping(func(cr *v1alpha1.ScopeMapping) { cr.Spec.ForProvider.Description = nil }),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ScopeMapping) {
				env.Settle(r, cr)
				if got := cr.Spec.ForProvider.Description; got == nil || *got != "" {
					t.Errorf("description not late-initialised to empty: %v", got)
				}
			},
			want: outcome{Mappings: 1, Scope: scopeName, Expression: strings.TrimSpace(expression), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true},
		},
		"DriftIsReverted": {
			reason: "Name, scope, description and expression changed in Authentik are reported as drift, without the expressions, and restored.",
			cr:     mapping(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ScopeMapping) {
				env.Settle(r, cr)
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
				env.PassReadAge()
				env.Settle(r, cr)
			},
			want: settled,
		},
		"SpecChangeIsWritten": {
			reason: "A new scope name in the spec is written to Authentik.",
			cr:     mapping(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ScopeMapping) {
				env.Settle(r, cr)
				cr.Spec.ForProvider.ScopeName = ptr.To("roles")
				if err := env.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				env.Settle(r, cr)
			},
			want: outcome{Mappings: 1, Scope: "roles", Description: description, Expression: strings.TrimSpace(expression), Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, ExternalName: true, PKMatches: true},
		},
		"DeletedBehindBackIsRecreated": {
			reason: "A mapping deleted in Authentik is made again and the new UUID recorded.",
			cr:     mapping(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ScopeMapping) {
				env.Settle(r, cr)
				old := meta.GetExternalName(cr)
				if resp, err := env.Authentik.API.PropertymappingsAPI.PropertymappingsProviderScopeDestroy(context.Background(), old).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(err)
				}
				env.BackdateCreate(cr)
				env.PassReadAge()
				env.Settle(r, cr)
				if meta.GetExternalName(cr) == old {
					t.Errorf("external name still names the deleted mapping %s", old)
				}
			},
			want: settled,
		},
		"DeleteRemovesMapping": {
			reason: "Deleting the resource deletes the mapping in Authentik, then the resource.",
			cr:     mapping(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ScopeMapping) {
				env.Settle(r, cr)
				id := meta.GetExternalName(cr)
				env.BackdateCreate(cr)
				env.Delete(cr)
				env.SettleDeletion(r, cr)
				if _, err := retrieve(env, id); !authentik.IsNotFound(err) {
					t.Errorf("mapping %s after delete: want not found, got %v", id, err)
				}
			},
			want: outcome{},
		},
		"NameTakenIsRefused": {
			reason: "A resource that never sent a create does not take over an existing mapping of the same name, and says how to consent.",
			cr:     mapping(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ScopeMapping) {
				authentikMapping(t, env, *api.NewScopeMappingRequest(mappingName, foreign, "roles"))
				for range 3 {
					_, _ = env.Reconcile(r, keyOf(cr))
				}
			},
			messageHas: mrtest.RefusedTakeover,
			want:       outcome{Mappings: 1, Scope: "roles", Expression: foreign, Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
		"CrashAfterCreateAdopts": {
			reason: "A create that succeeded before the UUID was recorded is adopted, not duplicated and not stuck.",
			cr: mapping(func(cr *v1alpha1.ScopeMapping) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ScopeMapping) {
				authentikMapping(t, env, request(cr.Spec.ForProvider))
				env.Settle(r, cr)
			},
			want: settled,
		},
		"CrashBeforeCreateCreates": {
			reason: "A create that never reached Authentik runs again.",
			cr: mapping(func(cr *v1alpha1.ScopeMapping) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ScopeMapping) {
				env.Settle(r, cr)
			},
			want: settled,
		},
		"CrashWithForeignMappingRefuses": {
			reason: "After a crash, a mapping of the same name with another expression is neither adopted nor changed, and the message does not show the expression.",
			cr: mapping(func(cr *v1alpha1.ScopeMapping) {
				meta.SetExternalCreatePending(cr, time.Now().Add(-time.Minute))
			}),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ScopeMapping) {
				req := api.NewScopeMappingRequest(mappingName, foreign, scopeName)
				req.SetDescription(description)
				authentikMapping(t, env, *req)
				_, _ = env.Reconcile(r, keyOf(cr))
			},
			messageHas: "differs from this resource",
			want:       outcome{Mappings: 1, Scope: scopeName, Description: description, Expression: foreign, Ready: corev1.ConditionUnknown, Synced: corev1.ConditionFalse},
		},
		"LostCreateAnswerAdopts": {
			reason: "A create whose answer was lost after Authentik made the mapping is adopted on the next reconcile.",
			cr:     mapping(),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ScopeMapping) {
				env.CheckLostCreateAdopted(r, cr, "propertymappings_provider_scope_create")
			},
			want: settled,
		},
		"BlankScopeNameNamesField": {
			reason: "Authentik's refusal of a field is reported on the spec field that holds it.",
			cr:     mapping(func(cr *v1alpha1.ScopeMapping) { cr.Spec.ForProvider.ScopeName = ptr.To(" ") }),
			steps: func(t *testing.T, env *mrtest.Env, r *managed.Reconciler, cr *v1alpha1.ScopeMapping) {
				_, _ = env.Reconcile(r, keyOf(cr))
			},
			messageHas: "spec.forProvider.scopeName",
			want:       outcome{Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t, tc.cr)
			s := &said{}
			opts := append(ReconcilerOptions(env.Kube, env.Connector), managed.WithLogger(s.logger()), managed.WithRecorder(s))
			r := env.Reconciler(Kind, opts...)
			cr := tc.cr.DeepCopy()
			tc.steps(t, env, r, cr)
			want := tc.want
			want.SyncedMessage = tc.messageHas
			got := observe(t, env, cr, tc.messageHas)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
			if len(s.lines) == 0 {
				t.Fatal("the reconciler said nothing: the leak check would pass for want of lines")
			}
			if leaks := s.leaks(); len(leaks) > 0 {
				t.Errorf("%s\nan expression is in a log line or event:\n%s", tc.reason, strings.Join(leaks, "\n"))
			}
			for _, c := range cr.Status.Conditions {
				if strings.Contains(c.Message, codeMarker) {
					t.Errorf("%s\nan expression is in condition %s: %s", tc.reason, c.Type, c.Message)
				}
			}
		})
	}
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
	cr := mapping(func(cr *v1alpha1.ScopeMapping) { meta.SetExternalName(cr, "groups") })
	_, err := mappings.External(nil).Observe(context.Background(), cr)
	if err == nil || !strings.Contains(err.Error(), errExternalName) {
		t.Errorf("Observe with an external name that is not a UUID: error %v", err)
	}
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
