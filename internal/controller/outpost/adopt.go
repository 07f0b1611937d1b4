package outpost

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/proxyprovider"
)

const (
	errNotOutpost     = "managed resource is not an Outpost"
	errFindByName     = "cannot look for an outpost with spec.forProvider.name after an unconfirmed create"
	errAdoptMismatch  = "an outpost with spec.forProvider.name exists in Authentik but differs from this resource, so it was not adopted after an unconfirmed create; to adopt it set its UUID as the crossplane.io/external-name annotation"
	errRecordAdoption = "cannot record the outcome of an unconfirmed create"
)

// An adopter settles a create whose outcome is unknown: the process stopped
// between Authentik's answer and recording the UUID, or the answer was
// lost. Outpost names are unique in Authentik, so it looks the name up: an
// outpost with that name that matches every field this resource sets (and
// serves every provider it names) is the one this resource made, and its
// UUID becomes the external name. With no such outpost the create is marked
// failed and runs again. An outpost with the name that differs is never
// adopted: it may be someone else's. Resources that never sent a create are
// left alone, so an existing outpost is never taken over silently.
type adopter struct {
	kube    client.Client
	connect func(context.Context, *v1alpha1.Outpost) (*authentik.Client, error)
}

// Initialize runs before the managed reconciler's check for an incomplete
// create, which would otherwise stop the resource for good.
func (a *adopter) Initialize(ctx context.Context, mg resource.Managed) error {
	cr, ok := mg.(*v1alpha1.Outpost)
	if !ok {
		return errors.New(errNotOutpost)
	}
	_, unconfirmed := cr.GetAnnotations()[proxyprovider.AnnotationCreateUnconfirmed]
	if meta.GetExternalName(cr) != "" || (!meta.ExternalCreateIncomplete(cr) && !unconfirmed) || cr.Spec.ForProvider.Name == nil {
		return nil
	}
	spec, err := specView(cr.Spec.ForProvider)
	if err != nil {
		return err
	}
	ac, err := a.connect(ctx, cr)
	if err != nil {
		return err
	}
	l, resp, err := ac.API.OutpostsAPI.OutpostsInstancesList(ctx).NameIexact(*cr.Spec.ForProvider.Name).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return errors.Wrap(err, errFindByName)
	}
	meta.RemoveAnnotations(cr, proxyprovider.AnnotationCreateUnconfirmed)
	for i := range l.Results {
		o := &l.Results[i]
		if o.Name != *cr.Spec.ForProvider.Name {
			continue
		}
		if d := Diff(spec, observedView(o), nil); d != "" {
			return errors.Errorf("%s (UUID %s): %s", errAdoptMismatch, o.Pk, d)
		}
		meta.SetExternalName(cr, o.Pk)
		meta.SetExternalCreateSucceeded(cr, time.Now())
		return errors.Wrap(a.kube.Update(ctx, cr), errRecordAdoption)
	}
	if meta.ExternalCreateIncomplete(cr) {
		meta.SetExternalCreateFailed(cr, time.Now())
	}
	return errors.Wrap(a.kube.Update(ctx, cr), errRecordAdoption)
}
