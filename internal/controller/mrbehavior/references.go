package mrbehavior

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
)

const (
	errNoReferences      = "managed resource has no references to resolve"
	errResolveReferences = "cannot resolve references"
	errRecordReferences  = "cannot record the resolved references"
)

// A referencer is a managed resource that resolves its own references.
type referencer interface {
	client.Object
	ResolveReferences(ctx context.Context, c client.Reader) error
}

// ReferenceResolver resolves a resource's references and records the
// resolved values with a JSON merge patch. crossplane-runtime's default
// records them with a server-side apply of just the fields that changed,
// which removes the resolved fields that did not change this time; since
// this provider resolves references on every reconcile, that would clear
// them whenever one of several references moves. A resource that has no
// finalizer yet is about to get one (RecordsFinalizerWithCreate), and that
// write records the resolved values too.
func ReferenceResolver(kube client.Client) managed.ReferenceResolver {
	return managed.ReferenceResolverFn(func(ctx context.Context, mg resource.Managed) error {
		cr, ok := mg.(referencer)
		if !ok {
			return errors.New(errNoReferences)
		}
		before, ok := cr.DeepCopyObject().(client.Object)
		if !ok {
			return errors.New(errNoReferences)
		}
		if err := cr.ResolveReferences(ctx, kube); err != nil {
			return errors.Wrap(err, errResolveReferences)
		}
		if equality.Semantic.DeepEqual(before, cr) || !meta.FinalizerExists(cr, managed.FinalizerName) {
			return nil
		}
		return errors.Wrap(kube.Patch(ctx, cr, client.MergeFrom(before)), errRecordReferences)
	})
}
