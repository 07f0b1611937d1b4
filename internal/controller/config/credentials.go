package config

import (
	"context"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	kmeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// finalizerCredentialsInUse keeps a ProviderConfig, and the Secrets it
// reads, while managed resources in its namespace refer to it.
const finalizerCredentialsInUse = "authentik.m.crossplane.io/credentials-in-use" //nolint:gosec // A finalizer name, not a credential.

const (
	errListManaged    = "cannot list the managed resources in the namespace"
	errListSecrets    = "cannot list the Secrets in the namespace"
	errUpdateFinalize = "cannot update the finalizers of %s %s/%s"
)

// releaseCheck is how often the guard looks again while it holds a config
// or Secret being deleted: the managed resources' deletion sends it no
// event of its own.
const releaseCheck = 5 * time.Second

// managedLists are empty lists of every managed resource kind in the
// scheme, so a kind added later is counted without being listed here.
func managedLists(s *runtime.Scheme) []resource.ManagedList {
	var out []resource.ManagedList
	for _, kind := range slices.Sorted(maps.Keys(s.KnownTypes(v1alpha1.SchemeGroupVersion))) {
		o, err := s.New(v1alpha1.SchemeGroupVersion.WithKind(kind))
		if err != nil {
			continue
		}
		if l, ok := o.(resource.ManagedList); ok {
			out = append(out, l)
		}
	}
	return out
}

// A credentialsGuard keeps the credentials of namespaced ProviderConfigs
// until the managed resources using them are gone. Deleting a namespace
// deletes everything in it in no particular order: the token Secret, which
// has no finalizer, and the ProviderConfig, whose in-use finalizer goes as
// soon as the ProviderConfigUsages (which have none either) are gone. The
// managed resources then could not reach Authentik to delete what they
// made, would keep their finalizers, and the namespace would never go
// (crossplane/crossplane issue 7801). The guard holds a finalizer on each
// ProviderConfig that a managed resource in its namespace refers to, and
// on the Secrets that config reads; a config or Secret being deleted stays
// readable until the last such resource is gone. It reconciles one
// namespace at a time.
type credentialsGuard struct {
	kube client.Client
}

// newCredentialsGuard returns a guard that reads and updates objects
// through kube.
func newCredentialsGuard(kube client.Client) *credentialsGuard {
	return &credentialsGuard{kube: kube}
}

// Reconcile sets or removes the guard's finalizer on the ProviderConfigs
// and Secrets in the namespace req names. It adds the config's finalizer
// before the Secrets' and removes it after them, so a config never goes
// while a Secret still carries the guard's finalizer for it.
func (g *credentialsGuard) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	ns := req.Name
	pcs := &v1alpha1.ProviderConfigList{}
	if err := g.kube.List(ctx, pcs, client.InNamespace(ns)); err != nil {
		return reconcile.Result{}, errors.Wrap(err, errListConfigs)
	}
	used := map[string]bool{}
	if len(pcs.Items) > 0 {
		var err error
		if used, err = g.usedConfigs(ctx, ns); err != nil {
			return reconcile.Result{}, err
		}
	}
	waiting := false
	var keep []types.NamespacedName
	for i := range pcs.Items {
		pc := &pcs.Items[i]
		if !used[pc.Name] {
			continue
		}
		keep = append(keep, authentik.SecretsOf(pc)...)
		waiting = waiting || meta.WasDeleted(pc)
		if err := g.hold(ctx, pc, v1alpha1.ProviderConfigKind); err != nil {
			return reconcile.Result{}, err
		}
	}

	secrets := &corev1.SecretList{}
	if err := g.kube.List(ctx, secrets, client.InNamespace(ns)); err != nil {
		return reconcile.Result{}, errors.Wrap(err, errListSecrets)
	}
	for i := range secrets.Items {
		s := &secrets.Items[i]
		var err error
		if slices.Contains(keep, types.NamespacedName{Namespace: s.Namespace, Name: s.Name}) {
			waiting = waiting || meta.WasDeleted(s)
			err = g.hold(ctx, s, "Secret")
		} else {
			err = g.release(ctx, s, "Secret")
		}
		if err != nil {
			return reconcile.Result{}, err
		}
	}

	for i := range pcs.Items {
		if pc := &pcs.Items[i]; !used[pc.Name] {
			if err := g.release(ctx, pc, v1alpha1.ProviderConfigKind); err != nil {
				return reconcile.Result{}, err
			}
		}
	}
	if waiting {
		return reconcile.Result{RequeueAfter: releaseCheck}, nil
	}
	return reconcile.Result{}, nil
}

// usedConfigs names the ProviderConfigs that managed resources in ns refer
// to, those being deleted included: they need the credentials most.
func (g *credentialsGuard) usedConfigs(ctx context.Context, ns string) (map[string]bool, error) {
	used := map[string]bool{}
	for _, l := range managedLists(g.kube.Scheme()) {
		err := g.kube.List(ctx, l, client.InNamespace(ns))
		if kmeta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return nil, errors.Wrap(err, errListManaged)
		}
		for _, mg := range l.GetItems() {
			if name, ok := localConfig(mg); ok {
				used[name] = true
			}
		}
	}
	return used, nil
}

// localConfig is the name of the ProviderConfig a managed resource refers
// to, if it refers to one rather than to a ClusterProviderConfig.
func localConfig(o client.Object) (string, bool) {
	mg, ok := o.(resource.ModernManaged)
	if !ok {
		return "", false
	}
	ref := mg.GetProviderConfigReference()
	if ref == nil || ref.Kind != v1alpha1.ProviderConfigKind {
		return "", false
	}
	return ref.Name, true
}

// hold adds the guard's finalizer. An object already being deleted takes no
// new finalizer (the API server refuses it); it goes when its other
// finalizers do.
func (g *credentialsGuard) hold(ctx context.Context, o client.Object, kind string) error {
	if meta.WasDeleted(o) || meta.FinalizerExists(o, finalizerCredentialsInUse) {
		return nil
	}
	meta.AddFinalizer(o, finalizerCredentialsInUse)
	return errors.Wrapf(g.kube.Update(ctx, o), errUpdateFinalize, kind, o.GetNamespace(), o.GetName())
}

func (g *credentialsGuard) release(ctx context.Context, o client.Object, kind string) error {
	if !meta.FinalizerExists(o, finalizerCredentialsInUse) {
		return nil
	}
	meta.RemoveFinalizer(o, finalizerCredentialsInUse)
	return errors.Wrapf(resource.IgnoreNotFound(g.kube.Update(ctx, o)), errUpdateFinalize, kind, o.GetNamespace(), o.GetName())
}

// setupCredentialsGuard adds the guard's controller. ProviderConfigs,
// their Secrets and ProviderConfigUsages (a resource records one when it
// first connects, and its deletion removes it) enqueue their namespace.
// It watches no managed kind: with safe-start their CRDs may be missing.
func setupCredentialsGuard(mgr ctrl.Manager, o controller.Options) error {
	const name = "credentials-guard/providerconfig"
	byNamespace := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: obj.GetNamespace()}}}
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		WithOptions(controllerOptions(o)).
		Watches(&v1alpha1.ProviderConfig{}, byNamespace).
		Watches(&v1alpha1.ProviderConfigUsage{}, byNamespace).
		Watches(&corev1.Secret{}, byNamespace).
		Complete(ratelimiter.NewReconciler(name, newCredentialsGuard(mgr.GetClient()), o.GlobalRateLimiter))
}
