// Package proxyprovider manages Authentik proxy providers.
package proxyprovider

import (
	"context"
	"strconv"

	api "goauthentik.io/api/v3"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

const (
	errExternalName = "the external name must be the proxy provider's numeric pk"
	errGet          = "cannot get proxy provider"
	errCreate       = "cannot create proxy provider"
	errUpdate       = "cannot update proxy provider"
	errDelete       = "cannot delete proxy provider"
	errResolveFlow  = "cannot resolve a flow slug of spec.forProvider"
	errObserveFlow  = "cannot name the provider's flows"
)

// fieldPaths maps Authentik's request fields to this resource's fields, so
// Authentik's validation messages name what the user has to change.
var fieldPaths = map[string]string{
	"name":                          "spec.forProvider.name",
	"mode":                          "spec.forProvider.mode",
	"external_host":                 "spec.forProvider.externalHost",
	"internal_host":                 "spec.forProvider.internalHost",
	"internal_host_ssl_validation":  "spec.forProvider.internalHostSSLValidation",
	"authorization_flow":            "spec.forProvider.authorizationFlow",
	"invalidation_flow":             "spec.forProvider.invalidationFlow",
	"cookie_domain":                 "spec.forProvider.cookieDomain",
	"skip_path_regex":               "spec.forProvider.skipPathRegex",
	"basic_auth_enabled":            "spec.forProvider.basicAuthEnabled",
	"basic_auth_user_attribute":     "spec.forProvider.basicAuthUserAttribute",
	"basic_auth_password_attribute": "spec.forProvider.basicAuthPasswordAttribute",
	"intercept_header_auth":         "spec.forProvider.interceptHeaderAuth",
	"access_token_validity":         "spec.forProvider.accessTokenValidity",
	"refresh_token_validity":        "spec.forProvider.refreshTokenValidity",
	"certificate":                   "spec.forProvider.certificate",
	"property_mappings":             "spec.forProvider.propertyMappings",
}

// Kind describes the ProxyProvider managed resource.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.ProxyProviderGroupVersionKind,
	GroupKind:        v1alpha1.ProxyProviderGroupKind,
	Object:           &v1alpha1.ProxyProvider{},
	List:             &v1alpha1.ProxyProviderList{},
}

// ReconcilerOptions are the options particular to ProxyProviders: the
// connector and, in place of the default name initializer (the pk is
// Authentik's to choose), the adopter for unconfirmed creates.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	c := mrsetup.NewConnector[*v1alpha1.ProxyProvider](conn, func(ac *authentik.Client) *external {
		return &external{client: ac}
	})
	return []managed.ReconcilerOption{
		managed.WithTypedExternalConnector(mrbehavior.ObserveAfterCreate[*v1alpha1.ProxyProvider](c)),
		managed.WithInitializers(&mrbehavior.Adopter{Kube: kube, Find: candidates(c.Client)}),
	}
}

// SetupGated adds a controller that reconciles ProxyProviders once the
// ProxyProvider CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}

// external reconciles one ProxyProvider with Authentik.
type external struct {
	client *authentik.Client
}

func (e *external) api() *api.ProvidersAPIService { return e.client.API.ProvidersAPI }

// Observe reads the provider by its pk and compares it with the spec.
func (e *external) Observe(ctx context.Context, cr *v1alpha1.ProxyProvider) (managed.ExternalObservation, error) {
	en := meta.GetExternalName(cr)
	if en == "" {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	pk, err := parsePK(en)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	p, err := authentik.ProxyProviders.GetCached(ctx, e.client, strconv.Itoa(int(pk)))
	if err != nil {
		if authentik.IsNotFound(err) {
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		return managed.ExternalObservation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errGet)
	}

	observed, err := e.parametersOf(ctx, p, cr.Spec.ForProvider)
	if err != nil {
		return managed.ExternalObservation{}, errors.Wrap(err, errObserveFlow)
	}
	diff := specDiff(cr.Spec.ForProvider, observed)
	lateInit := lateInitialize(&cr.Spec.ForProvider, observed)
	cr.Status.AtProvider = observation(p)
	cr.SetConditions(xpv2.Available())

	return managed.ExternalObservation{
		ResourceExists:          true,
		ResourceUpToDate:        diff == "",
		ResourceLateInitialized: lateInit,
		Diff:                    diff,
	}, nil
}

// Create makes the provider and records its pk as the external name.
// Provider names are unique in Authentik, so what already has the name is
// found before any write when the shared list of proxy providers shows it,
// else by Authentik refusing the create on the name; either way the
// adopter settles it (taken over with consent, else named as the
// obstacle) and nothing else is written.
func (e *external) Create(ctx context.Context, cr *v1alpha1.ProxyProvider) (managed.ExternalCreation, error) {
	adopt := func() (bool, error) { return mrbehavior.AdoptOnCreate(ctx, cr, candidates(e.connected)) }
	listed, err := e.nameListed(ctx, cr.Spec.ForProvider.Name)
	if err != nil {
		return managed.ExternalCreation{}, errors.Wrap(err, errFindByName)
	}
	if listed {
		if adopted, err := adopt(); adopted || err != nil {
			return managed.ExternalCreation{}, err
		}
	}
	req, err := e.request(ctx, cr.Spec.ForProvider)
	if err != nil {
		return managed.ExternalCreation{}, err
	}
	p, resp, err := e.api().ProvidersProxyCreate(ctx).ProxyProviderRequest(req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		if authentik.IsRefusedField(err, "name") {
			if adopted, aerr := adopt(); adopted || aerr != nil {
				return managed.ExternalCreation{}, aerr
			}
		}
		if authentik.CreateMayHaveSucceeded(err) {
			// Authentik may have made the provider although its answer was
			// lost or unreadable; the adopter looks for it before
			// creating again.
			mrbehavior.MarkCreateUnconfirmed(cr)
		}
		return managed.ExternalCreation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errCreate)
	}
	// The next Observe reads what Authentik answered.
	authentik.ProxyProviders.KeepCreated(e.client, p)
	meta.SetExternalName(cr, strconv.Itoa(int(p.Pk)))
	cr.Status.AtProvider = observation(p)
	return managed.ExternalCreation{}, nil
}

// nameListed tells whether the shared list of proxy providers holds one
// named name. False is no proof that none is: the list may be older than
// it, and providers of other types are not in it.
func (e *external) nameListed(ctx context.Context, name *string) (bool, error) {
	if name == nil {
		return false, nil
	}
	p, err := authentik.ProxyProviders.FindCached(ctx, e.client, func(p *api.ProxyProvider) bool { return p.Name == *name })
	return p != nil, err
}

// Update writes the whole spec with PUT: Authentik checks the mode and
// internal host rule on the request body, so a partial PATCH can fail on a
// valid provider. Fields the spec leaves unset are omitted and kept.
func (e *external) Update(ctx context.Context, cr *v1alpha1.ProxyProvider) (managed.ExternalUpdate, error) {
	pk, err := parsePK(meta.GetExternalName(cr))
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	req, err := e.request(ctx, cr.Spec.ForProvider)
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	p, resp, err := e.api().ProvidersProxyUpdate(ctx, pk).ProxyProviderRequest(req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return managed.ExternalUpdate{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errUpdate)
	}
	cr.Status.AtProvider = observation(p)
	return managed.ExternalUpdate{}, nil
}

// Delete removes the provider; one that is already gone counts as deleted.
func (e *external) Delete(ctx context.Context, cr *v1alpha1.ProxyProvider) (managed.ExternalDelete, error) {
	cr.SetConditions(xpv2.Deleting())
	pk, err := parsePK(meta.GetExternalName(cr))
	if err != nil {
		return managed.ExternalDelete{}, err
	}
	resp, err := e.api().ProvidersProxyDestroy(ctx, pk).Execute()
	if err := authentik.Classify(resp, err); err != nil && !authentik.IsNotFound(err) {
		return managed.ExternalDelete{}, errors.Wrap(err, errDelete)
	}
	return managed.ExternalDelete{}, nil
}

// connected is the client this external client uses, for finding what
// exists before a create.
func (e *external) connected(context.Context, *v1alpha1.ProxyProvider) (*authentik.Client, error) {
	return e.client, nil
}

// Disconnect releases nothing: HTTP connections are pooled per config.
func (e *external) Disconnect(_ context.Context) error { return nil }

func parsePK(externalName string) (int32, error) {
	pk, err := strconv.ParseInt(externalName, 10, 32)
	if err != nil || pk <= 0 {
		return 0, errors.Errorf("%s, not %q", errExternalName, externalName)
	}
	return int32(pk), nil
}
