// Package outpostbinding attaches providers to Authentik outposts, one
// provider per resource, without disturbing the rest of the outpost's
// provider list.
package outpostbinding

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	api "goauthentik.io/api/v3"
	"k8s.io/apimachinery/pkg/types"
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

// EmbeddedOutpost is the managed key of the outpost every Authentik has.
// The outpost is found by it, never by its display name.
const EmbeddedOutpost = "goauthentik.io/outposts/embedded"

// AnnotationFoundAttached marks a binding whose provider was already on the
// outpost when the binding was created, without spec.adoptExisting. A
// binding never removes a provider it did not add, so deleting this one
// leaves the provider attached; remove the annotation, or set
// spec.adoptExisting (then or later, which removes it), to have it
// detached.
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
	errGetProvider    = "cannot get provider"
	errGetApplication = "cannot get application"
	errListBindings   = "cannot list the policy bindings of application"
	errWithhold       = "cannot take provider off the outpost"
	errRecordConsent  = "cannot record that spec.adoptExisting makes the binding own the provider it found attached"
)

// fieldPaths maps Authentik's request fields to this resource's fields.
var fieldPaths = map[string]string{"providers": "spec.forProvider.providerId"}

// Kind describes the OutpostBinding managed resource.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.OutpostBindingGroupVersionKind,
	GroupKind:        v1alpha1.OutpostBindingGroupKind,
	Object:           &v1alpha1.OutpostBinding{},
	List:             &v1alpha1.OutpostBindingList{},
	Dependencies: append(mrbehavior.ProviderDependencies(func(mg resource.Managed) *v1alpha1.ProviderReference {
		return mg.(*v1alpha1.OutpostBinding).Spec.ForProvider.ProviderRef
	}), mrbehavior.Dependency{
		Object: &v1alpha1.Outpost{},
		Value:  mrbehavior.ExternalName,
		Names: mrbehavior.NamedBy(func(mg resource.Managed) *xpv2.Reference {
			return mg.(*v1alpha1.OutpostBinding).Spec.ForProvider.OutpostRef
		}),
	}, mrbehavior.Dependency{
		// A policy binding made on the provider's application (after the
		// application or a group was made again) wakes the bindings that
		// keep the provider off the outpost until every required group is
		// bound; otherwise they would wait a poll more.
		Object: &v1alpha1.PolicyBinding{},
		Value:  mrbehavior.ExternalName,
		Wakes:  bindingsOfBoundApplication,
	}),
}

// bindingsOfBoundApplication names the OutpostBindings, in the policy
// binding's namespace, that attach the provider of the application the
// policy binding names.
func bindingsOfBoundApplication(ctx context.Context, kube client.Reader, o client.Object) []string {
	ref := o.(*v1alpha1.PolicyBinding).Spec.ForProvider.ApplicationRef
	if ref == nil {
		return nil
	}
	app := &v1alpha1.Application{}
	if err := kube.Get(ctx, types.NamespacedName{Namespace: o.GetNamespace(), Name: ref.Name}, app); err != nil || app.Spec.ForProvider.Provider == nil {
		// The bindings then wait for their poll, as without this.
		return nil
	}
	l := &v1alpha1.OutpostBindingList{}
	if err := kube.List(ctx, l, client.InNamespace(o.GetNamespace())); err != nil {
		return nil
	}
	var names []string
	for _, b := range l.Items {
		if ptr.Equal(b.Spec.ForProvider.ProviderID, app.Spec.ForProvider.Provider) {
			names = append(names, b.GetName())
		}
	}
	return names
}

// ReconcilerOptions are the options particular to OutpostBindings: the
// connector, which edits provider lists through lists, and no external
// name initializer, as Create records the name. Create only adds a
// provider that is missing and derives the name from what it bound, so a
// create whose outcome was lost is safe to run again: the external name
// counts as deterministic.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector, lists *authentik.OutpostLists) []managed.ReconcilerOption {
	c := mrsetup.NewConnector[*v1alpha1.OutpostBinding](conn, func(ac *authentik.Client) *external {
		return &external{client: ac, kube: kube, lists: lists}
	})
	return []managed.ReconcilerOption{
		managed.WithTypedExternalConnector[*v1alpha1.OutpostBinding](c),
		managed.WithInitializers(),
		managed.WithDeterministicExternalName(true),
		managed.WithReferenceResolver(mrbehavior.ReferenceResolver(kube)),
	}
}

// SetupGated adds a controller that reconciles OutpostBindings once the
// OutpostBinding CRD exists. It edits outposts through the list editor the
// Outpost controller shares.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, func(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
		return ReconcilerOptions(kube, conn, conn.OutpostLists())
	})
	return nil
}

// external reconciles one OutpostBinding with Authentik.
type external struct {
	client *authentik.Client
	kube   client.Client
	lists  *authentik.OutpostLists
}

func (e *external) api() *api.OutpostsAPIService { return e.client.API.OutpostsAPI }

// Observe reports the binding as existing exactly when the provider its
// external name records is in that outpost's list. A provider removed
// behind the binding's back, or an outpost that is gone, reads as not
// existing, so Create attaches the provider again (to the outpost the spec
// names now).
//
// With spec.forProvider.requiredGroups it first checks, at every poll, that
// each group has a policy binding on the provider's application. While one
// has not, the provider must not be served: the binding reports itself as
// existing, so nothing is created, and as out of date while the provider
// is still on the outpost, so Update takes it off. This works in the
// managed resource alone, whatever delivers (or drops) events to a
// Composition above it.
func (e *external) Observe(ctx context.Context, cr *v1alpha1.OutpostBinding) (managed.ExternalObservation, error) {
	en := meta.GetExternalName(cr)
	fp := &cr.Spec.ForProvider
	// A binding being deleted detaches what it attached, whatever its spec says now.
	deleting := meta.WasDeleted(cr)
	guarded := !deleting && len(fp.RequiredGroups) > 0
	if en == "" && !guarded {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	if deleting && cr.GetAnnotations()[AnnotationFoundAttached] == "true" {
		// Delete leaves a provider the binding did not attach; there is
		// nothing to wait for.
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	var (
		id string
		pk int32
		o  *api.Outpost
	)
	if en != "" {
		var err error
		if id, pk, err = ParseExternalName(en); err != nil {
			return managed.ExternalObservation{}, err
		}
		if o, err = e.outpost(ctx, id); err != nil {
			return managed.ExternalObservation{}, err
		}
	}
	attached := o != nil && slices.Contains(o.Providers, pk)
	if guarded {
		// The provider that is served, or that Create would attach.
		if !attached {
			if fp.ProviderID == nil {
				return managed.ExternalObservation{}, errors.New(errNoProvider)
			}
			pk = *fp.ProviderID
		}
		reason, err := e.notServedReason(ctx, fp.RequiredGroups, pk, o)
		if err != nil {
			return managed.ExternalObservation{}, err
		}
		if reason != "" {
			return e.observeWithheld(ctx, cr, reason, pk, o, attached)
		}
	}
	if !attached {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	if !deleting && fp.ProviderID != nil && *fp.ProviderID != pk {
		return managed.ExternalObservation{}, errors.Errorf("provider %d is attached to outpost %s, but spec.forProvider.providerId is %d; %s", pk, id, *fp.ProviderID, errMoved)
	}
	if !deleting && fp.OutpostID != nil && !strings.EqualFold(*fp.OutpostID, id) {
		return managed.ExternalObservation{}, errors.Errorf("provider %d is attached to outpost %s, but spec.forProvider.outpostId is %s; %s", pk, id, *fp.OutpostID, errMoved)
	}
	if !deleting && cr.AdoptsExisting() && cr.GetAnnotations()[AnnotationFoundAttached] == "true" {
		// Consent given after the binding found its provider attached: from
		// now on the binding owns the attachment, which stays as it is, and
		// deleting the binding detaches it.
		meta.RemoveAnnotations(cr, AnnotationFoundAttached)
		if err := e.kube.Update(ctx, cr); err != nil {
			return managed.ExternalObservation{}, errors.Wrap(err, errRecordConsent)
		}
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

// observeWithheld observes a binding whose provider must not be served.
// A binding that never recorded an outpost checks the one its spec names,
// where a lost create or someone else may have attached the provider.
// status.atProvider names the provider only while it is attached, which is
// what Update takes off.
func (e *external) observeWithheld(ctx context.Context, cr *v1alpha1.OutpostBinding, reason string, pk int32, o *api.Outpost, attached bool) (managed.ExternalObservation, error) {
	if meta.GetExternalName(cr) == "" {
		var err error
		if o, err = e.specOutpost(ctx, cr); err != nil {
			return managed.ExternalObservation{}, err
		}
		attached = o != nil && slices.Contains(o.Providers, pk)
	}
	obs := v1alpha1.OutpostBindingObservation{}
	if o != nil {
		obs = observation(o, pk)
	}
	if !attached {
		obs.ProviderID = nil
	}
	obs.NotServedReason = ptr.To(reason)
	cr.Status.AtProvider = obs
	cr.SetConditions(xpv2.Unavailable().WithMessage(reason))
	diff := ""
	if attached {
		diff = fmt.Sprintf("provider %d is on outpost %s: %s", pk, o.Pk, reason)
	}
	return managed.ExternalObservation{ResourceExists: true, ResourceUpToDate: !attached, Diff: diff}, nil
}

// specOutpost reads the outpost the spec names, for a binding that has
// recorded none. Its UUID, once looked up by outpostName (which cannot
// change) or as the embedded outpost, is kept in status.atProvider and read
// again from there; an outpost that is gone is looked up anew.
func (e *external) specOutpost(ctx context.Context, cr *v1alpha1.OutpostBinding) (*api.Outpost, error) {
	fp := cr.Spec.ForProvider
	if known := cr.Status.AtProvider.OutpostID; fp.OutpostID == nil && known != nil {
		o, err := e.outpost(ctx, *known)
		if err != nil || o != nil {
			return o, err
		}
	}
	id, err := e.outpostID(ctx, fp)
	if err != nil {
		return nil, err
	}
	return e.outpost(ctx, id)
}

// outpost reads the outpost with UUID id; nil when it is gone.
func (e *external) outpost(ctx context.Context, id string) (*api.Outpost, error) {
	o, err := authentik.Outposts.GetCached(ctx, e.client, id)
	if err != nil {
		if authentik.IsNotFound(err) {
			return nil, nil
		}
		return nil, errors.Wrapf(err, "%s %s", errGetOutpost, id)
	}
	return o, nil
}

// notServedReason tells why provider pk must not be served, or "" if it
// may be: each group in required needs an enabled, not negated policy
// binding on the provider's application, since an application without
// bindings admits every user. The shared lists of applications and policy
// bindings answer a provider that may be served, at no request while they
// are fresh; any other answer is checked with fresh reads (the provider,
// its application, one list of the application's bindings), so an object
// made since the lists were requested never keeps a provider off longer
// than those requests take. The application's slug comes from the
// outpost's answer when the provider is on it, else from the provider.
func (e *external) notServedReason(ctx context.Context, required []string, pk int32, o *api.Outpost) (string, error) {
	served, err := e.servedBySharedLists(ctx, required, pk)
	if err != nil || served {
		return "", err
	}
	slug, known := assignedApplication(o, pk)
	if !known {
		p, resp, err := e.client.API.ProvidersAPI.ProvidersProxyRetrieve(ctx, pk).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			if authentik.IsNotFound(err) {
				return fmt.Sprintf("not served: provider %d does not exist in Authentik", pk), nil
			}
			return "", errors.Wrapf(err, "%s %d", errGetProvider, pk)
		}
		slug = ptr.Deref(p.AssignedApplicationSlug.Get(), "")
	}
	if slug == "" {
		return fmt.Sprintf("not served: provider %d has no application in Authentik, so no policy binding restricts it", pk), nil
	}
	app, resp, err := e.client.API.CoreAPI.CoreApplicationsRetrieve(ctx, slug).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		if authentik.IsNotFound(err) {
			return fmt.Sprintf("not served: application %q of provider %d does not exist in Authentik", slug, pk), nil
		}
		return "", errors.Wrapf(err, "%s %q", errGetApplication, slug)
	}
	bindings, err := authentik.ApplicationBindings(ctx, e.client, app.Pk)
	if err != nil {
		return "", err
	}
	var missing []string
	for _, g := range authentik.UnboundGroups(required, bindings) {
		missing = append(missing, fmt.Sprintf("group %q has no policy binding on application %q", g, slug))
	}
	if len(missing) == 0 {
		return "", nil
	}
	return "not served: " + strings.Join(missing, "; "), nil
}

// servedBySharedLists tells whether the shared lists that Application and
// PolicyBinding resources read show each required group bound on provider
// pk's one application. False means only that they do not show it.
func (e *external) servedBySharedLists(ctx context.Context, required []string, pk int32) (bool, error) {
	apps, err := e.client.ForKindOf(&v1alpha1.Application{})
	if err != nil {
		return false, err
	}
	found, ok, err := authentik.Applications.ListCached(ctx, apps, func(a *api.Application) bool {
		p := a.Provider.Get()
		return p != nil && *p == pk
	})
	if err != nil || !ok || len(found) != 1 {
		return false, errors.Wrapf(err, "%s of provider %d", errGetApplication, pk)
	}
	policies, err := e.client.ForKindOf(&v1alpha1.PolicyBinding{})
	if err != nil {
		return false, err
	}
	target := found[0].Pk
	bindings, ok, err := authentik.PolicyBindings.ListCached(ctx, policies, func(b *api.PolicyBinding) bool {
		return strings.EqualFold(b.Target, target)
	})
	if err != nil || !ok {
		return false, errors.Wrapf(err, "%s %q", errListBindings, found[0].Slug)
	}
	return len(authentik.UnboundGroups(required, bindings)) == 0, nil
}

// assignedApplication reads the slug of provider pk's application from the
// outpost's answer; known is false when the outpost does not list it.
func assignedApplication(o *api.Outpost, pk int32) (slug string, known bool) {
	if o == nil {
		return "", false
	}
	for _, p := range o.ProvidersObj {
		if p.Pk == pk {
			return ptr.Deref(p.AssignedApplicationSlug.Get(), ""), true
		}
	}
	return "", false
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
	o, writes, err := e.lists.Apply(ctx, e.client, id, authentik.OutpostEdit{Add: []int32{pk}, FieldPaths: fieldPaths, BeforeWrite: recordIntent})
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

// Update takes off its outpost a provider that must not be served (see
// Observe), whoever attached it: status.atProvider names both. A binding
// has no other field that can drift.
func (e *external) Update(ctx context.Context, cr *v1alpha1.OutpostBinding) (managed.ExternalUpdate, error) {
	o := cr.Status.AtProvider
	if o.NotServedReason == nil || o.OutpostID == nil || o.ProviderID == nil {
		return managed.ExternalUpdate{}, nil
	}
	pk := *o.ProviderID
	_, _, err := e.lists.Apply(ctx, e.client, *o.OutpostID, authentik.OutpostEdit{Remove: []int32{pk}})
	switch {
	case err == nil, authentik.IsNotFound(err):
		return managed.ExternalUpdate{}, nil
	case authentik.IsInvalid(err):
		return managed.ExternalUpdate{}, errors.Wrapf(err, "%s %d (%s)", errWithhold, pk, errLastProvider)
	default:
		return managed.ExternalUpdate{}, errors.Wrapf(err, "%s %d", errWithhold, pk)
	}
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
	_, _, err = e.lists.Apply(ctx, e.client, id, authentik.OutpostEdit{Remove: []int32{pk}})
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
	// The embedded outpost's managed key never changes: the shared list of
	// outposts names its UUID, unless the list cannot be read.
	embedded, err := authentik.Outposts.FindCached(ctx, e.client, func(o *api.Outpost) bool {
		return strings.EqualFold(o.GetManaged(), EmbeddedOutpost)
	})
	if err != nil {
		return "", errors.Wrap(err, errFindEmbedded)
	}
	if embedded != nil {
		return embedded.Pk, nil
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
		Providers:   ptr.To(int32(len(o.Providers))), //nolint:gosec // Authentik stores the list in a Postgres array of int32 keys; it cannot hold 2^31 entries.
	}
}
