// Package user manages Authentik users without passwords, and writes a
// service account's token to the resource's connection Secret. The token is
// never logged nor put in the status.
package user

import (
	"context"
	"fmt"
	"strconv"

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
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

// Keys of a service account's connection Secret.
const (
	// ConnectionUsername holds the service account's username.
	ConnectionUsername = "username"
	// ConnectionToken holds the key of the service account's app password
	// token.
	ConnectionToken = "token"
)

const (
	errExternalName = "the external name must be the user's numeric id"
	errGet          = "cannot get user"
	errCreate       = "cannot create user"
	errUpdate       = "cannot update user"
	errDelete       = "cannot delete user"
	errToken        = "cannot read the key of the service account's token"
	errMakeToken    = "cannot make the service account's token again"
)

// fieldPaths maps Authentik's request fields to this resource's fields, so
// Authentik's validation messages name what the user has to change. The
// service account endpoint calls the username name.
var fieldPaths = map[string]string{
	"username":   "spec.forProvider.username",
	"name":       "spec.forProvider.name",
	"email":      "spec.forProvider.email",
	"type":       "spec.forProvider.type",
	"is_active":  "spec.forProvider.isActive",
	"path":       "spec.forProvider.path",
	"attributes": "spec.forProvider.attributes",
}

// Kind describes the User managed resource.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.UserGroupVersionKind,
	GroupKind:        v1alpha1.UserGroupKind,
	Object:           &v1alpha1.User{},
	List:             &v1alpha1.UserList{},
}

// ReconcilerOptions are the options particular to Users: the connector
// and, in place of the default name initializer (the id is Authentik's to
// choose), the adopter for unconfirmed creates.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	c := mrsetup.NewConnector[*v1alpha1.User](conn, func(ac *authentik.Client) *external {
		return &external{client: ac}
	})
	return []managed.ReconcilerOption{
		managed.WithTypedExternalConnector(mrbehavior.ObserveAfterCreate[*v1alpha1.User](c)),
		managed.WithInitializers(&mrbehavior.Adopter{Kube: kube, Find: candidates(c.Client)}),
	}
}

// SetupGated adds a controller that reconciles Users once the User CRD
// exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}

// external reconciles one User with Authentik.
type external struct {
	client *authentik.Client
}

func (e *external) api() *api.CoreAPIService { return e.client.API.CoreAPI }

// Observe reads the user by its id and compares it with the spec. A
// service account's token is read each time, so that the connection
// Secret follows a token rotated in Authentik.
func (e *external) Observe(ctx context.Context, cr *v1alpha1.User) (managed.ExternalObservation, error) {
	en := meta.GetExternalName(cr)
	if en == "" {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	pk, err := parsePK(en)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	u, err := authentik.Users.GetCached(ctx, e.client, itoa(pk))
	if err != nil {
		if authentik.IsNotFound(err) {
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		return managed.ExternalObservation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errGet)
	}

	observed := parametersOf(u)
	diff := Diff(cr.Spec.ForProvider, observed)
	lateInit := LateInitialize(&cr.Spec.ForProvider, observed)
	id := cr.Status.AtProvider.TokenIdentifier
	if isServiceAccount(u) && id == nil {
		id = ptr.To(tokenIdentifier(u.Username))
	}
	cr.Status.AtProvider = observation(u, id)

	var details managed.ConnectionDetails
	if isServiceAccount(u) {
		key, err := e.tokenKey(ctx, *id)
		switch {
		case authentik.IsNotFound(err):
			// Deleted in Authentik: Update makes the token again.
			diff += tokenMissing(*id)
		case err != nil:
			return managed.ExternalObservation{}, err
		default:
			details = managed.ConnectionDetails{ConnectionUsername: []byte(u.Username), ConnectionToken: []byte(key)}
		}
	}
	cr.SetConditions(xpv2.Available())

	return managed.ExternalObservation{
		ResourceExists:          true,
		ResourceUpToDate:        diff == "",
		ResourceLateInitialized: lateInit,
		Diff:                    diff,
		ConnectionDetails:       details,
	}, nil
}

// Create makes the user and records its id as the external name. A
// service account comes from Authentik's service account endpoint with a
// token that never expires; the fields that endpoint does not take follow
// in an update.
func (e *external) Create(ctx context.Context, cr *v1alpha1.User) (managed.ExternalCreation, error) {
	if adopted, err := mrbehavior.AdoptOnCreate(ctx, cr, candidates(e.connected)); adopted || err != nil {
		return managed.ExternalCreation{}, err
	}
	if ptr.Deref(cr.Spec.ForProvider.Type, "") == typeServiceAccount {
		return e.createServiceAccount(ctx, cr)
	}
	req, err := request(cr.Spec.ForProvider)
	if err != nil {
		return managed.ExternalCreation{}, err
	}
	u, resp, err := e.api().CoreUsersCreate(ctx).UserRequest(req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		if authentik.CreateMayHaveSucceeded(err) {
			// Authentik may have made the user although its answer was
			// lost or unreadable; the adopter looks for it before
			// creating again.
			mrbehavior.MarkCreateUnconfirmed(cr)
		}
		return managed.ExternalCreation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errCreate)
	}
	// The next Observe reads what Authentik answered.
	authentik.Users.KeepCreated(e.client, u)
	meta.SetExternalName(cr, itoa(u.Pk))
	cr.Status.AtProvider = observation(u, nil)
	return managed.ExternalCreation{}, nil
}

func (e *external) createServiceAccount(ctx context.Context, cr *v1alpha1.User) (managed.ExternalCreation, error) {
	username := ptr.Deref(cr.Spec.ForProvider.Username, "")
	req := api.NewUserServiceAccountRequest(username)
	req.SetExpiring(false)
	sa, resp, err := e.api().CoreUsersServiceAccountCreate(ctx).UserServiceAccountRequest(*req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		if authentik.CreateMayHaveSucceeded(err) {
			mrbehavior.MarkCreateUnconfirmed(cr)
		}
		return managed.ExternalCreation{}, errors.Wrap(authentik.WithFieldPaths(err, map[string]string{"name": "spec.forProvider.username"}), errCreate)
	}
	meta.SetExternalName(cr, itoa(sa.UserPk))
	cr.Status.AtProvider = v1alpha1.UserObservation{PK: ptr.To(sa.UserPk), TokenIdentifier: ptr.To(tokenIdentifier(sa.Username))}
	return managed.ExternalCreation{ConnectionDetails: managed.ConnectionDetails{ConnectionUsername: []byte(sa.Username), ConnectionToken: []byte(sa.Token)}}, nil
}

// Update writes the fields the spec sets with PATCH, which keeps the
// user's group memberships.
func (e *external) Update(ctx context.Context, cr *v1alpha1.User) (managed.ExternalUpdate, error) {
	pk, err := parsePK(meta.GetExternalName(cr))
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	req, err := patch(cr.Spec.ForProvider)
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	u, resp, err := e.api().CoreUsersPartialUpdate(ctx, pk).PatchedUserRequest(req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return managed.ExternalUpdate{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errUpdate)
	}
	cr.Status.AtProvider = observation(u, cr.Status.AtProvider.TokenIdentifier)
	if !isServiceAccount(u) {
		return managed.ExternalUpdate{}, nil
	}
	id := ptr.Deref(cr.Status.AtProvider.TokenIdentifier, tokenIdentifier(u.Username))
	if _, err := e.tokenKey(ctx, id); !authentik.IsNotFound(err) {
		return managed.ExternalUpdate{}, err
	}
	tr := api.NewTokenRequest(id)
	tr.SetUser(u.Pk)
	tr.SetIntent(api.INTENTENUM_APP_PASSWORD)
	tr.SetExpiring(false)
	_, resp, err = e.api().CoreTokensCreate(ctx).TokenRequest(*tr).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return managed.ExternalUpdate{}, errors.Wrapf(err, "%s %q", errMakeToken, id)
	}
	cr.Status.AtProvider.TokenIdentifier = ptr.To(id)
	// The next Observe reads the new key into the connection Secret.
	return managed.ExternalUpdate{}, nil
}

// tokenKey reads the key of the token with the given identifier.
func (e *external) tokenKey(ctx context.Context, id string) (string, error) {
	key, resp, err := e.api().CoreTokensViewKeyRetrieve(ctx, id).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		if authentik.IsNotFound(err) {
			return "", err
		}
		return "", errors.Wrapf(err, "%s %q", errToken, id)
	}
	return key.Key, nil
}

func isServiceAccount(u *api.User) bool {
	return u.Type != nil && string(*u.Type) == typeServiceAccount
}

// tokenMissing is what the diff says of a service account whose token is
// gone.
func tokenMissing(id string) string {
	return fmt.Sprintf("the service account's token %q does not exist in Authentik; it is made again\n", id)
}

// Delete removes the user; one that is already gone counts as deleted.
// Authentik deletes the user's tokens and memberships with it.
func (e *external) Delete(ctx context.Context, cr *v1alpha1.User) (managed.ExternalDelete, error) {
	cr.SetConditions(xpv2.Deleting())
	pk, err := parsePK(meta.GetExternalName(cr))
	if err != nil {
		return managed.ExternalDelete{}, err
	}
	resp, err := e.api().CoreUsersDestroy(ctx, pk).Execute()
	if err := authentik.Classify(resp, err); err != nil && !authentik.IsNotFound(err) {
		return managed.ExternalDelete{}, errors.Wrap(err, errDelete)
	}
	return managed.ExternalDelete{}, nil
}

// connected is the client this external client uses, for finding what
// exists before a create.
func (e *external) connected(context.Context, *v1alpha1.User) (*authentik.Client, error) {
	return e.client, nil
}

// Disconnect releases nothing: HTTP connections are pooled per config.
func (e *external) Disconnect(_ context.Context) error { return nil }

func parsePK(externalName string) (int32, error) {
	pk, err := strconv.ParseInt(externalName, 10, 32)
	if err != nil || pk < 1 {
		return 0, errors.Errorf("%s, not %q", errExternalName, externalName)
	}
	return int32(pk), nil
}

func itoa(pk int32) string { return strconv.FormatInt(int64(pk), 10) }
