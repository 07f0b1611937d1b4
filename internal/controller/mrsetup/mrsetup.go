// Package mrsetup wires a managed resource kind into crossplane-runtime's
// managed reconciler the same way for every kind, with the behaviours of
// package mrbehavior, so each kind's package holds only what is particular
// to it.
package mrsetup

import (
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/feature"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	"github.com/crossplane/crossplane-runtime/v2/pkg/statemetrics"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

const errStateMetrics = "cannot register the managed resource state metrics recorder"

// A Kind describes one managed resource kind.
type Kind struct {
	// GroupVersionKind of the managed resource.
	GroupVersionKind schema.GroupVersionKind
	// GroupKind names the controller.
	GroupKind string
	// Object is an empty managed resource of the kind.
	Object client.Object
	// List is an empty list of the kind, for the state metrics.
	List resource.ManagedList
	// Dependencies are the kinds its references name.
	Dependencies []mrbehavior.Dependency
}

// reconcilerOptions are the options every managed reconciler of this
// provider gets, given the controller options from main.
func reconcilerOptions(mgr ctrl.Manager, o controller.Options, name string) []managed.ReconcilerOption {
	opts := []managed.ReconcilerOption{
		managed.WithLogger(o.Logger.WithValues("controller", name)),
		managed.WithPollInterval(o.PollInterval),
		// Spread the polls of resources created together, so hundreds of
		// them do not all reach Authentik in the same second of each poll.
		managed.WithPollJitterHook(o.PollInterval / 10),
		// No creation grace period: it is meant for eventually consistent
		// APIs, and Authentik reads what it has just written (one
		// database), so a resource it cannot find right after its create
		// is gone; the grace period also held up deleting a resource that
		// was just created.
		managed.WithCreationGracePeriod(0),
		mrbehavior.RecordsFinalizerWithCreate(mgr.GetClient()),
		managed.WithRecorder(event.NewAPIRecorder(mgr.GetEventRecorderFor(name))), //nolint:staticcheck // crossplane-runtime's event package still takes the legacy recorder.
	}
	if o.Features != nil && o.Features.Enabled(feature.EnableBetaManagementPolicies) {
		opts = append(opts, managed.WithManagementPolicies())
	}
	if o.Features != nil && o.Features.Enabled(feature.EnableAlphaChangeLogs) && o.ChangeLogOptions != nil {
		opts = append(opts, managed.WithChangeLogger(o.ChangeLogOptions.ChangeLogger))
	}
	if o.MetricOptions != nil && o.MetricOptions.MRMetrics != nil {
		opts = append(opts, managed.WithMetricRecorder(o.MetricOptions.MRMetrics))
	}
	return opts
}

// setupKind adds a controller for the kind to the manager. The kind's own
// options (its connector, initializers, reference resolver) come last so
// they win over the common ones.
func setupKind(mgr ctrl.Manager, o controller.Options, k Kind, kindOpts ...managed.ReconcilerOption) error {
	name := managed.ControllerName(k.GroupKind)
	opts := append(reconcilerOptions(mgr, o, name), kindOpts...)

	if o.MetricOptions != nil && o.MetricOptions.MRStateMetrics != nil {
		// The state recorder lists into the list it is given while the
		// deletion recorder copies k.List: a list of its own, or the copy
		// races the listing.
		own, ok := k.List.DeepCopyObject().(resource.ManagedList)
		if !ok {
			return errors.Errorf("%s for %s", errStateMetrics, k.GroupKind)
		}
		rec := statemetrics.NewMRStateRecorder(mrbehavior.CacheLister{Client: mgr.GetClient()}, o.Logger, o.MetricOptions.MRStateMetrics, own, o.MetricOptions.PollStateMetricInterval)
		if err := mgr.Add(rec); err != nil {
			return errors.Wrapf(err, "%s for %s", errStateMetrics, k.GroupKind)
		}
		del := metrics.NewDeletionRecorder(mgr.GetClient(), k.GroupVersionKind.Kind, k.List, o.MetricOptions.PollStateMetricInterval)
		if err := ctrlmetrics.Registry.Register(del); err != nil {
			return errors.Wrapf(err, "%s for %s", errStateMetrics, k.GroupKind)
		}
		if err := mgr.Add(del); err != nil {
			return errors.Wrapf(err, "%s for %s", errStateMetrics, k.GroupKind)
		}
	}

	r := managed.NewReconciler(clientManager{Manager: mgr, client: mrbehavior.SkipsUnchangedStatus(mgr.GetClient())}, resource.ManagedKind(k.GroupVersionKind), opts...)
	copts := o.ForControllerRuntime()
	copts.RateLimiter = errorBackoff(o.PollInterval)
	b := ctrl.NewControllerManagedBy(mgr).
		Named(name).
		WithOptions(copts).
		For(k.Object, builder.WithPredicates(resource.DesiredStateChanged()))
	for _, d := range k.Dependencies {
		b = b.Watches(d.Object, handler.EnqueueRequestsFromMapFunc(d.Referrers(mgr.GetClient(), k.List)), builder.WithPredicates(d.ValueChanged()))
	}
	return b.Complete(ratelimiter.NewReconciler(name, mrbehavior.WaitsForDependencies(mgr.GetClient(), k.Object, k.Dependencies, r, o.PollInterval), o.GlobalRateLimiter))
}

// KindOptions makes a kind's own reconciler options (its connector,
// initializers, reference resolver) from the manager's kube client and the
// provider's connector to Authentik.
type KindOptions func(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption

// SetupGated defers setupKind, with the options kindOptions makes, until the
// kind's CRD exists, which Crossplane's safe-start installs only once the
// kind is activated.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector, k Kind, kindOptions KindOptions) {
	o.Gate.Register(func() {
		opts := kindOptions(mgr.GetClient(), conn)
		if err := setupKind(mgr, o, k, opts...); err != nil {
			mgr.GetLogger().Error(err, "cannot set up the controller", "gvk", k.GroupVersionKind.String())
		}
	}, k.GroupVersionKind)
}

// errorBackoff retries a failed reconcile after one second, doubling up to
// one poll interval. While Authentik is unreachable every reconcile fails;
// capping the wait at the poll interval (crossplane-runtime's default caps
// it at a minute whatever the interval) brings every resource back within
// two polls of Authentik's return. The global rate limiter still bounds
// how many reconciles run at once.
func errorBackoff(poll time.Duration) workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](time.Second, max(poll, time.Second))
}

// clientManager is a manager whose client is another one, for the
// managed reconciler, which takes its client from the manager.
type clientManager struct {
	ctrl.Manager
	client client.Client
}

func (m clientManager) GetClient() client.Client { return m.client }
