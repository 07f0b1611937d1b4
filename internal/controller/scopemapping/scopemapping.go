// Package scopemapping manages Authentik OAuth2 scope mappings. It writes
// a mapping's expression as the user gave it and never runs it, logs it or
// puts it in an event: a diff says that the expression differs, not what
// it is.
package scopemapping

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

const errExternalName = "the external name must be the scope mapping's UUID"

// fieldPaths maps Authentik's request fields to this resource's fields, so
// Authentik's validation messages name what the user has to change.
var fieldPaths = map[string]string{
	"name":        "spec.forProvider.name",
	"scope_name":  "spec.forProvider.scopeName",
	"description": "spec.forProvider.description",
	"expression":  "spec.forProvider.expression",
}

// Kind describes the ScopeMapping managed resource.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.ScopeMappingGroupVersionKind,
	GroupKind:        v1alpha1.ScopeMappingGroupKind,
	Object:           &v1alpha1.ScopeMapping{},
	List:             &v1alpha1.ScopeMappingList{},
}

func forProvider(cr *v1alpha1.ScopeMapping) *v1alpha1.ScopeMappingParameters {
	return &cr.Spec.ForProvider
}

// mappings is how a ScopeMapping is reconciled. Update writes the spec
// with PUT; an unset description is omitted and kept. A deleted mapping is
// taken off every provider that offered it. Property mapping names are
// unique in Authentik, so what a create would collide with is the scope
// mapping with the spec's name; a mapping of another type with the name is
// not listed, and Authentik refuses the create on spec.forProvider.name.
var mappings = &mrexternal.Kind[*v1alpha1.ScopeMapping, v1alpha1.ScopeMappingParameters, api.ScopeMapping, string]{
	Collection:      authentik.ScopeMappings,
	FieldPaths:      fieldPaths,
	Noun:            "scope mapping",
	ErrExternalName: errExternalName,
	ErrFindByName:   "cannot look for a scope mapping with spec.forProvider.name",
	Spec:            forProvider,
	Compare:         mrexternal.Compared(forProvider, parametersOf, specDiff),
	LateInitialize:  lateInitialize,
	Observe:         func(cr *v1alpha1.ScopeMapping, m *api.ScopeMapping) { cr.Status.AtProvider = observation(m) },
	Create: mrexternal.Send(forProvider, mrexternal.Plain[api.ScopeMapping](request), func(ctx context.Context, c *authentik.Client, r api.ScopeMappingRequest) (*api.ScopeMapping, *http.Response, error) {
		return c.API.PropertymappingsAPI.PropertymappingsProviderScopeCreate(ctx).ScopeMappingRequest(r).Execute()
	}),
	Update: mrexternal.SendTo(forProvider, mrexternal.Plain[api.ScopeMapping](request), func(ctx context.Context, c *authentik.Client, id string, r api.ScopeMappingRequest) (*api.ScopeMapping, *http.Response, error) {
		return c.API.PropertymappingsAPI.PropertymappingsProviderScopeUpdate(ctx, id).ScopeMappingRequest(r).Execute()
	}),
	Delete: func(ctx context.Context, c *authentik.Client, id string) (*http.Response, error) {
		return c.API.PropertymappingsAPI.PropertymappingsProviderScopeDestroy(ctx, id).Execute()
	},
	Name: func(cr *v1alpha1.ScopeMapping) *string { return cr.Spec.ForProvider.Name },
	List: func(ctx context.Context, c *authentik.Client, name string) ([]api.ScopeMapping, *http.Response, error) {
		return mrexternal.Results(c.API.PropertymappingsAPI.PropertymappingsProviderScopeList(ctx).Name(name).Execute())
	},
	ObjectName: func(m *api.ScopeMapping) string { return m.Name },
}

// ReconcilerOptions are the options particular to ScopeMappings: the
// connector and, in place of the default name initializer (the UUID is
// Authentik's to choose), the adopter for unconfirmed creates.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	return mappings.ReconcilerOptions(kube, conn)
}

// SetupGated adds a controller that reconciles ScopeMappings once the
// ScopeMapping CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}
