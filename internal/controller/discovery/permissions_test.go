package discovery

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/test"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
)

// reviewer answers SelfSubjectAccessReviews: allowed unless the permission
// is in denied.
func reviewer(denied ...Permission) test.MockCreateFn {
	return func(_ context.Context, obj client.Object, _ ...client.CreateOption) error {
		r := obj.(*authzv1.SelfSubjectAccessReview) //nolint:forcetypeassert // Missing creates only reviews.
		a := r.Spec.ResourceAttributes
		p := Permission{Verb: a.Verb, Group: a.Group, Resource: a.Resource}
		r.Status.Allowed = true
		for _, d := range denied {
			if d == p {
				r.Status.Allowed = false
			}
		}
		return nil
	}
}

func TestMissing(t *testing.T) {
	errBoom := errors.New("boom")
	listIngresses := Permission{Verb: "list", Group: "networking.k8s.io", Resource: "ingresses"}
	cases := map[string]struct {
		reason  string
		create  test.MockCreateFn
		want    []Permission
		wantErr error
	}{
		"AllAllowed": {
			reason: "A provider with discovery-rbac.yaml's rules misses nothing.",
			create: reviewer(),
		},
		"ListDenied": {
			reason: "Without list on Ingresses, that permission is missing, and only that one.",
			create: reviewer(listIngresses),
			want:   []Permission{listIngresses},
		},
		"ReviewFails": {
			reason:  "A review the API server does not answer is an error, not a denial.",
			create:  test.NewMockCreateFn(errBoom),
			wantErr: errors.Wrapf(errBoom, "%s: may it %s", errReview, listIngresses),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Missing(context.Background(), &test.MockClient{MockCreate: tc.create}, Ingress.Permissions())
			if diff := cmp.Diff(tc.wantErr, err, test.EquateErrors()); diff != "" {
				t.Errorf("%s\nMissing(...): -want error, +got error:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nMissing(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestPermissionString(t *testing.T) {
	cases := map[string]struct {
		p    Permission
		want string
	}{
		"Core":    {p: Permission{Verb: "get", Resource: "services"}, want: "get services"},
		"Grouped": {p: Permission{Verb: "watch", Group: "gateway.networking.k8s.io", Resource: "httproutes"}, want: "watch httproutes.gateway.networking.k8s.io"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.p.String(); got != tc.want {
				t.Errorf("String(): want %q, got %q", tc.want, got)
			}
		})
	}
}

func TestDiscoveryCondition(t *testing.T) {
	cases := map[string]struct {
		reason string
		offs   []off
		want   xpv2.Condition
	}{
		"AllOn": {
			reason: "Every route kind may be read.",
			want: xpv2.Condition{Type: v1alpha1.TypeRouteDiscovery, Status: corev1.ConditionTrue, Reason: v1alpha1.ReasonDiscoveryPermitted,
				Message: "the provider may list and watch Ingresses and HTTPRoutes"},
		},
		"IngressOff": {
			reason: "The condition names the kind that stays off and each permission it lacks.",
			offs:   []off{{kind: "Ingress", missing: []Permission{{Verb: "list", Group: "networking.k8s.io", Resource: "ingresses"}}}},
			want: xpv2.Condition{Type: v1alpha1.TypeRouteDiscovery, Status: corev1.ConditionFalse, Reason: v1alpha1.ReasonPermissionMissing,
				Message: "Ingress discovery is off: the provider may not list ingresses.networking.k8s.io; " + rbacHint},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := discoveryCondition(tc.offs)
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(xpv2.Condition{}, "LastTransitionTime")); diff != "" {
				t.Errorf("%s\ndiscoveryCondition(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestStatusReconcile(t *testing.T) {
	errBoom := errors.New("boom")
	cond := discoveryCondition([]off{{kind: "Ingress", missing: Ingress.Permissions()}})
	withCond := func(obj client.Object) error {
		obj.(*v1alpha1.ClusterProviderConfig).SetConditions(cond) //nolint:forcetypeassert // the reconciler gets only configs.
		return nil
	}
	cases := map[string]struct {
		reason  string
		kube    *test.MockClient
		updated bool
		wantErr error
	}{
		"Records": {
			reason:  "A config without the condition gets it.",
			kube:    &test.MockClient{MockGet: test.NewMockGetFn(nil)},
			updated: true,
		},
		"AlreadyThere": {
			reason: "A config that has it is not written again.",
			kube:   &test.MockClient{MockGet: test.NewMockGetFn(nil, withCond)},
		},
		"Gone": {
			reason: "A deleted config is nothing to do.",
			kube:   &test.MockClient{MockGet: test.NewMockGetFn(kerrors.NewNotFound(schema.GroupResource{}, "default"))},
		},
		"UpdateFails": {
			reason:  "A failed write is returned, so the config is tried again.",
			kube:    &test.MockClient{MockGet: test.NewMockGetFn(nil), MockStatusUpdate: test.NewMockSubResourceUpdateFn(errBoom)},
			updated: true,
			wantErr: errors.Wrap(errBoom, errUpdateStatus),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			updated := false
			if tc.kube.MockStatusUpdate == nil {
				tc.kube.MockStatusUpdate = func(_ context.Context, obj client.Object, _ ...client.SubResourceUpdateOption) error {
					if got := obj.(*v1alpha1.ClusterProviderConfig).GetCondition(v1alpha1.TypeRouteDiscovery); !got.Equal(cond) { //nolint:forcetypeassert // see above
						t.Errorf("written condition %+v, want %+v", got, cond)
					}
					updated = true
					return nil
				}
			} else {
				f := tc.kube.MockStatusUpdate
				tc.kube.MockStatusUpdate = func(ctx context.Context, obj client.Object, o ...client.SubResourceUpdateOption) error {
					updated = true
					return f(ctx, obj, o...)
				}
			}
			r := &statusReconciler{kube: tc.kube, cond: cond}
			_, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Name: "default"}})
			if diff := cmp.Diff(tc.wantErr, err, test.EquateErrors()); diff != "" {
				t.Errorf("%s\nReconcile(...): -want error, +got error:\n%s", tc.reason, diff)
			}
			if updated != tc.updated {
				t.Errorf("%s\nstatus written: want %t, got %t", tc.reason, tc.updated, updated)
			}
		})
	}
}

func TestReconcileLogsAMissingPermission(t *testing.T) {
	forbidden := kerrors.NewForbidden(schema.GroupResource{Resource: "services"}, "jellyfin",
		errors.New(`User "system:serviceaccount:crossplane-system:provider-authentik" cannot get resource "services" in API group "" in the namespace "media"`))
	cases := map[string]struct {
		reason  string
		getErr  error
		wantLog []map[string]any
	}{
		"ServiceGetForbidden": {
			reason: "Without --debug nothing else logs a reconcile error, so the denied Service read is logged, naming the permission.",
			getErr: forbidden,
			wantLog: []map[string]any{{
				"msg": "Route discovery lacks a permission; " + rbacHint, "kind": "Ingress", "namespace": ns, "name": name,
				"error": "cannot get the backend Service media/jellyfin: " + forbidden.Error(),
			}},
		},
		"ServiceGetFails": {
			reason: "Another failure is left to the retry; it is no missing permission.",
			getErr: errors.New("connection refused"),
		},
	}
	for tn, tc := range cases {
		t.Run(tn, func(t *testing.T) {
			var logged []map[string]any
			log := logging.NewLogrLogger(funcr.NewJSON(func(obj string) {
				m := map[string]any{}
				if err := json.Unmarshal([]byte(obj), &m); err != nil {
					t.Fatal(err)
				}
				delete(m, "level")
				delete(m, "logger")
				logged = append(logged, m)
			}, funcr.Options{}))
			kube := fake.NewClientBuilder().WithScheme(scheme(t)).
				WithObjects(ingress(withAnnotations(annotationProxy, "true"), withRules(rule("jellyfin.example.com", "jellyfin", networkingv1.ServiceBackendPort{Name: "http"})))).
				WithInterceptorFuncs(interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
					if _, ok := obj.(*corev1.Service); ok {
						return tc.getErr
					}
					return c.Get(ctx, key, obj, opts...)
				}}).Build()
			rc := &Reconciler{kube: kube, reader: kube, route: Ingress, record: &events{}, log: log, retry: time.Minute}
			if _, err := rc.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}); err == nil {
				t.Errorf("%s\nReconcile(...): want the error back for a retry, got nil", tc.reason)
			}
			if diff := cmp.Diff(tc.wantLog, logged); diff != "" {
				t.Errorf("%s\nlog: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
