// Package application manages Authentik applications.
package application

import (
	"context"
	"fmt"
	"regexp"
	"strings"

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
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

const (
	errSlugMismatch     = "spec.forProvider.slug differs from the external name; the slug identifies the application, so set both to the same value"
	errBadSlug          = "is not a valid Authentik slug (letters, digits, - and _ only); set spec.forProvider.slug"
	errGet              = "cannot get application"
	errCreate           = "cannot create application"
	errUpdate           = "cannot update application"
	errDelete           = "cannot delete application"
	errCheckBindings    = "cannot check the policy bindings of spec.forProvider.requiredGroups"
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
	Dependencies: append(mrbehavior.ProviderDependencies(func(mg resource.Managed) *v1alpha1.ProviderReference {
		return mg.(*v1alpha1.Application).Spec.ForProvider.ProviderRef
	}), mrbehavior.Dependency{
		// A binding made wakes the application it binds, which may be
		// waiting for it to serve its provider (requiredGroups).
		Object: &v1alpha1.PolicyBinding{},
		Value:  mrbehavior.ExternalName,
		Wakes: func(_ context.Context, _ client.Reader, o client.Object) []string {
			if r := o.(*v1alpha1.PolicyBinding).Spec.ForProvider.ApplicationRef; r != nil {
				return []string{r.Name}
			}
			return nil
		},
	}),
}

// ReconcilerOptions are the options particular to Applications: the
// connector and, in place of the default name initializer, the adopter.
// The slug becomes the external name only when this resource has made the
// application (or the user named it, or set spec.adoptExisting), so an
// application that already has the slug is never taken over on sight.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	c := mrsetup.NewConnector[*v1alpha1.Application](conn, func(ac *authentik.Client) *external {
		return &external{client: ac}
	})
	return []managed.ReconcilerOption{
		managed.WithReferenceResolver(mrbehavior.ReferenceResolver(kube)),
		managed.WithTypedExternalConnector(mrbehavior.ObserveAfterCreate[*v1alpha1.Application](c)),
		managed.WithInitializers(&mrbehavior.Adopter{Kube: kube, Find: candidates(c.Client)}),
	}
}

// SetupGated adds a controller that reconciles Applications once the
// Application CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}

// external reconciles one Application with Authentik. It lives for one
// reconcile.
type external struct {
	client *authentik.Client
	// withheld says why the application is kept without its provider in
	// this reconcile (requiredGroups), "" when it may serve it.
	withheld string
	// created is set once Create made the application in this reconcile:
	// Authentik has just chosen its UUID, so no binding targets it yet.
	created bool
}

// desired is what the application should be in Authentik now: the spec,
// without a provider while it is withheld.
func (e *external) desired(p v1alpha1.ApplicationParameters) v1alpha1.ApplicationParameters {
	if e.withheld != "" {
		p.DetachProvider = ptr.To(true)
	}
	return p
}

// withholdReason tells why the application must not serve its provider, or
// "" if it may: every group in requiredGroups needs an enabled, not negated
// policy binding on it, since until then it may admit users outside them.
// A resource being deleted withholds nothing.
func (e *external) withholdReason(ctx context.Context, cr *v1alpha1.Application, a *api.Application) (string, error) {
	required := cr.Spec.ForProvider.RequiredGroups
	if len(required) == 0 || meta.WasDeleted(cr) {
		return "", nil
	}
	missing := required
	if !e.created {
		var err error
		if missing, err = authentik.UnboundGroupsOf(ctx, e.client, required, a.Pk); err != nil {
			return "", errors.Wrap(err, errCheckBindings)
		}
	}
	if len(missing) == 0 {
		return "", nil
	}
	why := make([]string, 0, len(missing))
	for _, g := range missing {
		why = append(why, fmt.Sprintf("group %q has no policy binding on application %q", g, a.Slug))
	}
	return "provider withheld: " + strings.Join(why, "; "), nil
}

func (e *external) api() *api.CoreAPIService { return e.client.API.CoreAPI }

// slugOf returns the application's slug: its external name once it has
// one (which the slug in the spec, when set, must equal), else
// spec.forProvider.slug, else metadata.name.
func slugOf(cr *v1alpha1.Application) (string, error) {
	if slug := meta.GetExternalName(cr); slug != "" {
		if s := cr.Spec.ForProvider.Slug; s != nil && *s != slug {
			return "", errors.Errorf("%s (slug %q, external name %q)", errSlugMismatch, *s, slug)
		}
		return slug, nil
	}
	slug, from := cr.GetName(), "metadata.name"
	if cr.Spec.ForProvider.Slug != nil {
		slug, from = *cr.Spec.ForProvider.Slug, "spec.forProvider.slug"
	}
	if !slugPattern.MatchString(slug) {
		return "", errors.Errorf("%s %q %s", from, slug, errBadSlug)
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
	a, err := authentik.Applications.GetCached(ctx, e.client, slug)
	if err != nil {
		if authentik.IsNotFound(err) {
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		return managed.ExternalObservation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPathsFor(cr.Spec.ForProvider)), errGet)
	}

	if e.withheld, err = e.withholdReason(ctx, cr, a); err != nil {
		return managed.ExternalObservation{}, err
	}
	observed := parametersOf(a)
	diff := specDiff(e.desired(cr.Spec.ForProvider), observed)
	cr.Status.AtProvider = observation(a)
	if e.withheld != "" {
		// A provider Authentik still has is not one to copy into the spec.
		observed.Provider = nil
		cr.Status.AtProvider.WithheldReason = ptr.To(e.withheld)
		cr.SetConditions(xpv2.Unavailable().WithMessage(e.withheld))
	} else {
		cr.SetConditions(xpv2.Available())
	}
	lateInit := lateInitialize(&cr.Spec.ForProvider, observed)

	return managed.ExternalObservation{
		ResourceExists:          true,
		ResourceUpToDate:        diff == "",
		ResourceLateInitialized: lateInit,
		Diff:                    diff,
	}, nil
}

// Create makes the application and records its slug as the external
// name. With requiredGroups it is made without a provider: no binding can
// target an application before Authentik has chosen its UUID. Slugs are unique in Authentik, so an application that already has
// the slug is found before any write when the shared list of applications
// shows it, else by Authentik refusing the create on the slug; either way
// the adopter settles it (taken over with consent, else named as the
// obstacle) and nothing else is written.
func (e *external) Create(ctx context.Context, cr *v1alpha1.Application) (managed.ExternalCreation, error) {
	slug, err := slugOf(cr)
	if err != nil {
		return managed.ExternalCreation{}, err
	}
	adopt := func() (bool, error) { return mrbehavior.AdoptOnCreate(ctx, cr, candidates(e.connected)) }
	listed, err := authentik.Applications.FindCached(ctx, e.client, func(a *api.Application) bool { return a.Slug == slug })
	if err != nil {
		return managed.ExternalCreation{}, errors.Wrap(err, errFindBySlug)
	}
	if listed != nil {
		if adopted, err := adopt(); adopted || err != nil {
			return managed.ExternalCreation{}, err
		}
	}
	want := cr.Spec.ForProvider
	if len(want.RequiredGroups) > 0 {
		want.DetachProvider = ptr.To(true)
	}
	a, resp, err := e.api().CoreApplicationsCreate(ctx).ApplicationRequest(request(want, slug)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		if authentik.IsRefusedField(err, "slug") {
			if adopted, aerr := adopt(); adopted || aerr != nil {
				return managed.ExternalCreation{}, aerr
			}
		}
		if authentik.CreateMayHaveSucceeded(err) {
			// Authentik may have made the application although its answer
			// was lost or unreadable; the adopter looks for it before
			// creating again.
			mrbehavior.MarkCreateUnconfirmed(cr)
		}
		return managed.ExternalCreation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPathsFor(cr.Spec.ForProvider)), errCreate)
	}
	// The next Observe reads what Authentik answered.
	authentik.Applications.KeepCreated(e.client, a)
	e.created = true
	meta.SetExternalName(cr, slug)
	cr.Status.AtProvider = observation(a)
	return managed.ExternalCreation{}, nil
}

// Update writes the whole spec with PUT. Fields the spec leaves unset are
// omitted and kept; a PUT without provider keeps the application's provider,
// and one withheld (Observe said why) is detached.
func (e *external) Update(ctx context.Context, cr *v1alpha1.Application) (managed.ExternalUpdate, error) {
	slug, err := slugOf(cr)
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	a, resp, err := e.api().CoreApplicationsUpdate(ctx, slug).ApplicationRequest(request(e.desired(cr.Spec.ForProvider), slug)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return managed.ExternalUpdate{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPathsFor(cr.Spec.ForProvider)), errUpdate)
	}
	cr.Status.AtProvider = observation(a)
	if e.withheld != "" {
		cr.Status.AtProvider.WithheldReason = ptr.To(e.withheld)
	}
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

// connected is the client this external client uses, for finding what
// exists before a create.
func (e *external) connected(context.Context, *v1alpha1.Application) (*authentik.Client, error) {
	return e.client, nil
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
