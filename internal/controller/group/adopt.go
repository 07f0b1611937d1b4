package group

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

// AnnotationCreateUnconfirmed marks a resource whose create request got no
// definite answer from Authentik; the key is shared by every kind whose
// external name Authentik assigns.
const AnnotationCreateUnconfirmed = proxyprovider.AnnotationCreateUnconfirmed

const (
	errNotGroup       = "managed resource is not a Group"
	errFindByName     = "cannot look for a group with spec.forProvider.name after an unconfirmed create"
	errAdoptMismatch  = "a group with spec.forProvider.name exists in Authentik but differs from this resource, so it was not adopted after an unconfirmed create; to adopt it set its UUID as the crossplane.io/external-name annotation"
	errRecordAdoption = "cannot record the outcome of an unconfirmed create"
)

func markCreateUnconfirmed(cr *v1alpha1.Group) {
	meta.AddAnnotations(cr, map[string]string{AnnotationCreateUnconfirmed: time.Now().UTC().Format(time.RFC3339)})
}

// An adopter settles a create whose outcome is unknown: the process stopped
// between Authentik's answer and recording the UUID, or the answer was
// lost. Group names are unique in Authentik, so it looks the name up: a
// group with that name whose every field this resource sets matches is the
// one this resource made, and its UUID becomes the external name. With no
// such group the create is marked failed and runs again. A group with the
// name that differs is never adopted: it may be someone else's. Resources
// that never sent a create are left alone, so an existing group is never
// taken over silently; its name makes the create fail instead.
type adopter struct {
	kube    client.Client
	connect func(context.Context, *v1alpha1.Group) (*authentik.Client, error)
}

// Initialize runs before the managed reconciler's check for an incomplete
// create, which would otherwise stop the resource for good.
func (a *adopter) Initialize(ctx context.Context, mg resource.Managed) error {
	cr, ok := mg.(*v1alpha1.Group)
	if !ok {
		return errors.New(errNotGroup)
	}
	_, unconfirmed := cr.GetAnnotations()[AnnotationCreateUnconfirmed]
	if meta.GetExternalName(cr) != "" || (!meta.ExternalCreateIncomplete(cr) && !unconfirmed) || cr.Spec.ForProvider.Name == nil {
		return nil
	}
	ac, err := a.connect(ctx, cr)
	if err != nil {
		return err
	}
	name := *cr.Spec.ForProvider.Name
	l, resp, err := ac.API.CoreAPI.CoreGroupsList(ctx).Name(name).IncludeUsers(false).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return errors.Wrap(err, errFindByName)
	}
	meta.RemoveAnnotations(cr, AnnotationCreateUnconfirmed)
	for i := range l.Results {
		g := &l.Results[i]
		if g.Name != name {
			continue
		}
		if d := Diff(cr.Spec.ForProvider, parametersOf(g)); d != "" {
			return errors.Errorf("%s (UUID %s): %s", errAdoptMismatch, g.Pk, d)
		}
		meta.SetExternalName(cr, g.Pk)
		meta.SetExternalCreateSucceeded(cr, time.Now())
		return errors.Wrap(a.kube.Update(ctx, cr), errRecordAdoption)
	}
	if meta.ExternalCreateIncomplete(cr) {
		meta.SetExternalCreateFailed(cr, time.Now())
	}
	return errors.Wrap(a.kube.Update(ctx, cr), errRecordAdoption)
}
