package mrbehavior

import (
	"context"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
)

// A Dependency is a kind whose objects a kind's references name, such as
// the ProxyProvider an Application's providerRef names. Resources of a
// Composition are created together, so a reference often names an object
// that has no value to resolve yet; when the value appears the resources
// that name the object are reconciled at once rather than after their
// error backoff, which grows to the poll interval while hundreds of
// resources wait their turn.
type Dependency struct {
	// Object is an empty object of the referenced kind.
	Object client.Object
	// Value is what references resolve to from an object of that kind,
	// "" while it has none.
	Value func(client.Object) string
	// Names are the objects of that kind that a resource of the depending
	// kind names by reference, in its own namespace.
	Names func(resource.Managed) []string
	// Wakes, for a kind whose objects name the depending kind's resources
	// instead (a policy binding names its application), are the resources
	// an object wakes, in its own namespace, read with kube where the
	// object names them only through another. Nothing waits for such a
	// dependency.
	Wakes func(ctx context.Context, kube client.Reader, o client.Object) []string
}

// ValueChanged passes updates that change what references resolve to.
func (d Dependency) ValueChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectNew != nil && e.ObjectOld != nil && d.Value(e.ObjectNew) != "" && d.Value(e.ObjectNew) != d.Value(e.ObjectOld)
		},
	}
}

// Referrers maps an object of the referenced kind to the resources of the
// depending kind, listed as an empty list, that name it.
func (d Dependency) Referrers(kube client.Reader, list resource.ManagedList) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		if d.Wakes != nil {
			var reqs []reconcile.Request
			for _, name := range d.Wakes(ctx, kube, o) {
				reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}})
			}
			return reqs
		}
		l, ok := list.DeepCopyObject().(resource.ManagedList)
		if !ok {
			return nil
		}
		if err := kube.List(ctx, l, client.InNamespace(o.GetNamespace())); err != nil {
			// The referrers then wait for their backoff, as without this.
			return nil
		}
		var reqs []reconcile.Request
		for _, mg := range l.GetItems() {
			if slices.Contains(d.Names(mg), o.GetName()) {
				reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: mg.GetNamespace(), Name: mg.GetName()}})
			}
		}
		return reqs
	}
}

// ExternalName is what a reference to a provider, group or outpost
// resolves to.
func ExternalName(o client.Object) string { return meta.GetExternalName(o) }

// KeyPairDependency is the CertificateKeyPair a resource names by one
// reference (signingKeyRef, certificateRef), which resolves to the key
// pair's UUID; ref returns it, nil if the resource sets none.
func KeyPairDependency[T resource.Managed](ref func(T) *xpv2.Reference) Dependency {
	return Dependency{
		Object: &v1alpha1.CertificateKeyPair{},
		Value:  ExternalName,
		Names: NamedBy(func(mg resource.Managed) *xpv2.Reference {
			if cr, ok := mg.(T); ok {
				return ref(cr)
			}
			return nil
		}),
	}
}

// ProviderDependencies are the provider kinds a provider reference may
// name; ref returns a resource's reference, nil if it has none.
func ProviderDependencies(ref func(resource.Managed) *v1alpha1.ProviderReference) []Dependency {
	named := func(kind string) func(resource.Managed) []string {
		return func(mg resource.Managed) []string {
			r := ref(mg)
			if r == nil || (r.Kind != kind && (r.Kind != "" || kind != v1alpha1.ProxyProviderKind)) {
				return nil
			}
			return []string{r.Name}
		}
	}
	return []Dependency{
		{Object: &v1alpha1.ProxyProvider{}, Value: ExternalName, Names: named(v1alpha1.ProxyProviderKind)},
		{Object: &v1alpha1.OAuth2Provider{}, Value: ExternalName, Names: named(v1alpha1.OAuth2ProviderKind)},
	}
}

// WaitsForDependencies holds back the first reconciles of a resource that
// Authentik has nothing for yet while an object its references name is
// still being made: resources of a Composition are created together, and
// reconciling one before what it refers to has its value only writes a
// "cannot resolve references" status and event, each another reconcile of
// its composite. The watch on the dependency wakes it once the value is
// there; poll bounds the wait. An object that does not exist is waited for
// only while the resource is younger than awaitMissing (the provider may
// see a resource before the object made with it); one that is still
// missing then, being deleted or failing (Synced False) is not waited for,
// so the resource reports it in its own status. object is an empty
// resource of r's kind, deps the kinds its references name.
func WaitsForDependencies(kube client.Reader, object client.Object, deps []Dependency, r reconcile.Reconciler, poll time.Duration) reconcile.Reconciler {
	if len(deps) == 0 {
		return r
	}
	return reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		mg, ok := object.DeepCopyObject().(resource.Managed)
		if !ok || kube.Get(ctx, req.NamespacedName, mg) != nil || meta.GetExternalName(mg) != "" || meta.WasDeleted(mg) {
			return r.Reconcile(ctx, req)
		}
		for _, d := range deps {
			if d.Names == nil {
				continue
			}
			for _, name := range d.Names(mg) {
				if wait := d.wait(ctx, kube, mg, name, poll); wait > 0 {
					return reconcile.Result{RequeueAfter: wait}, nil
				}
			}
		}
		return r.Reconcile(ctx, req)
	})
}

// awaitMissing is how long a new resource waits for an object its
// reference names to appear.
const awaitMissing = 30 * time.Second

// wait is how long mg waits for the object it names: up to poll while the
// object exists, has no value for references yet and is on its way to
// one; while it is missing, what is left of mg's first awaitMissing; else
// not at all.
func (d Dependency) wait(ctx context.Context, kube client.Reader, mg resource.Managed, name string, poll time.Duration) time.Duration {
	o, ok := d.Object.DeepCopyObject().(resource.Managed)
	if !ok {
		return 0
	}
	err := kube.Get(ctx, types.NamespacedName{Namespace: mg.GetNamespace(), Name: name}, o)
	switch {
	case kerrors.IsNotFound(err):
		left := awaitMissing - time.Since(mg.GetCreationTimestamp().Time)
		return max(min(left, poll), 0)
	case err != nil:
		return 0
	case d.Value(o) == "" && !meta.WasDeleted(o) && o.GetCondition(xpv2.TypeSynced).Status != corev1.ConditionFalse:
		return poll
	}
	return 0
}

// NamedBy are the Names of a dependency that one reference names; ref
// returns a resource's reference, nil if it has none.
func NamedBy(ref func(resource.Managed) *xpv2.Reference) func(resource.Managed) []string {
	return func(mg resource.Managed) []string {
		if r := ref(mg); r != nil {
			return []string{r.Name}
		}
		return nil
	}
}
