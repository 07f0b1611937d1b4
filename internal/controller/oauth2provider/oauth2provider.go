// Package oauth2provider manages Authentik OAuth2/OpenID Connect providers
// and writes their client credentials to the resource's connection Secret.
package oauth2provider

import (
	"context"
	"strconv"

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
	errExternalName = "the external name must be the OAuth2 provider's numeric pk"
	errGet          = "cannot get OAuth2 provider"
	errCreate       = "cannot create OAuth2 provider"
	errUpdate       = "cannot update OAuth2 provider"
	errDelete       = "cannot delete OAuth2 provider"
	errObserve      = "cannot compare the OAuth2 provider with spec.forProvider"
	errNoSecret     = "Authentik's answer holds no client_secret, which the connection Secret needs" //nolint:gosec // An error message, not a credential.
)

// fieldPaths maps Authentik's request fields to this resource's fields, so
// Authentik's validation messages name what the user has to change.
var fieldPaths = map[string]string{
	"name":                       "spec.forProvider.name",
	"client_type":                "spec.forProvider.clientType",
	"client_id":                  "spec.forProvider.clientId",
	"client_secret":              "spec.forProvider.clientSecretSecretRef",
	"redirect_uris":              "spec.forProvider.redirectUris",
	"signing_key":                "spec.forProvider.signingKey",
	"property_mappings":          "spec.forProvider.scopeMappings",
	"access_code_validity":       "spec.forProvider.accessCodeValidity",
	"access_token_validity":      "spec.forProvider.accessTokenValidity",
	"refresh_token_validity":     "spec.forProvider.refreshTokenValidity",
	"sub_mode":                   "spec.forProvider.subMode",
	"include_claims_in_id_token": "spec.forProvider.includeClaimsInIdToken",
	"issuer_mode":                "spec.forProvider.issuerMode",
	"authorization_flow":         "spec.forProvider.authorizationFlow",
	"invalidation_flow":          "spec.forProvider.invalidationFlow",
}

// Kind describes the OAuth2Provider managed resource. A ScopeMapping or
// CertificateKeyPair that gets its UUID wakes the providers whose
// scopeMappingRefs or signingKeyRef name it.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.OAuth2ProviderGroupVersionKind,
	GroupKind:        v1alpha1.OAuth2ProviderGroupKind,
	Object:           &v1alpha1.OAuth2Provider{},
	List:             &v1alpha1.OAuth2ProviderList{},
	Dependencies: []mrbehavior.Dependency{
		{
			Object: &v1alpha1.ScopeMapping{},
			Value:  mrbehavior.ExternalName,
			Names: func(mg resource.Managed) []string {
				var names []string
				for _, r := range mg.(*v1alpha1.OAuth2Provider).Spec.ForProvider.ScopeMappingRefs {
					names = append(names, r.Name)
				}
				return names
			},
		},
		mrbehavior.KeyPairDependency(func(cr *v1alpha1.OAuth2Provider) *xpv2.Reference { return cr.Spec.ForProvider.SigningKeyRef }),
		{
			// An application that starts serving the provider wakes it: its
			// issuer names the application's slug, which it reads from Authentik.
			Object: &v1alpha1.Application{},
			Value: func(o client.Object) string {
				return ptr.Deref(o.(*v1alpha1.Application).Status.AtProvider.ProviderName, "")
			},
			Wakes: func(_ context.Context, _ client.Reader, o client.Object) []string {
				if r := o.(*v1alpha1.Application).Spec.ForProvider.ProviderRef; r != nil && r.Kind == v1alpha1.OAuth2ProviderKind {
					return []string{r.Name}
				}
				return nil
			},
		},
	},
}

// ReconcilerOptions are the options particular to OAuth2Providers: the
// connector and, in place of the default name initializer (the pk is
// Authentik's to choose), the adopter for unconfirmed creates. kube reads
// the Secret holding the client secret.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	c := mrsetup.NewConnector[*v1alpha1.OAuth2Provider](conn, func(ac *authentik.Client) *external {
		return &external{client: ac, kube: kube}
	})
	return []managed.ReconcilerOption{
		managed.WithReferenceResolver(mrbehavior.ReferenceResolver(kube)),
		managed.WithTypedExternalConnector[*v1alpha1.OAuth2Provider](c),
		managed.WithInitializers(&mrbehavior.Adopter{Kube: kube, Find: candidates(c.External)}),
	}
}

// SetupGated adds a controller that reconciles OAuth2Providers once the
// OAuth2Provider CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}

// external reconciles one OAuth2Provider with Authentik.
type external struct {
	client *authentik.Client
	kube   client.Client
}

func (e *external) api() *api.ProvidersAPIService { return e.client.API.ProvidersAPI }

// Observe reads the provider by its pk, compares it with the spec and
// returns the credentials for the connection Secret.
func (e *external) Observe(ctx context.Context, cr *v1alpha1.OAuth2Provider) (managed.ExternalObservation, error) {
	en := meta.GetExternalName(cr)
	if en == "" {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	pk, err := parsePK(en)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	p, err := authentik.OAuth2Providers.GetCached(ctx, e.client, strconv.Itoa(int(pk)))
	if err != nil {
		if authentik.IsNotFound(err) {
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		return managed.ExternalObservation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errGet)
	}
	if p.ClientSecret == nil {
		// The schema does not require the key; every release sends it.
		return managed.ExternalObservation{}, errors.New(errNoSecret)
	}

	seen, err := e.compare(ctx, cr, p)
	if err != nil {
		return managed.ExternalObservation{}, errors.Wrap(err, errObserve)
	}
	lateInit := lateInitialize(&cr.Spec.ForProvider, seen.observed)
	cr.Status.AtProvider = seen.observation
	cr.SetConditions(xpv2.Available())

	return managed.ExternalObservation{
		ResourceExists:          true,
		ResourceUpToDate:        seen.diff == "",
		ResourceLateInitialized: lateInit,
		Diff:                    seen.diff,
		ConnectionDetails:       e.connectionDetails(p),
	}, nil
}

// Create makes the provider and records its pk as the external name.
func (e *external) Create(ctx context.Context, cr *v1alpha1.OAuth2Provider) (managed.ExternalCreation, error) {
	if adopted, err := mrbehavior.AdoptOnCreate(ctx, cr, candidates(e.connected)); adopted || err != nil {
		return managed.ExternalCreation{}, err
	}
	want, err := e.resolve(ctx, cr)
	if err != nil {
		return managed.ExternalCreation{}, err
	}
	p, resp, err := e.api().ProvidersOauth2Create(ctx).OAuth2ProviderRequest(createRequest(cr.Spec.ForProvider, want)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		if authentik.CreateMayHaveSucceeded(err) {
			// Authentik may have made the provider although its answer was
			// lost or unreadable; the adopter looks for it before
			// creating again.
			mrbehavior.MarkCreateUnconfirmed(cr)
		}
		return managed.ExternalCreation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errCreate)
	}
	// The next Observe reads what Authentik answered.
	authentik.OAuth2Providers.KeepCreated(e.client, p)
	meta.SetExternalName(cr, strconv.Itoa(int(p.Pk)))
	return managed.ExternalCreation{ConnectionDetails: e.connectionDetails(p)}, nil
}

// Update sends the fields the spec sets with PATCH: fields it leaves unset
// are not managed and keep Authentik's values, redirect URIs included.
func (e *external) Update(ctx context.Context, cr *v1alpha1.OAuth2Provider) (managed.ExternalUpdate, error) {
	pk, err := parsePK(meta.GetExternalName(cr))
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	want, err := e.resolve(ctx, cr)
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	p, resp, err := e.api().ProvidersOauth2PartialUpdate(ctx, pk).PatchedOAuth2ProviderRequest(patchRequest(cr.Spec.ForProvider, want)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return managed.ExternalUpdate{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errUpdate)
	}
	return managed.ExternalUpdate{ConnectionDetails: e.connectionDetails(p)}, nil
}

// Delete removes the provider; one that is already gone counts as deleted.
func (e *external) Delete(ctx context.Context, cr *v1alpha1.OAuth2Provider) (managed.ExternalDelete, error) {
	cr.SetConditions(xpv2.Deleting())
	pk, err := parsePK(meta.GetExternalName(cr))
	if err != nil {
		return managed.ExternalDelete{}, err
	}
	resp, err := e.api().ProvidersOauth2Destroy(ctx, pk).Execute()
	if err := authentik.Classify(resp, err); err != nil && !authentik.IsNotFound(err) {
		return managed.ExternalDelete{}, errors.Wrap(err, errDelete)
	}
	return managed.ExternalDelete{}, nil
}

// connected is this external client, for finding what exists before a
// create.
func (e *external) connected(context.Context, *v1alpha1.OAuth2Provider) (*external, error) {
	return e, nil
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
