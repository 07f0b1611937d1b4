// Package application manages Authentik applications.
package application

import (
	"context"
	"regexp"

	api "goauthentik.io/api/v3"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

const (
	errNotApplication   = "managed resource is not an Application"
	errNoExternalName   = "the external name, the application's slug, is empty"
	errSlugMismatch     = "spec.forProvider.slug differs from the external name; the slug identifies the application, so set both to the same value"
	errBadSlug          = "is not a valid Authentik slug (letters, digits, - and _ only); set spec.forProvider.slug"
	errRecordSlug       = "cannot record the slug as the external name"
	errGet              = "cannot get application"
	errCreate           = "cannot create application"
	errUpdate           = "cannot update application"
	errDelete           = "cannot delete application"
	pathProvider        = "spec.forProvider.provider"
	pathProviderRef     = "spec.forProvider.providerRef"
	applicationSlugExpr = `^[-a-zA-Z0-9_]+$`
)

var slugPattern = regexp.MustCompile(applicationSlugExpr)

// fieldPaths maps Authentik's request fields to this resource's fields, so
// Authentik's validation messages name what the user has to change.
var fieldPaths = map[string]string{
	"name":               "spec.forProvider.name",
	"slug":               "spec.forProvider.slug",
	"provider":           pathProvider,
	"group":              "spec.forProvider.group",
	"policy_engine_mode": "spec.forProvider.policyEngineMode",
	"meta_launch_url":    "spec.forProvider.metaLaunchUrl",
	"meta_description":   "spec.forProvider.metaDescription",
	"meta_publisher":     "spec.forProvider.metaPublisher",
	"meta_icon":          "spec.forProvider.metaIcon",
	"open_in_new_tab":    "spec.forProvider.openInNewTab",
}

// fieldPathsFor names the provider by the field the user set: a provider
// refused by Authentik is the one providerRef resolved to, if any.
func fieldPathsFor(p v1alpha1.ApplicationParameters) map[string]string {
	if p.ProviderRef == nil && p.ProviderSelector == nil {
		return fieldPaths
	}
	out := make(map[string]string, len(fieldPaths))
	for k, v := range fieldPaths {
		out[k] = v
	}
	out["provider"] = pathProviderRef
	return out
}

// Kind describes the Application managed resource.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.ApplicationGroupVersionKind,
	GroupKind:        v1alpha1.ApplicationGroupKind,
	Object:           &v1alpha1.Application{},
	List:             &v1alpha1.ApplicationList{},
}

// Setup adds a controller that reconciles Applications.
func Setup(mgr ctrl.Manager, o controller.Options) error {
	return mrsetup.Setup(mgr, o, Kind, ReconcilerOptions(mgr.GetClient(), authentik.NewConnector(mgr.GetClient()))...)
}

// ReconcilerOptions are the options particular to Applications: the
// connector and, in place of the default name initializer, one that uses
// spec.forProvider.slug as the external name when it is set. The slug is
// known before the create, so a create whose outcome was lost is safe to
// retry: the next observation finds the application by its slug.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	return []managed.ReconcilerOption{
		managed.WithReferenceResolver(mrsetup.ReferenceResolver(kube)),
		managed.WithTypedExternalConnector[*v1alpha1.Application](&connector{Connector: conn}),
		managed.WithInitializers(&slugAsExternalName{kube: kube}),
		managed.WithDeterministicExternalName(true),
	}
}

// SetupGated sets up the controller once the Application CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options) error {
	mrsetup.Gated(mgr, o, Kind, Setup)
	return nil
}

// slugAsExternalName sets the external name of a resource that has none to
// spec.forProvider.slug, or to metadata.name when no slug is set.
type slugAsExternalName struct {
	kube client.Client
}

// Initialize sets the external name before the first observation.
func (i *slugAsExternalName) Initialize(ctx context.Context, mg resource.Managed) error {
	cr, ok := mg.(*v1alpha1.Application)
	if !ok {
		return errors.New(errNotApplication)
	}
	if meta.GetExternalName(cr) != "" {
		return nil
	}
	slug, from := cr.GetName(), "metadata.name"
	if cr.Spec.ForProvider.Slug != nil {
		slug, from = *cr.Spec.ForProvider.Slug, "spec.forProvider.slug"
	}
	if !slugPattern.MatchString(slug) {
		return errors.Errorf("%s %q %s", from, slug, errBadSlug)
	}
	meta.SetExternalName(cr, slug)
	return errors.Wrap(i.kube.Update(ctx, cr), errRecordSlug)
}

// A connector builds external clients for Applications.
type connector struct {
	*authentik.Connector
}

// Connect returns an external client using the resource's provider config.
func (c *connector) Connect(ctx context.Context, cr *v1alpha1.Application) (managed.TypedExternalClient[*v1alpha1.Application], error) {
	ac, err := c.ClientFor(ctx, cr)
	if err != nil {
		return nil, err
	}
	return &external{client: ac}, nil
}

// external reconciles one Application with Authentik.
type external struct {
	client *authentik.Client
}

func (e *external) api() *api.CoreAPIService { return e.client.API.CoreAPI }

// slugOf returns the application's slug: its external name, which the slug
// in the spec, when set, must equal.
func slugOf(cr *v1alpha1.Application) (string, error) {
	slug := meta.GetExternalName(cr)
	if slug == "" {
		return "", errors.New(errNoExternalName)
	}
	if s := cr.Spec.ForProvider.Slug; s != nil && *s != slug {
		return "", errors.Errorf("%s (slug %q, external name %q)", errSlugMismatch, *s, slug)
	}
	return slug, nil
}

// Observe reads the application by its slug and compares it with the spec.
func (e *external) Observe(ctx context.Context, cr *v1alpha1.Application) (managed.ExternalObservation, error) {
	if meta.GetExternalName(cr) == "" {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	slug, err := slugOf(cr)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	a, resp, err := e.api().CoreApplicationsRetrieve(ctx, slug).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		if authentik.IsNotFound(err) {
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		return managed.ExternalObservation{}, errors.Wrap(err, errGet)
	}

	observed := parametersOf(a)
	diff := Diff(cr.Spec.ForProvider, observed)
	lateInit := LateInitialize(&cr.Spec.ForProvider, observed)
	cr.Status.AtProvider = observation(a)
	cr.SetConditions(xpv2.Available())

	return managed.ExternalObservation{
		ResourceExists:          true,
		ResourceUpToDate:        diff == "",
		ResourceLateInitialized: lateInit,
		Diff:                    diff,
	}, nil
}

// Create makes the application with the external name as its slug.
func (e *external) Create(ctx context.Context, cr *v1alpha1.Application) (managed.ExternalCreation, error) {
	slug, err := slugOf(cr)
	if err != nil {
		return managed.ExternalCreation{}, err
	}
	a, resp, err := e.api().CoreApplicationsCreate(ctx).ApplicationRequest(request(cr.Spec.ForProvider, slug)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return managed.ExternalCreation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPathsFor(cr.Spec.ForProvider)), errCreate)
	}
	cr.Status.AtProvider = observation(a)
	return managed.ExternalCreation{}, nil
}

// Update writes the whole spec with PUT. Fields the spec leaves unset are
// omitted and kept; a PUT without provider keeps the application's provider.
func (e *external) Update(ctx context.Context, cr *v1alpha1.Application) (managed.ExternalUpdate, error) {
	slug, err := slugOf(cr)
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	a, resp, err := e.api().CoreApplicationsUpdate(ctx, slug).ApplicationRequest(request(cr.Spec.ForProvider, slug)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return managed.ExternalUpdate{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPathsFor(cr.Spec.ForProvider)), errUpdate)
	}
	cr.Status.AtProvider = observation(a)
	return managed.ExternalUpdate{}, nil
}

// Delete removes the application; one that is already gone counts as
// deleted. Authentik keeps its provider and deletes the policy bindings
// that target it.
func (e *external) Delete(ctx context.Context, cr *v1alpha1.Application) (managed.ExternalDelete, error) {
	cr.SetConditions(xpv2.Deleting())
	slug, err := slugOf(cr)
	if err != nil {
		return managed.ExternalDelete{}, err
	}
	resp, err := e.api().CoreApplicationsDestroy(ctx, slug).Execute()
	if err := authentik.Classify(resp, err); err != nil && !authentik.IsNotFound(err) {
		return managed.ExternalDelete{}, errors.Wrap(err, errDelete)
	}
	return managed.ExternalDelete{}, nil
}

// Disconnect releases nothing: HTTP connections are pooled per config.
func (e *external) Disconnect(_ context.Context) error { return nil }

// observation is what status.atProvider shows of an application.
func observation(a *api.Application) v1alpha1.ApplicationObservation {
	o := v1alpha1.ApplicationObservation{
		PK:        ptr.To(a.Pk),
		LaunchURL: a.LaunchUrl.Get(),
	}
	if p := a.ProviderObj.Get(); p != nil {
		o.ProviderName = ptr.To(p.Name)
	}
	return o
}
