// Package samlprovider manages Authentik SAML providers.
package samlprovider

import (
	"context"
	"net/http"

	api "goauthentik.io/api/v3"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrexternal"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

const (
	errExternalName = "the external name must be the SAML provider's numeric pk"
	errFindByName   = "cannot look for a SAML provider with spec.forProvider.name"
	errOtherType    = "has the name in spec.forProvider.name but is not a SAML provider, so it is never taken over by a SAMLProvider, even with spec.adoptExisting, and nothing was changed; rename or delete it in Authentik, or choose another spec.forProvider.name"

	// samlComponent is the component Authentik reports for SAML providers
	// (SAMLProvider.component in authentik/providers/saml/models.py).
	samlComponent = "ak-provider-saml-form"
)

// fieldPaths maps Authentik's request fields to this resource's fields, so
// Authentik's validation messages name what the user has to change.
var fieldPaths = map[string]string{
	"name":                "spec.forProvider.name",
	"acs_url":             "spec.forProvider.acsUrl",
	"audience":            "spec.forProvider.audience",
	"issuer":              "spec.forProvider.issuer",
	"issuer_override":     "spec.forProvider.issuer",
	"sp_binding":          "spec.forProvider.spBinding",
	"sign_assertion":      "spec.forProvider.signAssertion",
	"sign_response":       "spec.forProvider.signResponse",
	"default_relay_state": "spec.forProvider.defaultRelayState",
	"signing_kp":          "spec.forProvider.signingKeyId",
	"property_mappings":   "spec.forProvider.propertyMappingIds",
	"authorization_flow":  "spec.forProvider.authorizationFlow",
	"invalidation_flow":   "spec.forProvider.invalidationFlow",
}

// Kind describes the SAMLProvider managed resource. A CertificateKeyPair
// or SAMLPropertyMapping that gets its UUID wakes the providers whose
// signingKeyRef or propertyMappingRefs name it.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.SAMLProviderGroupVersionKind,
	GroupKind:        v1alpha1.SAMLProviderGroupKind,
	Object:           &v1alpha1.SAMLProvider{},
	List:             &v1alpha1.SAMLProviderList{},
	Dependencies: []mrbehavior.Dependency{mrbehavior.KeyPairDependency(func(cr *v1alpha1.SAMLProvider) *xpv2.Reference {
		return cr.Spec.ForProvider.SigningKeyRef
	}), {
		Object: &v1alpha1.SAMLPropertyMapping{},
		Value:  mrbehavior.ExternalName,
		Names: func(mg resource.Managed) []string {
			var names []string
			for _, r := range mg.(*v1alpha1.SAMLProvider).Spec.ForProvider.PropertyMappingRefs {
				names = append(names, r.Name)
			}
			return names
		},
	}},
}

func forProvider(cr *v1alpha1.SAMLProvider) *v1alpha1.SAMLProviderParameters {
	return &cr.Spec.ForProvider
}

// providers is how a SAMLProvider is reconciled: Update sends the fields
// the spec sets with PATCH. Provider names are unique across every
// provider type, so what a create would collide with is the SAML provider
// with the spec's name, found before any write when the shared list shows
// it, else by Authentik refusing the create on the name. A provider of
// another type with the name is never a candidate: it is an error that
// says so.
var providers = &mrexternal.Kind[*v1alpha1.SAMLProvider, v1alpha1.SAMLProviderParameters, api.SAMLProvider, int32]{
	Collection:      authentik.SAMLProviders,
	FieldPaths:      fieldPaths,
	Noun:            "SAML provider",
	ErrExternalName: errExternalName,
	ErrFindByName:   errFindByName,
	Spec:            forProvider,
	Compare:         compare,
	LateInitialize:  lateInitialize,
	Observe:         func(cr *v1alpha1.SAMLProvider, p *api.SAMLProvider) { cr.Status.AtProvider = observation(p) },
	Create: mrexternal.Send(forProvider, createBody, func(ctx context.Context, c *authentik.Client, r api.SAMLProviderRequest) (*api.SAMLProvider, *http.Response, error) {
		return c.API.ProvidersAPI.ProvidersSamlCreate(ctx).SAMLProviderRequest(r).Execute()
	}),
	Update: mrexternal.SendTo(forProvider, patchBody, func(ctx context.Context, c *authentik.Client, pk int32, r api.PatchedSAMLProviderRequest) (*api.SAMLProvider, *http.Response, error) {
		return c.API.ProvidersAPI.ProvidersSamlPartialUpdate(ctx, pk).PatchedSAMLProviderRequest(r).Execute()
	}),
	Delete: func(ctx context.Context, c *authentik.Client, pk int32) (*http.Response, error) {
		return c.API.ProvidersAPI.ProvidersSamlDestroy(ctx, pk).Execute()
	},
	Name: func(cr *v1alpha1.SAMLProvider) *string { return cr.Spec.ForProvider.Name },
	List: func(ctx context.Context, c *authentik.Client, name string) ([]api.SAMLProvider, *http.Response, error) {
		return mrexternal.Results(c.API.ProvidersAPI.ProvidersSamlList(ctx).Name(name).Execute())
	},
	ObjectName:  func(p *api.SAMLProvider) string { return p.Name },
	Other:       mrexternal.OtherProvider(samlComponent, errOtherType),
	ListedFirst: true,
}

// ReconcilerOptions are the options particular to SAMLProviders: the
// shared external client and adopter, and the resolver of signingKeyRef
// and propertyMappingRefs.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	return append(providers.ReconcilerOptions(kube, conn), managed.WithReferenceResolver(mrbehavior.ReferenceResolver(kube)))
}

// SetupGated adds a controller that reconciles SAMLProviders once the
// SAMLProvider CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}
