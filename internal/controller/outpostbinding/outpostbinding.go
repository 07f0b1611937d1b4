// Package outpostbinding attaches providers to Authentik outposts, one
// provider per resource, without disturbing the rest of the outpost's
// provider list.
package outpostbinding

import (
	"context"
	"slices"
	"strconv"
	"strings"

	api "goauthentik.io/api/v3"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/outpost"
)

// EmbeddedOutpost is the managed key of the outpost every Authentik has.
// The outpost is found by it, never by its display name.
const EmbeddedOutpost = "goauthentik.io/outposts/embedded"

// AnnotationFoundAttached marks a binding whose provider was already on the
// outpost when the binding was created, without spec.adoptExisting. A
// binding never removes a provider it did not add, so deleting this one
// leaves the provider attached; remove the annotation (or create the
// binding with spec.adoptExisting) to have it detached.
const AnnotationFoundAttached = "authentik.m.crossplane.io/found-attached"

// AnnotationAttaching records, before a binding writes an outpost's
// provider list, the "<outpost UUID>/<provider pk>" it is about to attach.
// A binding that stopped after the write but before recording its external
// name finds its provider attached on the next attempt; this annotation
// tells it that it attached the provider itself, so deleting the binding
// still detaches it.
const AnnotationAttaching = "authentik.m.crossplane.io/attaching"

const (
	errExternalName   = "the external name must be \"<outpost UUID>/<provider pk>\""
	errNoProvider     = "spec.forProvider.providerId is not set: set it, providerRef or providerSelector"
	errGetOutpost     = "cannot get outpost"
	errFindEmbedded   = "cannot look up Authentik's embedded outpost"
	errNoEmbedded     = "Authentik has no embedded outpost (managed " + EmbeddedOutpost + ")"
	errFindByName     = "cannot look up the outpost named by spec.forProvider.outpostName"
	errNoOutpostNamed = "no outpost has the name in spec.forProvider.outpostName"
	errAttach         = "cannot attach provider"
	errDetach         = "cannot detach provider"
	errLastProvider   = "Authentik keeps at least one provider on an outpost it does not manage: attach another provider or delete the outpost first"
	errMoved          = "a binding is not moved while its provider is attached: create another OutpostBinding and delete this one"
	errRecordIntent   = "cannot record the provider the binding is about to attach"
)

// fieldPaths maps Authentik's request fields to this resource's fields.
var fieldPaths = map[string]string{"providers": "spec.forProvider.providerId"}

// Kind describes the OutpostBinding managed resource.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.OutpostBindingGroupVersionKind,
	GroupKind:        v1alpha1.OutpostBindingGroupKind,
	Object:           &v1alpha1.OutpostBinding{},
	List:             &v1alpha1.OutpostBindingList{},
}

// Setup adds a controller that reconciles OutpostBindings. It edits
// outposts through the list editor the Outpost controller shares.
func Setup(mgr ctrl.Manager, o controller.Options) error {
	return mrsetup.Setup(mgr, o, Kind, ReconcilerOptions(mgr.GetClient(), authentik.NewConnector(mgr.GetClient()), outpost.SharedListEditor)...)
}

// ReconcilerOptions are the options particular to OutpostBindings: the
// connector, which edits provider lists through lists, and no external
// name initializer, as Create records the name. Create only adds a
// provider that is missing and derives the name from what it bound, so a
// create whose outcome was lost is safe to run again: the external name
// counts as deterministic.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector, lists *outpost.ListEditor) []managed.ReconcilerOption {
	return []managed.ReconcilerOption{
		managed.WithTypedExternalConnector[*v1alpha1.OutpostBinding](&connector{Connector: conn, kube: kube, lists: lists}),
		managed.WithInitializers(),
		managed.WithDeterministicExternalName(true),
		managed.WithReferenceResolver(mrsetup.ReferenceResolver(kube)),
	}
}

// SetupGated sets up the controller once the OutpostBinding CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options) error {
	mrsetup.Gated(mgr, o, Kind, Setup)
	return nil
}

// A connector builds external clients for OutpostBindings.
type connector struct {
	*authentik.Connector
	kube  client.Client
	lists *outpost.ListEditor
}

// Connect returns an external client using the resource's provider config.
func (c *connector) Connect(ctx context.Context, cr *v1alpha1.OutpostBinding) (managed.TypedExternalClient[*v1alpha1.OutpostBinding], error) {
	ac, err := c.ClientFor(ctx, cr)
	if err != nil {
		return nil, err
	}
	return &external{client: ac, kube: c.kube, lists: c.lists}, nil
}

// external reconciles one OutpostBinding with Authentik.
type external struct {
	client *authentik.Client
	kube   client.Client
	lists  *outpost.ListEditor
}

func (e *external) api() *api.OutpostsAPIService { return e.client.API.OutpostsAPI }

// Observe reports the binding as existing exactly when the provider its
// external name records is in that outpost's list. A provider removed
// behind the binding's back, or an outpost that is gone, reads as not
// existing, so Create attaches the provider again (to the outpost the spec
// names now).
func (e *external) Observe(ctx context.Context, cr *v1alpha1.OutpostBinding) (managed.ExternalObservation, error) {
	en := meta.GetExternalName(cr)
	if en == "" {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	if meta.WasDeleted(cr) && cr.GetAnnotations()[AnnotationFoundAttached] == "true" {
		// Delete leaves a provider the binding did not attach; there is
		// nothing to wait for.
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	id, pk, err := ParseExternalName(en)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	o, resp, err := e.api().OutpostsInstancesRetrieve(ctx, id).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		if authentik.IsNotFound(err) {
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		return managed.ExternalObservation{}, errors.Wrapf(err, "%s %s", errGetOutpost, id)
	}
	if !slices.Contains(o.Providers, pk) {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	fp := &cr.Spec.ForProvider
	// A binding being deleted detaches what it attached, whatever its spec says now.
	deleting := meta.WasDeleted(cr)
	if !deleting && fp.ProviderID != nil && *fp.ProviderID != pk {
		return managed.ExternalObservation{}, errors.Errorf("provider %d is attached to outpost %s, but spec.forProvider.providerId is %d; %s", pk, id, *fp.ProviderID, errMoved)
	}
	if !deleting && fp.OutpostID != nil && !strings.EqualFold(*fp.OutpostID, id) {
		return managed.ExternalObservation{}, errors.Errorf("provider %d is attached to outpost %s, but spec.forProvider.outpostId is %s; %s", pk, id, *fp.OutpostID, errMoved)
	}
	lateInit := false
	if fp.ProviderID == nil && fp.ProviderRef == nil && fp.ProviderSelector == nil {
		fp.ProviderID = ptr.To(pk)
		lateInit = true
	}
	cr.Status.AtProvider = observation(o, pk)
	cr.SetConditions(xpv2.Available())
	return managed.ExternalObservation{ResourceExists: true, ResourceUpToDate: true, ResourceLateInitialized: lateInit}, nil
}

// Create adds the provider to the outpost the spec names, keeping every
// other provider, and records "<outpost UUID>/<provider pk>" as the
// external name.
func (e *external) Create(ctx context.Context, cr *v1alpha1.OutpostBinding) (managed.ExternalCreation, error) {
	fp := cr.Spec.ForProvider
	if fp.ProviderID == nil {
		return managed.ExternalCreation{}, errors.New(errNoProvider)
	}
	pk := *fp.ProviderID
	id, err := e.outpostID(ctx, fp)
	if err != nil {
		return managed.ExternalCreation{}, err
	}
	intent := ExternalName(id, pk)
	// An earlier attempt recorded that it was about to attach this very
	// provider: finding it attached now means that attempt wrote it.
	attachedBefore := strings.EqualFold(cr.GetAnnotations()[AnnotationAttaching], intent)
	recordIntent := func(ctx context.Context) error {
		meta.AddAnnotations(cr, map[string]string{AnnotationAttaching: intent})
		return errors.Wrap(e.kube.Update(ctx, cr), errRecordIntent)
	}
	o, writes, err := e.lists.Apply(ctx, e.client, id, outpost.Edit{Add: []int32{pk}, FieldPaths: fieldPaths, BeforeWrite: recordIntent})
	if err != nil {
		return managed.ExternalCreation{}, errors.Wrapf(err, "%s %d", errAttach, pk)
	}
	if writes == 0 && !attachedBefore && !cr.AdoptsExisting() {
		// Someone else attached the provider: without spec.adoptExisting
		// the binding leaves it as it found it, now and when deleted.
		meta.AddAnnotations(cr, map[string]string{AnnotationFoundAttached: "true"})
	} else {
		meta.RemoveAnnotations(cr, AnnotationFoundAttached)
	}
	// The external name now records what the intent did.
	meta.RemoveAnnotations(cr, AnnotationAttaching)
	meta.SetExternalName(cr, ExternalName(o.Pk, pk))
	return managed.ExternalCreation{}, nil
}

// Update has nothing to do: a binding has no field that can drift.
func (e *external) Update(_ context.Context, _ *v1alpha1.OutpostBinding) (managed.ExternalUpdate, error) {
	return managed.ExternalUpdate{}, nil
}

// Delete removes the binding's own provider from the outpost and keeps
// every other; a provider the binding found attached stays.
func (e *external) Delete(ctx context.Context, cr *v1alpha1.OutpostBinding) (managed.ExternalDelete, error) {
	cr.SetConditions(xpv2.Deleting())
	en := meta.GetExternalName(cr)
	if en == "" || cr.GetAnnotations()[AnnotationFoundAttached] == "true" {
		return managed.ExternalDelete{}, nil
	}
	id, pk, err := ParseExternalName(en)
	if err != nil {
		return managed.ExternalDelete{}, err
	}
	_, _, err = e.lists.Apply(ctx, e.client, id, outpost.Edit{Remove: []int32{pk}})
	switch {
	case err == nil, authentik.IsNotFound(err):
		return managed.ExternalDelete{}, nil
	case authentik.IsInvalid(err):
		return managed.ExternalDelete{}, errors.Wrapf(err, "%s %d (%s)", errDetach, pk, errLastProvider)
	default:
		return managed.ExternalDelete{}, errors.Wrapf(err, "%s %d", errDetach, pk)
	}
}

// Disconnect releases nothing: HTTP connections are pooled per config.
func (e *external) Disconnect(_ context.Context) error { return nil }

// outpostID finds the UUID of the outpost the spec names: by outpostId, by
// outpostName, or else the embedded outpost by its managed key.
func (e *external) outpostID(ctx context.Context, fp v1alpha1.OutpostBindingParameters) (string, error) {
	if fp.OutpostID != nil {
		return *fp.OutpostID, nil
	}
	if fp.OutpostName != nil {
		l, resp, err := e.api().OutpostsInstancesList(ctx).NameIexact(*fp.OutpostName).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return "", errors.Wrap(err, errFindByName)
		}
		for _, o := range l.Results {
			if o.Name == *fp.OutpostName {
				return o.Pk, nil
			}
		}
		return "", errors.Errorf("%s: %q", errNoOutpostNamed, *fp.OutpostName)
	}
	l, resp, err := e.api().OutpostsInstancesList(ctx).ManagedIexact(EmbeddedOutpost).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return "", errors.Wrap(err, errFindEmbedded)
	}
	if len(l.Results) == 0 {
		return "", errors.New(errNoEmbedded)
	}
	return l.Results[0].Pk, nil
}

// ExternalName is the external name of the binding of provider pk to the
// outpost with UUID id.
func ExternalName(id string, pk int32) string {
	return id + "/" + strconv.Itoa(int(pk))
}

// ParseExternalName reads an external name made by ExternalName.
func ParseExternalName(en string) (string, int32, error) {
	id, p, ok := strings.Cut(en, "/")
	pk, err := strconv.ParseInt(p, 10, 32)
	if !ok || id == "" || err != nil || pk <= 0 {
		return "", 0, errors.Errorf("%s, not %q", errExternalName, en)
	}
	return id, int32(pk), nil
}

// observation is what status.atProvider shows of a binding.
func observation(o *api.Outpost, pk int32) v1alpha1.OutpostBindingObservation {
	return v1alpha1.OutpostBindingObservation{
		OutpostID:   ptr.To(o.Pk),
		OutpostName: ptr.To(o.Name),
		ProviderID:  ptr.To(pk),
		Providers:   ptr.To(int32(len(o.Providers))),
	}
}
