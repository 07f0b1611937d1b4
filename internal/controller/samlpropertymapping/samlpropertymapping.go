// Package samlpropertymapping manages Authentik SAML property mappings. It
// writes a mapping's expression as the user gave it and never runs it, logs
// it or puts it in an event: a diff says that the expression differs, not
// what it is.
package samlpropertymapping

import (
	"context"
	"net/http"

	api "goauthentik.io/api/v3"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrexternal"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

const errExternalName = "the external name must be the SAML property mapping's UUID"

// fieldPaths maps Authentik's request fields to this resource's fields, so
// Authentik's validation messages name what the user has to change.
var fieldPaths = map[string]string{
	"name":          "spec.forProvider.name",
	"saml_name":     "spec.forProvider.samlName",
	"friendly_name": "spec.forProvider.friendlyName",
	"expression":    "spec.forProvider.expression",
}

// Kind describes the SAMLPropertyMapping managed resource.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.SAMLPropertyMappingGroupVersionKind,
	GroupKind:        v1alpha1.SAMLPropertyMappingGroupKind,
	Object:           &v1alpha1.SAMLPropertyMapping{},
	List:             &v1alpha1.SAMLPropertyMappingList{},
}

func forProvider(cr *v1alpha1.SAMLPropertyMapping) *v1alpha1.SAMLPropertyMappingParameters {
	return &cr.Spec.ForProvider
}

// mappings is how a SAMLPropertyMapping is reconciled. Update writes the
// spec with PUT; an unset friendly name is omitted and kept. A deleted
// mapping is taken off every provider that used it. Property mapping names
// are unique in Authentik across mapping types, so what a create would
// collide with is the SAML mapping with the spec's name; a mapping of
// another type with the name is not listed, and Authentik refuses the
// create on spec.forProvider.name.
var mappings = &mrexternal.Kind[*v1alpha1.SAMLPropertyMapping, v1alpha1.SAMLPropertyMappingParameters, api.SAMLPropertyMapping, string]{
	Collection:      authentik.SAMLPropertyMappings,
	FieldPaths:      fieldPaths,
	Noun:            "SAML property mapping",
	ErrExternalName: errExternalName,
	ErrFindByName:   "cannot look for a SAML property mapping with spec.forProvider.name",
	Spec:            forProvider,
	Compare:         mrexternal.Compared(forProvider, parametersOf, specDiff),
	LateInitialize:  lateInitialize,
	Observe: func(cr *v1alpha1.SAMLPropertyMapping, m *api.SAMLPropertyMapping) {
		cr.Status.AtProvider = observation(m)
	},
	Create: mrexternal.Send(forProvider, mrexternal.Plain[api.SAMLPropertyMapping](request), func(ctx context.Context, c *authentik.Client, r api.SAMLPropertyMappingRequest) (*api.SAMLPropertyMapping, *http.Response, error) {
		return c.API.PropertymappingsAPI.PropertymappingsProviderSamlCreate(ctx).SAMLPropertyMappingRequest(r).Execute()
	}),
	Update: mrexternal.SendTo(forProvider, mrexternal.Plain[api.SAMLPropertyMapping](request), func(ctx context.Context, c *authentik.Client, id string, r api.SAMLPropertyMappingRequest) (*api.SAMLPropertyMapping, *http.Response, error) {
		return c.API.PropertymappingsAPI.PropertymappingsProviderSamlUpdate(ctx, id).SAMLPropertyMappingRequest(r).Execute()
	}),
	Delete: func(ctx context.Context, c *authentik.Client, id string) (*http.Response, error) {
		return c.API.PropertymappingsAPI.PropertymappingsProviderSamlDestroy(ctx, id).Execute()
	},
	Name: func(cr *v1alpha1.SAMLPropertyMapping) *string { return cr.Spec.ForProvider.Name },
	List: func(ctx context.Context, c *authentik.Client, name string) ([]api.SAMLPropertyMapping, *http.Response, error) {
		return mrexternal.Results(c.API.PropertymappingsAPI.PropertymappingsProviderSamlList(ctx).Name(name).Execute())
	},
	ObjectName: func(m *api.SAMLPropertyMapping) string { return m.Name },
}

// ReconcilerOptions are the options particular to SAMLPropertyMappings: the
// connector and, in place of the default name initializer (the UUID is
// Authentik's to choose), the adopter for unconfirmed creates.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	return mappings.ReconcilerOptions(kube, conn)
}

// SetupGated adds a controller that reconciles SAMLPropertyMappings once
// the SAMLPropertyMapping CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}
