// Package ldapprovider manages Authentik LDAP providers, which an Outpost
// of type ldap serves.
package ldapprovider

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
	errExternalName = "the external name must be the LDAP provider's numeric pk"
	errObserveFlow  = "cannot name the provider's flows and certificate"
	errOtherType    = "has the name in spec.forProvider.name but is not an LDAP provider, so it is never taken over by an LDAPProvider, even with spec.adoptExisting, and nothing was changed; rename or delete it in Authentik, or choose another spec.forProvider.name"
	// ldapComponent is the component Authentik reports for LDAP
	// providers (LDAPProvider.component).
	ldapComponent = "ak-provider-ldap-form"
)

// fieldPaths maps Authentik's request fields to this resource's fields, so
// Authentik's validation messages name what the user has to change.
var fieldPaths = map[string]string{
	"name":               "spec.forProvider.name",
	"base_dn":            "spec.forProvider.baseDN",
	"authorization_flow": "spec.forProvider.authorizationFlow",
	"invalidation_flow":  "spec.forProvider.invalidationFlow",
	"bind_mode":          "spec.forProvider.bindMode",
	"search_mode":        "spec.forProvider.searchMode",
	"mfa_support":        "spec.forProvider.mfaSupport",
	"certificate":        "spec.forProvider.certificateId",
	"tls_server_name":    "spec.forProvider.tlsServerName",
	"uid_start_number":   "spec.forProvider.uidStartNumber",
	"gid_start_number":   "spec.forProvider.gidStartNumber",
}

// Kind describes the LDAPProvider managed resource. A CertificateKeyPair
// that gets its UUID wakes the providers whose certificateRef names it.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.LDAPProviderGroupVersionKind,
	GroupKind:        v1alpha1.LDAPProviderGroupKind,
	Object:           &v1alpha1.LDAPProvider{},
	List:             &v1alpha1.LDAPProviderList{},
	Dependencies: []mrbehavior.Dependency{mrbehavior.KeyPairDependency(func(cr *v1alpha1.LDAPProvider) *xpv2.Reference {
		return cr.Spec.ForProvider.CertificateRef
	})},
}

func forProvider(cr *v1alpha1.LDAPProvider) *v1alpha1.LDAPProviderParameters {
	return &cr.Spec.ForProvider
}

// providers is how an LDAPProvider is reconciled. Update writes the whole
// spec with PUT; fields the spec leaves unset are omitted and kept.
// Provider names are unique across every provider type in Authentik: a
// provider of another type with the name is not in the LDAP list, and
// Authentik refuses the create on spec.forProvider.name.
var providers = &mrexternal.Kind[*v1alpha1.LDAPProvider, v1alpha1.LDAPProviderParameters, api.LDAPProvider, int32]{
	Collection:      authentik.LDAPProviders,
	FieldPaths:      fieldPaths,
	Noun:            "LDAP provider",
	ErrExternalName: errExternalName,
	ErrFindByName:   "cannot look for an LDAP provider with spec.forProvider.name",
	Spec:            forProvider,
	Compare:         mrexternal.ComparedWith(forProvider, parametersOf, specDiff, errObserveFlow),
	LateInitialize:  lateInitialize,
	Observe:         func(cr *v1alpha1.LDAPProvider, p *api.LDAPProvider) { cr.Status.AtProvider = observation(p) },
	Create: mrexternal.Send(forProvider, request, func(ctx context.Context, c *authentik.Client, r api.LDAPProviderRequest) (*api.LDAPProvider, *http.Response, error) {
		return c.API.ProvidersAPI.ProvidersLdapCreate(ctx).LDAPProviderRequest(r).Execute()
	}),
	Update: mrexternal.SendTo(forProvider, request, func(ctx context.Context, c *authentik.Client, pk int32, r api.LDAPProviderRequest) (*api.LDAPProvider, *http.Response, error) {
		return c.API.ProvidersAPI.ProvidersLdapUpdate(ctx, pk).LDAPProviderRequest(r).Execute()
	}),
	Delete: func(ctx context.Context, c *authentik.Client, pk int32) (*http.Response, error) {
		return c.API.ProvidersAPI.ProvidersLdapDestroy(ctx, pk).Execute()
	},
	Name: func(cr *v1alpha1.LDAPProvider) *string { return cr.Spec.ForProvider.Name },
	List: func(ctx context.Context, c *authentik.Client, name string) ([]api.LDAPProvider, *http.Response, error) {
		return mrexternal.Results(c.API.ProvidersAPI.ProvidersLdapList(ctx).NameIexact(name).Execute())
	},
	ObjectName:  func(p *api.LDAPProvider) string { return p.Name },
	Other:       mrexternal.OtherProvider(ldapComponent, errOtherType),
	ListedFirst: true,
}

// ReconcilerOptions are the options particular to LDAPProviders: the
// connector, the resolver of certificateRef and, in place of the default
// name initializer (the pk is Authentik's to choose), the adopter for
// unconfirmed creates.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	return append([]managed.ReconcilerOption{managed.WithReferenceResolver(mrbehavior.ReferenceResolver(kube))}, providers.ReconcilerOptions(kube, conn)...)
}

// SetupGated adds a controller that reconciles LDAPProviders once the
// LDAPProvider CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}
