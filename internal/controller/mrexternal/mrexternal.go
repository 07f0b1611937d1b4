// Package mrexternal is the external client of every kind whose external
// name is the key Authentik gives its objects (a UUID or a numeric pk) and
// whose objects have a name Authentik keeps unique. A kind describes its
// API calls and how its spec compares with an object; Observe, Create,
// Update, Delete and the search for what a create would collide with are
// the same for all of them.
package mrexternal

import (
	"context"
	"net/http"
	"strconv"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

// A Key is how Authentik names an object in its path: a UUID (string) or a
// numeric pk (int32).
type Key interface{ string | int32 }

// A Kind describes one managed resource kind T, its spec.forProvider P, the
// Authentik object O it manages and O's key K.
type Kind[T resource.ModernManaged, P, O any, K Key] struct {
	// Collection is where Observe reads objects (the shared reads).
	Collection *authentik.Collection[O]
	// FieldPaths maps Authentik's request fields to the resource's, so
	// Authentik's validation messages name what the user has to change.
	FieldPaths map[string]string
	// Noun names an object in messages ("scope mapping"): "cannot get
	// scope mapping".
	Noun string
	// ErrExternalName says what the external name must be.
	ErrExternalName string
	// ErrFindByName says that the objects with the spec's name could not
	// be listed.
	ErrFindByName string

	// Spec returns the resource's spec.forProvider.
	Spec func(T) *P
	// Compare reads an object into the spec's shape, with c where that
	// needs Authentik (a flow's slug), and compares the spec with it; an
	// empty diff means up to date. An error is returned as it is.
	Compare func(ctx context.Context, c *authentik.Client, cr T, obj *O) (observed P, diff string, err error)
	// LateInitialize fills the spec's unset fields from observed and
	// reports whether it changed anything.
	LateInitialize func(spec *P, observed P) bool
	// Observe sets status.atProvider from an object.
	Observe func(cr T, obj *O)

	// Create, Update and Delete are the kind's API calls (see Send and
	// SendTo). An error that comes before any request is sent is marked
	// with Unsent. Update gets what this reconcile's Observe read.
	Create func(ctx context.Context, c *authentik.Client, cr T) (*O, *http.Response, error)
	Update func(ctx context.Context, c *authentik.Client, key K, cr T, read Read[P, O]) (*O, *http.Response, error)
	Delete func(ctx context.Context, c *authentik.Client, key K) (*http.Response, error)

	// Name is the spec's name, nil when unset: the key Authentik keeps
	// unique, which a create would collide with.
	Name func(T) *string
	// List lists the objects Authentik names name; it may return more,
	// which are left out by their ObjectName.
	List       func(ctx context.Context, c *authentik.Client, name string) ([]O, *http.Response, error)
	ObjectName func(*O) string
	// Other, if set, returns an error naming an object of another kind
	// that has the name, which no resource of this kind may manage (a
	// provider of another type: provider names are unique across types).
	// It is asked when no object of the kind has the name.
	Other func(ctx context.Context, c *authentik.Client, name string) error
	// ListedFirst makes Create look for what has the spec's name only when
	// the shared list shows it, or once Authentik refuses the create on
	// the name, rather than with a list request before every create. For
	// kinds whose create Authentik refuses on a taken name.
	ListedFirst bool
}

// ReconcilerOptions are the kind's connector and, in place of the default
// name initializer (the key is Authentik's to choose), the adopter for
// unconfirmed creates.
func (k *Kind[T, P, O, K]) ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	c := mrsetup.NewConnector[T](conn, k.External)
	return []managed.ReconcilerOption{
		managed.WithTypedExternalConnector(mrbehavior.ObserveAfterCreate[T](c)),
		managed.WithInitializers(&mrbehavior.Adopter{Kube: kube, Find: func(ctx context.Context, mg resource.Managed) ([]mrbehavior.Candidate, error) {
			cr, ok := mg.(T)
			if !ok {
				return nil, errors.Errorf("%s: %T", errNotKind, mg)
			}
			ac, err := c.Client(ctx, cr)
			if err != nil {
				return nil, err
			}
			return k.Candidates(ctx, ac, cr)
		}}),
	}
}

const errNotKind = "managed resource is not of the adopter's kind"

// External returns the external client of one resource of the kind.
func (k *Kind[T, P, O, K]) External(c *authentik.Client) *External[T, P, O, K] {
	return &External[T, P, O, K]{kind: k, client: c}
}

// Candidates finds the object an unconfirmed create may have made, or that
// a create would collide with: the kind's objects with the spec's name,
// which Authentik keeps unique.
func (k *Kind[T, P, O, K]) Candidates(ctx context.Context, c *authentik.Client, cr T) ([]mrbehavior.Candidate, error) {
	name := k.Name(cr)
	if name == nil {
		return nil, nil
	}
	l, resp, err := k.List(ctx, c, *name)
	if err := authentik.Classify(resp, err); err != nil {
		return nil, errors.Wrap(err, k.ErrFindByName)
	}
	var out []mrbehavior.Candidate
	for i := range l {
		obj := &l[i]
		if k.ObjectName(obj) != *name {
			continue
		}
		_, diff, err := k.Compare(ctx, c, cr, obj)
		if err != nil {
			return nil, err
		}
		out = append(out, mrbehavior.Candidate{ExternalName: k.Collection.ID(obj), Description: k.Noun + " " + strconv.Quote(*name), Diff: diff})
	}
	if len(out) > 0 || k.Other == nil {
		return out, nil
	}
	return nil, k.Other(ctx, c, *name)
}

// An External reconciles one resource of a Kind with Authentik. The
// managed reconciler connects one per reconcile.
type External[T resource.ModernManaged, P, O any, K Key] struct {
	kind   *Kind[T, P, O, K]
	client *authentik.Client
	// read is what Observe read, for Update.
	read Read[P, O]
}

// A Read is what a reconcile's Observe read: the object and the spec's
// shape Compare read it into. A request builder takes from it what Compare
// resolved (the UUID of a flow the spec names by slug) rather than
// resolving it again. A create has none: Object is nil.
type Read[P, O any] struct {
	Object   *O
	Observed P
}

// key reads the external name as the kind's key.
func (e *External[T, P, O, K]) key(externalName string) (K, error) {
	var key K
	switch p := any(&key).(type) {
	case *string:
		id, err := mrbehavior.ExternalUUID(externalName, e.kind.ErrExternalName)
		*p = id
		return key, err
	case *int32:
		pk, err := strconv.ParseInt(externalName, 10, 32)
		if err != nil || pk <= 0 {
			return key, errors.Errorf("%s, not %q", e.kind.ErrExternalName, externalName)
		}
		*p = int32(pk)
	}
	return key, nil
}

// keyString is a key as it stands in an object's path.
func keyString[K Key](key K) string {
	if pk, ok := any(key).(int32); ok {
		return strconv.Itoa(int(pk))
	}
	return any(key).(string)
}

// Observe reads the object by its key and compares it with the spec.
func (e *External[T, P, O, K]) Observe(ctx context.Context, cr T) (managed.ExternalObservation, error) {
	en := meta.GetExternalName(cr)
	if en == "" {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	key, err := e.key(en)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	obj, err := e.kind.Collection.GetCached(ctx, e.client, keyString(key))
	if err != nil {
		if authentik.IsNotFound(err) {
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		return managed.ExternalObservation{}, errors.Wrap(authentik.WithFieldPaths(err, e.kind.FieldPaths), "cannot get "+e.kind.Noun)
	}
	observed, diff, err := e.kind.Compare(ctx, e.client, cr, obj)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	e.read = Read[P, O]{Object: obj, Observed: observed}
	lateInit := e.kind.LateInitialize(e.kind.Spec(cr), observed)
	e.kind.Observe(cr, obj)
	cr.SetConditions(xpv2.Available())

	return managed.ExternalObservation{
		ResourceExists:          true,
		ResourceUpToDate:        diff == "",
		ResourceLateInitialized: lateInit,
		Diff:                    diff,
	}, nil
}

// Create settles what exists with the spec's name first (adopted with
// consent, else named as the obstacle), then makes the object and records
// its key as the external name.
func (e *External[T, P, O, K]) Create(ctx context.Context, cr T) (managed.ExternalCreation, error) {
	find := func(ctx context.Context, _ resource.Managed) ([]mrbehavior.Candidate, error) {
		return e.kind.Candidates(ctx, e.client, cr)
	}
	adopt := func() (bool, error) { return mrbehavior.AdoptOnCreate(ctx, cr, find) }
	listed, err := e.listed(ctx, cr)
	if err != nil {
		return managed.ExternalCreation{}, errors.Wrap(err, e.kind.ErrFindByName)
	}
	if listed {
		if adopted, err := adopt(); adopted || err != nil {
			return managed.ExternalCreation{}, err
		}
	}
	obj, resp, err := e.kind.Create(ctx, e.client, cr)
	if u := unsent(err); u != nil {
		return managed.ExternalCreation{}, u
	}
	if err := authentik.Classify(resp, err); err != nil {
		if e.kind.ListedFirst && authentik.IsRefusedField(err, "name") {
			if adopted, aerr := adopt(); adopted || aerr != nil {
				return managed.ExternalCreation{}, aerr
			}
		}
		if authentik.CreateMayHaveSucceeded(err) {
			// Authentik may have made the object although its response
			// was lost or unreadable; the adopter looks for it before
			// creating again.
			mrbehavior.MarkCreateUnconfirmed(cr)
		}
		return managed.ExternalCreation{}, errors.Wrap(authentik.WithFieldPaths(err, e.kind.FieldPaths), "cannot create "+e.kind.Noun)
	}
	// The next Observe reads what Authentik answered.
	e.kind.Collection.KeepCreated(e.client, obj)
	meta.SetExternalName(cr, e.kind.Collection.ID(obj))
	e.kind.Observe(cr, obj)
	return managed.ExternalCreation{}, nil
}

// listed tells whether Create looks for what has the spec's name before
// it creates: always, unless the kind is ListedFirst and the shared list
// shows no object of the kind with the name. That is no proof that none
// has it: the list may be older than the object.
func (e *External[T, P, O, K]) listed(ctx context.Context, cr T) (bool, error) {
	if !e.kind.ListedFirst {
		return true, nil
	}
	name := e.kind.Name(cr)
	if name == nil {
		return false, nil
	}
	obj, err := e.kind.Collection.FindCached(ctx, e.client, func(o *O) bool { return e.kind.ObjectName(o) == *name })
	return obj != nil, err
}

// Update writes the spec to the object.
func (e *External[T, P, O, K]) Update(ctx context.Context, cr T) (managed.ExternalUpdate, error) {
	key, err := e.key(meta.GetExternalName(cr))
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	obj, resp, err := e.kind.Update(ctx, e.client, key, cr, e.read)
	if u := unsent(err); u != nil {
		return managed.ExternalUpdate{}, u
	}
	if err := authentik.Classify(resp, err); err != nil {
		return managed.ExternalUpdate{}, errors.Wrap(authentik.WithFieldPaths(err, e.kind.FieldPaths), "cannot update "+e.kind.Noun)
	}
	e.kind.Observe(cr, obj)
	return managed.ExternalUpdate{}, nil
}

// Delete removes the object; one that is already gone counts as deleted.
func (e *External[T, P, O, K]) Delete(ctx context.Context, cr T) (managed.ExternalDelete, error) {
	cr.SetConditions(xpv2.Deleting())
	key, err := e.key(meta.GetExternalName(cr))
	if err != nil {
		return managed.ExternalDelete{}, err
	}
	resp, err := e.kind.Delete(ctx, e.client, key)
	if err := authentik.Classify(resp, err); err != nil && !authentik.IsNotFound(err) {
		return managed.ExternalDelete{}, errors.Wrap(err, "cannot delete "+e.kind.Noun)
	}
	return managed.ExternalDelete{}, nil
}

// Disconnect releases nothing: HTTP connections are pooled per config.
func (e *External[T, P, O, K]) Disconnect(context.Context) error { return nil }

// unsentError is an error of a write that was never sent.
type unsentError struct{ error }

func (u unsentError) Unwrap() error { return u.error }

// Unsent marks an error that stopped a write before its request was sent
// (the spec cannot be put in a request, a Secret it names cannot be read):
// the external client returns it as it is, and no create can have
// happened.
func Unsent(err error) error {
	if err == nil {
		return nil
	}
	return unsentError{err}
}

// unsent returns the error Unsent marked, or nil.
func unsent(err error) error {
	var u unsentError
	if errors.As(err, &u) {
		return u.error
	}
	return nil
}

// A Builder puts a resource's spec in the body of a create or an update,
// with what Observe read of the object for an update.
type Builder[P, O, R any] func(ctx context.Context, c *authentik.Client, spec P, read Read[P, O]) (R, error)

// Send is a Kind's Create that puts the spec in a request with build and
// sends it with call, the generated client's method. An error of build
// stops the create unsent.
func Send[T any, P, O, R any](spec func(T) *P, build Builder[P, O, R], call func(context.Context, *authentik.Client, R) (*O, *http.Response, error)) func(context.Context, *authentik.Client, T) (*O, *http.Response, error) {
	return func(ctx context.Context, c *authentik.Client, cr T) (*O, *http.Response, error) {
		req, err := build(ctx, c, *spec(cr), Read[P, O]{})
		if err != nil {
			return nil, nil, Unsent(err)
		}
		return call(ctx, c, req)
	}
}

// SendTo is a Kind's Update built as Send is, call writing to the object
// with the key.
func SendTo[T any, P, O, R any, K Key](spec func(T) *P, build Builder[P, O, R], call func(context.Context, *authentik.Client, K, R) (*O, *http.Response, error)) func(context.Context, *authentik.Client, K, T, Read[P, O]) (*O, *http.Response, error) {
	return func(ctx context.Context, c *authentik.Client, key K, cr T, read Read[P, O]) (*O, *http.Response, error) {
		req, err := build(ctx, c, *spec(cr), read)
		if err != nil {
			return nil, nil, Unsent(err)
		}
		return call(ctx, c, key, req)
	}
}

// Local is a Builder that needs nothing from Authentik nor from what
// Observe read.
func Local[O any, P, R any](build func(P) (R, error)) Builder[P, O, R] {
	return func(_ context.Context, _ *authentik.Client, p P, _ Read[P, O]) (R, error) { return build(p) }
}

// Plain is a Local Builder that cannot fail.
func Plain[O any, P, R any](build func(P) R) Builder[P, O, R] {
	return func(_ context.Context, _ *authentik.Client, p P, _ Read[P, O]) (R, error) { return build(p), nil }
}

// Compared is a Kind's Compare for a kind whose objects read into the
// spec's shape on their own.
func Compared[T any, P, O any](spec func(T) *P, parametersOf func(*O) P, specDiff func(spec, observed P) string) func(context.Context, *authentik.Client, T, *O) (P, string, error) {
	return func(_ context.Context, _ *authentik.Client, cr T, obj *O) (P, string, error) {
		observed := parametersOf(obj)
		return observed, specDiff(*spec(cr), observed), nil
	}
}

// ComparedWith is a Kind's Compare for a kind whose objects read into the
// spec's shape with c (a flow is named by slug); an error of read is
// wrapped with msg.
func ComparedWith[T any, P, O any](spec func(T) *P, read func(context.Context, *authentik.Client, *O, P) (P, error), specDiff func(spec, observed P) string, msg string) func(context.Context, *authentik.Client, T, *O) (P, string, error) {
	return func(ctx context.Context, c *authentik.Client, cr T, obj *O) (P, string, error) {
		observed, err := read(ctx, c, obj, *spec(cr))
		if err != nil {
			var none P
			return none, "", errors.Wrap(err, msg)
		}
		return observed, specDiff(*spec(cr), observed), nil
	}
}

// Results is the objects of a page Authentik answered a list with, for a
// Kind's List.
func Results[L interface{ GetResults() []O }, O any](l L, resp *http.Response, err error) ([]O, *http.Response, error) {
	if err != nil {
		return nil, resp, err
	}
	return l.GetResults(), resp, nil
}

// OtherProvider is a provider kind's Other: the provider of another type
// with the name, which Authentik reports with a component other than the
// kind's, named and followed by why it is not taken over (msg).
func OtherProvider(component, msg string) func(ctx context.Context, c *authentik.Client, name string) error {
	return func(ctx context.Context, c *authentik.Client, name string) error {
		other, err := c.ProviderOfAnotherType(ctx, name, component)
		if err != nil || other == nil {
			return err
		}
		return errors.Errorf("%s %q (%d) %s", other.VerboseName, other.Name, other.PK, msg)
	}
}
