package mrbehavior

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
)

// Every write to a managed resource wakes the composite that composed it,
// and Crossplane then applies all of the composite's resources again: on a
// loaded API server those applies, not Authentik, set how fast hundreds of
// ProxyConfigs become Ready. The options here fold writes the managed
// reconciler would make one after another into one.

// RecordsFinalizerWithCreate adds crossplane-runtime's managed resource
// finalizer with the reconciler's external-create-pending write rather
// than a write of its own. A resource with no external name has nothing in
// Authentik to clean up, and Create, the only way it gets something there,
// comes after that write, which records the whole object: the finalizer and
// the resolved references (see ReferenceResolver) go in with it. A
// resource with an external name gets the finalizer written at once.
func RecordsFinalizerWithCreate(kube client.Client) managed.ReconcilerOption {
	return managed.WithFinalizer(finalizerWithCreate{APIFinalizer: resource.NewAPIFinalizer(kube, managed.FinalizerName)})
}

type finalizerWithCreate struct {
	*resource.APIFinalizer
}

func (f finalizerWithCreate) AddFinalizer(ctx context.Context, obj resource.Object) error {
	if meta.GetExternalName(obj) == "" {
		meta.AddFinalizer(obj, managed.FinalizerName)
		return nil
	}
	return f.APIFinalizer.AddFinalizer(ctx, obj)
}

// ObserveAfterCreate observes a resource right after Create made it, from
// what Create remembered of Authentik's answer, so that the spec's unset
// fields are late-initialized before the reconciler records the external
// name: that write records the whole spec too. Otherwise the next Observe
// late-initializes them, a spec write, and the status write after it
// carries stale observations that need one more reconcile and write.
func ObserveAfterCreate[T resource.Managed](c managed.TypedExternalConnector[T]) managed.TypedExternalConnector[T] {
	return observeAfterCreateConnector[T]{TypedExternalConnector: c}
}

type observeAfterCreateConnector[T resource.Managed] struct {
	managed.TypedExternalConnector[T]
}

func (c observeAfterCreateConnector[T]) Connect(ctx context.Context, mg T) (managed.TypedExternalClient[T], error) {
	ec, err := c.TypedExternalConnector.Connect(ctx, mg)
	if err != nil {
		return nil, err
	}
	return observeAfterCreate[T]{TypedExternalClient: ec}, nil
}

type observeAfterCreate[T resource.Managed] struct {
	managed.TypedExternalClient[T]
}

func (c observeAfterCreate[T]) Create(ctx context.Context, mg T) (managed.ExternalCreation, error) {
	cr, err := c.TypedExternalClient.Create(ctx, mg)
	if err != nil || meta.GetExternalName(mg) == "" {
		return cr, err
	}
	// An error here only leaves late initialization to the next Observe,
	// which reports it.
	_, _ = c.Observe(ctx, mg)
	return cr, nil
}
