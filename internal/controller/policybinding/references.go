package policybinding

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
)

const (
	errNotPolicyBindingRefs = "managed resource is not a PolicyBinding"
	errResolveReferences    = "cannot resolve references"
	errRecordReferences     = "cannot record the resolved references"
)

// A referenceResolver resolves the resource's references and records the
// resolved values with a JSON merge patch. crossplane-runtime's default
// records them with a server-side apply of just the fields that changed,
// which removes the resolved fields that did not change this time; since
// this provider resolves references on every reconcile, that would clear
// them whenever one of several references moves.
type referenceResolver struct {
	kube client.Client
}

// ResolveReferences resolves the references of a PolicyBinding.
func (r referenceResolver) ResolveReferences(ctx context.Context, mg resource.Managed) error {
	cr, ok := mg.(*v1alpha1.PolicyBinding)
	if !ok {
		return errors.New(errNotPolicyBindingRefs)
	}
	before := cr.DeepCopy()
	if err := cr.ResolveReferences(ctx, r.kube); err != nil {
		return errors.Wrap(err, errResolveReferences)
	}
	if equality.Semantic.DeepEqual(before.Spec, cr.Spec) {
		return nil
	}
	return errors.Wrap(r.kube.Patch(ctx, cr, client.MergeFrom(before)), errRecordReferences)
}
