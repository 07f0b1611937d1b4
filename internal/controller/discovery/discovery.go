// Package discovery makes a ProxyConfig for each Ingress or Gateway API
// HTTPRoute that asks for Authentik in front of it, and removes it again
// when the route stops asking or goes away. It runs only with the
// provider's --enable-discovery flag.
package discovery

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
)

// The annotations a route carries, and the label discovery puts on the
// ProxyConfigs it makes.
const (
	// annotationProxy set to "true" asks for the route to be put behind
	// Authentik.
	annotationProxy = "authentik.m.crossplane.io/proxy"
	// annotationMode is the ProxyConfig's mode: proxy (the default),
	// forward_single or forward_domain.
	annotationMode = "authentik.m.crossplane.io/mode"
	// annotationAllowedGroups lists the Authentik groups that may use the
	// application, separated by commas.
	annotationAllowedGroups = "authentik.m.crossplane.io/allowed-groups"
	// labelDiscoveredFrom names the kind of route a ProxyConfig was made
	// from. Discovery changes or deletes only ProxyConfigs with this label
	// and a controller reference to the route.
	labelDiscoveredFrom = "authentik.m.crossplane.io/discovered-from"
	// annotationNotProtected, on a discovered ProxyConfig, says its route
	// does not ask the outpost; the Composition adds it to
	// status.accessReason.
	annotationNotProtected = "authentik.m.crossplane.io/route-not-protected"
)

// Event reasons on the route.
const (
	reasonCreated  event.Reason = "CreatedProxyConfig"
	reasonUpdated  event.Reason = "UpdatedProxyConfig"
	reasonDeleted  event.Reason = "DeletedProxyConfig"
	reasonNotOurs  event.Reason = "ProxyConfigNotOurs"
	reasonCannot   event.Reason = "CannotDiscover"
	reasonNoServer event.Reason = "BackendServiceMissing"
	// reasonNotProtected: the route's proxy does not ask the outpost, so
	// what Authentik enforces does not reach it.
	reasonNotProtected event.Reason = "NotProtected"
)

const (
	errGetRoute       = "cannot get the route"
	errGetProxyConfig = "cannot get the ProxyConfig"
	errCreate         = "cannot create the ProxyConfig"
	errPatch          = "cannot update the ProxyConfig"
	errDelete         = "cannot delete the ProxyConfig"
	errScheme         = "cannot add the Gateway API types to the scheme"
	errSetup          = "cannot set up route discovery"
)

// proxyConfigGroupVersionKind is the kind discovery writes: the ProxyConfig
// of the Configuration in package/configuration.
var proxyConfigGroupVersionKind = schema.GroupVersionKind{Group: "gitops.io", Version: "v1", Kind: "ProxyConfig"}

// modes are the ProxyConfig's spec.authentikConfig.mode values.
var modes = []string{"proxy", "forward_single", "forward_domain"}

// Setup starts Ingress discovery once the ProxyConfig CRD exists, and
// HTTPRoute discovery once the Gateway API's HTTPRoute CRD exists too.
// Neither watches anything before then.
func Setup(mgr ctrl.Manager, o controller.Options) error {
	if err := gatewayv1.Install(mgr.GetScheme()); err != nil {
		return errors.Wrap(err, errScheme)
	}
	log := o.Logger.WithValues("controller", "discovery")
	gated := func(r Route) func() {
		return func() {
			if err := setupRoute(mgr, o, r); err != nil {
				log.Info(errSetup, "kind", r.GroupVersionKind.Kind, "error", err)
				return
			}
			log.Info("Route discovery started", "kind", r.GroupVersionKind.Kind)
		}
	}
	// Asked once, at start: a route kind the provider may not list and watch
	// stays off (its informer would only log errors), everything else runs.
	var offs []off
	for _, r := range []Route{Ingress, HTTPRoute} {
		missing, err := Missing(context.Background(), mgr.GetClient(), r.Permissions())
		if err != nil {
			log.Info("Cannot check route discovery's permissions; starting it anyway", "kind", r.GroupVersionKind.Kind, "error", err)
		}
		if len(missing) > 0 {
			f := off{kind: r.GroupVersionKind.Kind, missing: missing}
			offs = append(offs, f)
			log.Info(f.String())
			continue
		}
		deps := []schema.GroupVersionKind{proxyConfigGroupVersionKind}
		if r.GroupVersionKind != Ingress.GroupVersionKind {
			deps = append(deps, r.GroupVersionKind)
		}
		o.Gate.Register(gated(r), deps...)
	}
	cond := discoveryCondition(offs)
	o.Gate.Register(func() {
		if err := setupStatus(mgr, o, cond); err != nil {
			log.Info(errSetup, "kind", "ClusterProviderConfig status", "error", err)
		}
	}, v1alpha1.ClusterProviderConfigGroupVersionKind)

	log.Info("Route discovery enabled: it starts once the ProxyConfig CRD exists", "proxyConfig", proxyConfigGroupVersionKind.String())
	if _, err := mgr.GetRESTMapper().RESTMapping(HTTPRoute.GroupVersionKind.GroupKind(), HTTPRoute.GroupVersionKind.Version); meta.IsNoMatchError(err) {
		log.Info("HTTPRoute discovery is off: the Gateway API's HTTPRoute CRD is not installed; it starts when the CRD is")
	}
	return nil
}

// setupRoute adds the discovery controller for one kind of route.
func setupRoute(mgr ctrl.Manager, o controller.Options, r Route) error {
	name := "discovery/" + strings.ToLower(r.GroupVersionKind.Kind)
	rec := &Reconciler{
		kube:   mgr.GetClient(),
		reader: mgr.GetAPIReader(),
		route:  r,
		record: event.NewAPIRecorder(mgr.GetEventRecorderFor(name)), //nolint:staticcheck // crossplane-runtime's event package still takes the legacy recorder.
		log:    o.Logger.WithValues("controller", name),
		retry:  o.PollInterval,
	}
	pc := &unstructured.Unstructured{}
	pc.SetGroupVersionKind(proxyConfigGroupVersionKind)
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		WithOptions(o.ForControllerRuntime()).
		For(r.New(), builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(pc, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(rec)
}

// A Reconciler keeps the ProxyConfig of one route as the route asks.
type Reconciler struct {
	kube   client.Client // routes and ProxyConfigs
	reader client.Reader // Services, read without a cache of them all
	route  Route
	record event.Recorder
	log    logging.Logger
	retry  time.Duration // how soon to look again for a missing Service
}

// Reconcile makes, updates or deletes the ProxyConfig named like the route.
// A permission the provider lacks is logged with the API server's message,
// which names it: controller-runtime's own error log is off without --debug.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	res, err := r.reconcile(ctx, req)
	if kerrors.IsForbidden(err) {
		r.log.Info("Route discovery lacks a permission; "+rbacHint, "kind", r.route.GroupVersionKind.Kind, "namespace", req.Namespace, "name", req.Name, "error", err.Error())
	}
	return res, err
}

func (r *Reconciler) reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	route := r.route.New()
	if err := r.kube.Get(ctx, req.NamespacedName, route); err != nil {
		// A deleted route's ProxyConfig goes with it: the garbage collector
		// follows the owner reference.
		return reconcile.Result{}, errors.Wrap(client.IgnoreNotFound(err), errGetRoute)
	}
	if route.GetDeletionTimestamp() != nil {
		return reconcile.Result{}, nil
	}
	kind := r.route.GroupVersionKind.Kind

	current := &unstructured.Unstructured{}
	current.SetGroupVersionKind(proxyConfigGroupVersionKind)
	err := r.kube.Get(ctx, req.NamespacedName, current)
	if err != nil && !kerrors.IsNotFound(err) {
		return reconcile.Result{}, errors.Wrap(err, errGetProxyConfig)
	}
	exists := err == nil
	ours := exists && r.madeFrom(current, route)

	if route.GetAnnotations()[annotationProxy] != "true" {
		if !ours {
			return reconcile.Result{}, nil
		}
		if err := r.kube.Delete(ctx, current, client.Preconditions{UID: ptr.To(current.GetUID())}); client.IgnoreNotFound(err) != nil {
			return reconcile.Result{}, errors.Wrap(err, errDelete)
		}
		r.log.Debug("Deleted the ProxyConfig of a route no longer annotated", "kind", kind, "namespace", req.Namespace, "name", req.Name)
		r.record.Event(route, event.Normal(reasonDeleted, fmt.Sprintf("Deleted ProxyConfig %s: the %s no longer has %s: \"true\"", req.Name, kind, annotationProxy)))
		return reconcile.Result{}, nil
	}
	if exists && !ours {
		r.record.Event(route, event.Warning(reasonNotOurs, errors.Errorf("ProxyConfig %s already exists and was not made from this %s; discovery leaves it alone", req.Name, kind)))
		return reconcile.Result{}, nil
	}

	w := wiring{}
	if r.route.Wiring != nil {
		w = r.route.Wiring(ctx, r.reader, route)
	}
	want, err := r.desired(ctx, route, w)
	var missing missingService
	var problem routeProblem
	switch {
	case errors.As(err, &missing):
		r.record.Event(route, event.Warning(reasonNoServer, err))
		return reconcile.Result{RequeueAfter: r.retry}, nil
	case errors.As(err, &problem):
		r.record.Event(route, event.Warning(reasonCannot, err))
		return reconcile.Result{}, nil
	case err != nil:
		return reconcile.Result{}, err
	}

	if w.known && w.by == "" {
		defer r.record.Event(route, event.Warning(reasonNotProtected, errors.New(notProtected(kind))))
	}
	if !exists {
		if err := r.kube.Create(ctx, want); err != nil {
			return reconcile.Result{}, errors.Wrap(err, errCreate)
		}
		r.log.Debug("Created a ProxyConfig for a route", "kind", kind, "namespace", req.Namespace, "name", req.Name)
		r.record.Event(route, event.Normal(reasonCreated, fmt.Sprintf("Created ProxyConfig %s: %s -> %s", req.Name, specString(want, "externalHost"), specString(want, "internalHost"))))
		return reconcile.Result{}, nil
	}

	// Only the fields discovery sets are written; what Crossplane or the
	// user added to the ProxyConfig stays.
	before := current.DeepCopy()
	for _, f := range managedFields {
		v, found, _ := unstructured.NestedFieldNoCopy(want.Object, f...)
		if !found {
			unstructured.RemoveNestedField(current.Object, f...)
			continue
		}
		if err := unstructured.SetNestedField(current.Object, v, f...); err != nil {
			return reconcile.Result{}, errors.Wrap(err, errPatch)
		}
	}
	if len(current.GetAnnotations()) == 0 {
		unstructured.RemoveNestedField(current.Object, "metadata", "annotations")
	}
	if reflect.DeepEqual(before.Object, current.Object) {
		return reconcile.Result{}, nil
	}
	if err := r.kube.Patch(ctx, current, client.MergeFrom(before)); err != nil {
		return reconcile.Result{}, errors.Wrap(err, errPatch)
	}
	r.log.Debug("Updated the ProxyConfig of a route", "kind", kind, "namespace", req.Namespace, "name", req.Name)
	r.record.Event(route, event.Normal(reasonUpdated, fmt.Sprintf("Updated ProxyConfig %s: %s -> %s", req.Name, specString(want, "externalHost"), specString(want, "internalHost"))))
	return reconcile.Result{}, nil
}

// managedFields are the ProxyConfig fields discovery writes.
var managedFields = [][]string{
	{"spec", "serviceName"},
	{"spec", "serviceNamespace"},
	{"spec", "externalHost"},
	{"spec", "internalHost"},
	{"spec", "authentikConfig", "mode"},
	{"spec", "authentikConfig", "allowedGroups"},
	{"metadata", "annotations", annotationNotProtected},
}

// madeFrom reports whether discovery made pc from this route: it carries
// the label and the route is its controller.
func (r *Reconciler) madeFrom(pc *unstructured.Unstructured, route client.Object) bool {
	if pc.GetLabels()[labelDiscoveredFrom] != r.route.GroupVersionKind.Kind {
		return false
	}
	ref := metav1.GetControllerOfNoCopy(pc)
	return ref != nil && ref.UID == route.GetUID() && ref.Kind == r.route.GroupVersionKind.Kind
}

// desired builds the ProxyConfig the route asks for, saying so when the
// route's wiring w is known to be none.
func (r *Reconciler) desired(ctx context.Context, route client.Object, w wiring) (*unstructured.Unstructured, error) {
	a := route.GetAnnotations()
	mode := "proxy"
	if m, ok := a[annotationMode]; ok {
		mode = strings.TrimSpace(m)
	}
	if !slices.Contains(modes, mode) {
		return nil, routeProblem(fmt.Sprintf("annotation %s is %q; it must be one of %s", annotationMode, mode, strings.Join(modes, ", ")))
	}
	b, err := r.route.Backend(ctx, r.reader, route)
	if err != nil {
		return nil, err
	}
	ac := map[string]any{"mode": mode}
	var groups []any
	for g := range strings.SplitSeq(a[annotationAllowedGroups], ",") {
		if g = strings.TrimSpace(g); g != "" && !slices.Contains(groups, any(g)) {
			groups = append(groups, g)
		}
	}
	if len(groups) > 0 {
		ac["allowedGroups"] = groups
	}

	pc := &unstructured.Unstructured{Object: map[string]any{
		"spec": map[string]any{
			"serviceName":      b.Service,
			"serviceNamespace": b.Namespace,
			"externalHost":     "https://" + b.Host,
			"internalHost":     b.InternalURL(),
			"authentikConfig":  ac,
		},
	}}
	pc.SetGroupVersionKind(proxyConfigGroupVersionKind)
	pc.SetNamespace(route.GetNamespace())
	pc.SetName(route.GetName())
	pc.SetLabels(map[string]string{labelDiscoveredFrom: r.route.GroupVersionKind.Kind})
	if w.known && w.by == "" {
		pc.SetAnnotations(map[string]string{annotationNotProtected: notProtected(r.route.GroupVersionKind.Kind)})
	}
	apiVersion, kind := r.route.GroupVersionKind.ToAPIVersionAndKind()
	pc.SetOwnerReferences([]metav1.OwnerReference{{
		APIVersion:         apiVersion,
		Kind:               kind,
		Name:               route.GetName(),
		UID:                route.GetUID(),
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}})
	return pc, nil
}

func specString(u *unstructured.Unstructured, field string) string {
	s, _, _ := unstructured.NestedString(u.Object, "spec", field)
	return s
}
