// Package proxyprovider manages Authentik proxy providers.
package proxyprovider

import (
	"context"
	"net/http"

	api "goauthentik.io/api/v3"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrexternal"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

const (
	errExternalName = "the external name must be the proxy provider's numeric pk"
	errFindByName   = "cannot look for a proxy provider with spec.forProvider.name"
	errResolveFlow  = "cannot resolve a flow slug of spec.forProvider"
	errObserveFlow  = "cannot name the provider's flows"
	errOtherType    = "has the name in spec.forProvider.name but is not a proxy provider, so it is never taken over by a ProxyProvider, even with spec.adoptExisting, and nothing was changed; rename or delete it in Authentik, or choose another spec.forProvider.name"

	// proxyComponent is the component Authentik reports for proxy
	// providers (ProxyProvider.component in
	// authentik/providers/proxy/models.py).
	proxyComponent = "ak-provider-proxy-form"
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

// Kind describes the ProxyProvider managed resource. A CertificateKeyPair
// that gets its UUID wakes the providers whose certificateRef names it.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.ProxyProviderGroupVersionKind,
	GroupKind:        v1alpha1.ProxyProviderGroupKind,
	Object:           &v1alpha1.ProxyProvider{},
	List:             &v1alpha1.ProxyProviderList{},
	Dependencies: []mrbehavior.Dependency{mrbehavior.KeyPairDependency(func(cr *v1alpha1.ProxyProvider) *xpv2.Reference {
		return cr.Spec.ForProvider.CertificateRef
	})},
}

func forProvider(cr *v1alpha1.ProxyProvider) *v1alpha1.ProxyProviderParameters {
	return &cr.Spec.ForProvider
}

// providers is how a ProxyProvider is reconciled. Update writes the whole
// spec with PUT: Authentik checks the mode and internal host rule on the
// request body, so a partial PATCH can fail on a valid provider; fields
// the spec leaves unset are omitted and kept. Provider names are unique in
// Authentik across every provider type, so what has the name is found
// before any write when the shared list of proxy providers shows it, else
// by Authentik refusing the create on the name; either way the adopter
// settles it (taken over with consent, else named as the obstacle) and
// nothing else is written. A provider of another type with the name is
// never a candidate: it is an error that says so.
var providers = &mrexternal.Kind[*v1alpha1.ProxyProvider, v1alpha1.ProxyProviderParameters, api.ProxyProvider, int32]{
	Collection:      authentik.ProxyProviders,
	FieldPaths:      fieldPaths,
	Noun:            "proxy provider",
	ErrExternalName: errExternalName,
	ErrFindByName:   errFindByName,
	Spec:            forProvider,
	Compare:         mrexternal.ComparedWith(forProvider, parametersOf, specDiff, errObserveFlow),
	LateInitialize:  lateInitialize,
	Observe:         func(cr *v1alpha1.ProxyProvider, p *api.ProxyProvider) { cr.Status.AtProvider = observation(p) },
	Create: mrexternal.Send(forProvider, request, func(ctx context.Context, c *authentik.Client, r api.ProxyProviderRequest) (*api.ProxyProvider, *http.Response, error) {
		return c.API.ProvidersAPI.ProvidersProxyCreate(ctx).ProxyProviderRequest(r).Execute()
	}),
	Update: mrexternal.SendTo(forProvider, request, func(ctx context.Context, c *authentik.Client, pk int32, r api.ProxyProviderRequest) (*api.ProxyProvider, *http.Response, error) {
		return c.API.ProvidersAPI.ProvidersProxyUpdate(ctx, pk).ProxyProviderRequest(r).Execute()
	}),
	Delete: func(ctx context.Context, c *authentik.Client, pk int32) (*http.Response, error) {
		return c.API.ProvidersAPI.ProvidersProxyDestroy(ctx, pk).Execute()
	},
	Name: func(cr *v1alpha1.ProxyProvider) *string { return cr.Spec.ForProvider.Name },
	List: func(ctx context.Context, c *authentik.Client, name string) ([]api.ProxyProvider, *http.Response, error) {
		return mrexternal.Results(c.API.ProvidersAPI.ProvidersProxyList(ctx).NameIexact(name).Execute())
	},
	ObjectName:  func(p *api.ProxyProvider) string { return p.Name },
	Other:       mrexternal.OtherProvider(proxyComponent, errOtherType),
	ListedFirst: true,
}

// ReconcilerOptions are the options particular to ProxyProviders: the
// connector and, in place of the default name initializer (the pk is
// Authentik's to choose), the adopter for unconfirmed creates, and the
// resolver of certificateRef.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	return append(providers.ReconcilerOptions(kube, conn), managed.WithReferenceResolver(mrbehavior.ReferenceResolver(kube)))
}

// SetupGated adds a controller that reconciles ProxyProviders once the
// ProxyProvider CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}
