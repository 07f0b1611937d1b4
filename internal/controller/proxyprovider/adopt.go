package proxyprovider

import (
	"context"
	"strconv"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// AnnotationCreateUnconfirmed marks a resource whose create request got no
// definite answer from Authentik, so the provider may exist without its pk
// having been recorded.
const AnnotationCreateUnconfirmed = "authentik.m.crossplane.io/create-unconfirmed"

const (
	errNotProxyProvider = "managed resource is not a ProxyProvider"
	errFindByName       = "cannot look for a proxy provider with spec.forProvider.name after an unconfirmed create"
	errAdoptMismatch    = "a proxy provider with spec.forProvider.name exists in Authentik but differs from this resource, so it was not adopted after an unconfirmed create; to adopt it set its pk as the crossplane.io/external-name annotation"
	errRecordAdoption   = "cannot record the outcome of an unconfirmed create"
)

func markCreateUnconfirmed(cr *v1alpha1.ProxyProvider) {
	meta.AddAnnotations(cr, map[string]string{AnnotationCreateUnconfirmed: time.Now().UTC().Format(time.RFC3339)})
}

// An adopter settles a create whose outcome is unknown: the process stopped
// between Authentik's answer and recording the pk, or the answer was lost.
// Provider names are unique in Authentik, so it looks the name up: a
// provider with that name whose every field this resource sets matches is
// the one this resource made, and its pk becomes the external name. With no
// such provider the create is marked failed and runs again. A provider with
// the name that differs is never adopted: it may be someone else's.
// Resources that never sent a create are left alone, so an existing
// provider is never taken over silently.
type adopter struct {
	kube    client.Client
	connect func(context.Context, *v1alpha1.ProxyProvider) (*authentik.Client, error)
}

// Initialize runs before the managed reconciler's check for an incomplete
// create, which would otherwise stop the resource for good.
func (a *adopter) Initialize(ctx context.Context, mg resource.Managed) error {
	cr, ok := mg.(*v1alpha1.ProxyProvider)
	if !ok {
		return errors.New(errNotProxyProvider)
	}
	_, unconfirmed := cr.GetAnnotations()[AnnotationCreateUnconfirmed]
	if meta.GetExternalName(cr) != "" || (!meta.ExternalCreateIncomplete(cr) && !unconfirmed) || cr.Spec.ForProvider.Name == nil {
		return nil
	}
	ac, err := a.connect(ctx, cr)
	if err != nil {
		return err
	}
	e := &external{client: ac}
	l, resp, err := e.api().ProvidersProxyList(ctx).NameIexact(*cr.Spec.ForProvider.Name).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return errors.Wrap(err, errFindByName)
	}
	meta.RemoveAnnotations(cr, AnnotationCreateUnconfirmed)
	for i := range l.Results {
		p := &l.Results[i]
		if p.Name != *cr.Spec.ForProvider.Name {
			continue
		}
		observed, err := e.parametersOf(ctx, p, cr.Spec.ForProvider)
		if err != nil {
			return errors.Wrap(err, errObserveFlow)
		}
		if d := Diff(cr.Spec.ForProvider, observed); d != "" {
			return errors.Errorf("%s (pk %d): %s", errAdoptMismatch, p.Pk, d)
		}
		meta.SetExternalName(cr, strconv.Itoa(int(p.Pk)))
		meta.SetExternalCreateSucceeded(cr, time.Now())
		return errors.Wrap(a.kube.Update(ctx, cr), errRecordAdoption)
	}
	if meta.ExternalCreateIncomplete(cr) {
		meta.SetExternalCreateFailed(cr, time.Now())
	}
	return errors.Wrap(a.kube.Update(ctx, cr), errRecordAdoption)
}
