// Package config reconciles ProviderConfigs and ClusterProviderConfigs: it
// counts the resources using each and keeps one in use from being deleted,
// and it checks that Authentik answers each config, accepts its token and
// runs a supported version.
package config

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/providerconfig"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// A Kind describes one provider config kind to the controllers.
type Kind struct {
	// GroupKind names the controllers.
	GroupKind string
	// GroupVersionKind of the config.
	GroupVersionKind schema.GroupVersionKind
	// Namespaced is true for ProviderConfig, whose Secrets are in its own
	// namespace.
	Namespaced bool
	// New returns an empty config of the kind.
	New func() checkedConfig
	// NewList returns an empty list of the kind.
	NewList func() client.ObjectList
	// Items returns the configs in a list of the kind.
	Items func(client.ObjectList) []resource.ProviderConfig
}

// Kinds are the provider config kinds: ProviderConfig and
// ClusterProviderConfig.
var Kinds = []Kind{
	{
		GroupKind:        v1alpha1.ProviderConfigGroupKind,
		GroupVersionKind: v1alpha1.ProviderConfigGroupVersionKind,
		Namespaced:       true,
		New:              func() checkedConfig { return &v1alpha1.ProviderConfig{} },
		NewList:          func() client.ObjectList { return &v1alpha1.ProviderConfigList{} },
		Items: func(l client.ObjectList) []resource.ProviderConfig {
			items := l.(*v1alpha1.ProviderConfigList).Items //nolint:forcetypeassert // NewList made it.
			out := make([]resource.ProviderConfig, len(items))
			for i := range items {
				out[i] = &items[i]
			}
			return out
		},
	},
	{
		GroupKind:        v1alpha1.ClusterProviderConfigGroupKind,
		GroupVersionKind: v1alpha1.ClusterProviderConfigGroupVersionKind,
		New:              func() checkedConfig { return &v1alpha1.ClusterProviderConfig{} },
		NewList:          func() client.ObjectList { return &v1alpha1.ClusterProviderConfigList{} },
		Items: func(l client.ObjectList) []resource.ProviderConfig {
			items := l.(*v1alpha1.ClusterProviderConfigList).Items //nolint:forcetypeassert // NewList made it.
			out := make([]resource.ProviderConfig, len(items))
			for i := range items {
				out[i] = &items[i]
			}
			return out
		},
	},
}

// Setup adds the controllers for both provider config kinds.
func Setup(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	for _, k := range Kinds {
		if err := setupUsage(mgr, o, k); err != nil {
			return err
		}
		if err := setupHealth(mgr, o, conn, k); err != nil {
			return err
		}
	}
	return setupCredentialsGuard(mgr, o)
}

// SetupGated sets up the controllers once their CRDs exist.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	o.Gate.Register(func() {
		if err := Setup(mgr, o, conn); err != nil {
			mgr.GetLogger().Error(err, "cannot set up the provider config controllers")
		}
	}, v1alpha1.ProviderConfigGroupVersionKind, v1alpha1.ClusterProviderConfigGroupVersionKind, v1alpha1.ProviderConfigUsageGroupVersionKind)
	return nil
}

// configWorkers is how many configs (for the credentials guard, namespaces)
// each config controller reconciles at once. A controller never works on
// one key twice at a time and there are few configs; controller-runtime
// starts every worker up front, so --max-reconcile-rate workers (100 by
// default) in each of these five controllers were idle goroutines whose
// stacks the GC scanned.
const configWorkers = 4

// controllerOptions are the controller-runtime options of a config
// controller.
func controllerOptions(o controller.Options) ctrlcontroller.Options {
	co := o.ForControllerRuntime()
	co.MaxConcurrentReconciles = min(co.MaxConcurrentReconciles, configWorkers)
	return co
}

// setupUsage adds the usage controller of one config kind. Both kinds count
// the one namespaced ProviderConfigUsage kind: each usage is labelled with
// its config's kind and name, so each controller counts only its own.
func setupUsage(mgr ctrl.Manager, o controller.Options, k Kind) error {
	name := providerconfig.ControllerName(k.GroupKind)
	kinds := resource.ProviderConfigKinds{
		Config:    k.GroupVersionKind,
		Usage:     v1alpha1.ProviderConfigUsageGroupVersionKind,
		UsageList: v1alpha1.ProviderConfigUsageListGroupVersionKind,
	}
	r := providerconfig.NewReconciler(mgr, kinds,
		providerconfig.WithLogger(o.Logger.WithValues("controller", name)),
		providerconfig.WithRecorder(event.NewAPIRecorder(mgr.GetEventRecorderFor(name)))) //nolint:staticcheck // crossplane-runtime's event package still takes the legacy recorder.

	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		WithOptions(controllerOptions(o)).
		For(k.New()).
		Watches(&v1alpha1.ProviderConfigUsage{}, &resource.EnqueueRequestForProviderConfig{}).
		Complete(ratelimiter.NewReconciler(name, r, o.GlobalRateLimiter))
}

// setupHealth adds the health controller of one config kind: a second
// controller beside the usage one, as crossplane-runtime's reconciler only
// counts usages. It checks a config when it is created, when its spec or
// one of its Secrets changes, and every poll interval. Status changes (its
// own, and the usage count) do not trigger a check.
func setupHealth(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector, k Kind) error {
	name := "health/" + strings.ToLower(k.GroupKind)
	r := newHealthReconciler(mgr.GetClient(), conn, k.New, o.PollInterval, o.Logger.WithValues("controller", name))
	bySecret := func(ctx context.Context, s client.Object) []reconcile.Request {
		reqs, err := configsUsingSecret(ctx, mgr.GetClient(), k, s)
		if err != nil {
			mgr.GetLogger().Error(err, "cannot map a Secret to the provider configs that read it", "controller", name)
		}
		return reqs
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		WithOptions(controllerOptions(o)).
		For(k.New(), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(bySecret)).
		Complete(ratelimiter.NewReconciler(name, r, o.GlobalRateLimiter))
}
