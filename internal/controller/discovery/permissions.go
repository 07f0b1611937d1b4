package discovery

import (
	"context"
	"fmt"
	"strings"

	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
)

const (
	errReview       = "cannot ask the API server what the provider may do"
	errGetConfig    = "cannot get the ClusterProviderConfig"
	errUpdateStatus = "cannot record route discovery in the ClusterProviderConfig's status"

	// rbacHint says where the permissions discovery needs are written down.
	rbacHint = "grant it as examples/gitops/infrastructure/crossplane-providers/discovery-rbac.yaml does"
)

// A Permission is one verb on one kind of resource, cluster-wide.
type Permission struct {
	Verb     string
	Group    string
	Resource string
}

// String is the permission as RBAC names it: "list ingresses.networking.k8s.io".
func (p Permission) String() string {
	if p.Group == "" {
		return p.Verb + " " + p.Resource
	}
	return p.Verb + " " + p.Resource + "." + p.Group
}

// Permissions are what a route kind's discovery needs before it can start:
// its informer lists and watches every route of the kind.
func (r Route) Permissions() []Permission {
	return []Permission{
		{Verb: "list", Group: r.GroupVersionKind.Group, Resource: r.Resource},
		{Verb: "watch", Group: r.GroupVersionKind.Group, Resource: r.Resource},
	}
}

// Missing returns the permissions of ps the provider does not have, asking
// the API server with one SelfSubjectAccessReview each.
func Missing(ctx context.Context, c client.Client, ps []Permission) ([]Permission, error) {
	var missing []Permission
	for _, p := range ps {
		r := &authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authzv1.ResourceAttributes{Verb: p.Verb, Group: p.Group, Resource: p.Resource},
		}}
		if err := c.Create(ctx, r); err != nil {
			return nil, errors.Wrapf(err, "%s: may it %s", errReview, p)
		}
		if !r.Status.Allowed {
			missing = append(missing, p)
		}
	}
	return missing, nil
}

// An off route kind is one whose discovery does not start for want of
// permissions.
type off struct {
	kind    string
	missing []Permission
}

func (o off) String() string {
	ps := make([]string, len(o.missing))
	for i, p := range o.missing {
		ps[i] = p.String()
	}
	return fmt.Sprintf("%s discovery is off: the provider may not %s; %s", o.kind, strings.Join(ps, ", "), rbacHint)
}

// discoveryCondition says which route kinds discovery runs for.
func discoveryCondition(offs []off) xpv2.Condition {
	c := xpv2.Condition{Type: v1alpha1.TypeRouteDiscovery, LastTransitionTime: metav1.Now()}
	if len(offs) == 0 {
		c.Status, c.Reason, c.Message = corev1.ConditionTrue, v1alpha1.ReasonDiscoveryPermitted, "the provider may list and watch Ingresses and HTTPRoutes"
		return c
	}
	msgs := make([]string, len(offs))
	for i, o := range offs {
		msgs[i] = o.String()
	}
	c.Status, c.Reason, c.Message = corev1.ConditionFalse, v1alpha1.ReasonPermissionMissing, strings.Join(msgs, "; ")
	return c
}

// A statusReconciler records on every ClusterProviderConfig which route
// kinds discovery runs for, as found when the provider started.
type statusReconciler struct {
	kube client.Client
	cond xpv2.Condition
}

// Reconcile writes the condition when the config does not have it yet.
func (r *statusReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	pc := &v1alpha1.ClusterProviderConfig{}
	if err := r.kube.Get(ctx, req.NamespacedName, pc); err != nil {
		return reconcile.Result{}, errors.Wrap(client.IgnoreNotFound(err), errGetConfig)
	}
	if pc.GetCondition(r.cond.Type).Equal(r.cond) {
		return reconcile.Result{}, nil
	}
	pc.SetConditions(r.cond)
	return reconcile.Result{}, errors.Wrap(r.kube.Status().Update(ctx, pc), errUpdateStatus)
}

// setupStatus adds the controller that records cond on the
// ClusterProviderConfigs.
func setupStatus(mgr ctrl.Manager, o controller.Options, cond xpv2.Condition) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("discovery/status").
		WithOptions(o.ForControllerRuntime()).
		For(&v1alpha1.ClusterProviderConfig{}).
		Complete(&statusReconciler{kube: mgr.GetClient(), cond: cond})
}
