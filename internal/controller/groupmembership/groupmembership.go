// Package groupmembership manages single Authentik group memberships with
// the group's add_user and remove_user actions, never by writing a group's
// users or a user's groups, so the members others added stay.
package groupmembership

import (
	"context"
	"fmt"
	"regexp"
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
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

const (
	errExternalName  = "the external name must be <group UUID>/<user id>"
	errUnresolved    = "spec.forProvider.group and spec.forProvider.user must name a group and a user"
	errNotMembership = "managed resource is not a GroupMembership"
	errGetGroup      = "cannot get the group of the membership"
	errFindMember    = "cannot look for the membership in Authentik"
	errAdd           = "cannot add the user to the group"
	errRemove        = "cannot remove the user from the group"
	errRemoveOld     = "cannot remove the membership this resource named before"
)

var groupUUID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Kind describes the GroupMembership managed resource.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.GroupMembershipGroupVersionKind,
	GroupKind:        v1alpha1.GroupMembershipGroupKind,
	Object:           &v1alpha1.GroupMembership{},
	List:             &v1alpha1.GroupMembershipList{},
}

// ReconcilerOptions are the options particular to GroupMemberships: the
// reference resolver, the connector and, in place of the default name
// initializer, the adopter for unconfirmed creates.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	c := mrsetup.NewConnector[*v1alpha1.GroupMembership](conn, func(ac *authentik.Client) *external {
		return &external{client: ac}
	})
	return []managed.ReconcilerOption{
		managed.WithReferenceResolver(mrbehavior.ReferenceResolver(kube)),
		managed.WithTypedExternalConnector(mrbehavior.ObserveAfterCreate[*v1alpha1.GroupMembership](c)),
		managed.WithInitializers(&mrbehavior.Adopter{Kube: kube, Find: candidates(c.Client)}),
	}
}

// SetupGated adds a controller that reconciles GroupMemberships once the
// GroupMembership CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}

// A pair is one user in one group.
type pair struct {
	group string
	user  int32
}

func (p pair) String() string { return strings.ToLower(p.group) + "/" + strconv.Itoa(int(p.user)) }

func parsePair(externalName string) (pair, error) {
	g, u, ok := strings.Cut(externalName, "/")
	pk, err := strconv.ParseInt(u, 10, 32)
	if !ok || !groupUUID.MatchString(g) || err != nil || pk < 1 {
		return pair{}, errors.Errorf("%s, not %q", errExternalName, externalName)
	}
	return pair{group: strings.ToLower(g), user: int32(pk)}, nil
}

// specPair is the membership the spec names, once references are resolved.
func specPair(p v1alpha1.GroupMembershipParameters) (pair, bool) {
	if p.Group == nil || p.User == nil {
		return pair{}, false
	}
	return pair{group: strings.ToLower(*p.Group), user: *p.User}, true
}

// external reconciles one GroupMembership with Authentik.
type external struct {
	client *authentik.Client
}

func (e *external) api() *api.CoreAPIService { return e.client.API.CoreAPI }

// Observe tells whether the user the external name records is a member of
// its group. A spec that names another pair than the external name (the
// user or group changed, or was made again) is a membership still to be
// made; Create then removes the old one.
func (e *external) Observe(ctx context.Context, cr *v1alpha1.GroupMembership) (managed.ExternalObservation, error) {
	en := meta.GetExternalName(cr)
	if en == "" {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	have, err := parsePair(en)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	if want, ok := specPair(cr.Spec.ForProvider); ok && want != have {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	g, err := authentik.Groups.GetCached(ctx, e.client, have.group)
	if authentik.IsNotFound(err) {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	if err != nil {
		return managed.ExternalObservation{}, errors.Wrap(err, errGetGroup)
	}
	if !slices.Contains(g.Users, have.user) {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	lateInit := false
	if cr.Spec.ForProvider.Group == nil {
		cr.Spec.ForProvider.Group = ptr.To(have.group)
		lateInit = true
	}
	if cr.Spec.ForProvider.User == nil {
		cr.Spec.ForProvider.User = ptr.To(have.user)
		lateInit = true
	}
	cr.Status.AtProvider = v1alpha1.GroupMembershipObservation{Group: ptr.To(g.Pk), GroupName: ptr.To(g.Name), User: ptr.To(have.user)}
	cr.SetConditions(xpv2.Available())
	return managed.ExternalObservation{ResourceExists: true, ResourceUpToDate: true, ResourceLateInitialized: lateInit}, nil
}

// Create adds the user to the group (add_user keeps every other member)
// and records the pair as the external name. A membership that exists
// already is adopted only with consent, as any object is: deleting this
// resource removes it. A membership the resource named before is removed
// once the new one is in place.
func (e *external) Create(ctx context.Context, cr *v1alpha1.GroupMembership) (managed.ExternalCreation, error) {
	want, ok := specPair(cr.Spec.ForProvider)
	if !ok {
		return managed.ExternalCreation{}, errors.New(errUnresolved)
	}
	before := meta.GetExternalName(cr)
	adopted := false
	if before != want.String() {
		// A membership this resource never recorded: someone else's,
		// unless spec.adoptExisting says to take it.
		var err error
		if adopted, err = mrbehavior.AdoptOnCreate(ctx, cr, candidates(e.connected)); err != nil {
			return managed.ExternalCreation{}, err
		}
	}
	if !adopted {
		// Ours to make, or ours and removed in Authentik: add_user keeps the
		// group's other members and changes nothing for a member.
		resp, err := e.api().CoreGroupsAddUserCreate(ctx, want.group).UserAccountRequest(*api.NewUserAccountRequest(want.user)).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			if authentik.CreateMayHaveSucceeded(err) {
				// The user may be in the group although the response was
				// lost; the adopter finds the membership before adding
				// again.
				mrbehavior.MarkCreateUnconfirmed(cr)
			}
			return managed.ExternalCreation{}, errors.Wrapf(err, "%s %s (user %d)", errAdd, want.group, want.user)
		}
		meta.SetExternalName(cr, want.String())
	}
	if old, err := parsePair(before); err == nil && old != want {
		if err := e.remove(ctx, old); err != nil {
			return managed.ExternalCreation{}, errors.Wrap(err, errRemoveOld)
		}
	}
	return managed.ExternalCreation{}, nil
}

// Update has nothing to write: a membership has no state but its pair.
func (e *external) Update(_ context.Context, _ *v1alpha1.GroupMembership) (managed.ExternalUpdate, error) {
	return managed.ExternalUpdate{}, nil
}

// Delete removes the user from the group; a user or group that is gone
// took the membership with it.
func (e *external) Delete(ctx context.Context, cr *v1alpha1.GroupMembership) (managed.ExternalDelete, error) {
	cr.SetConditions(xpv2.Deleting())
	p, err := parsePair(meta.GetExternalName(cr))
	if err != nil {
		return managed.ExternalDelete{}, err
	}
	return managed.ExternalDelete{}, e.remove(ctx, p)
}

func (e *external) remove(ctx context.Context, p pair) error {
	resp, err := e.api().CoreGroupsRemoveUserCreate(ctx, p.group).UserAccountRequest(*api.NewUserAccountRequest(p.user)).Execute()
	if err := authentik.Classify(resp, err); err != nil && !authentik.IsNotFound(err) {
		return errors.Wrapf(err, "%s %s (user %d)", errRemove, p.group, p.user)
	}
	return nil
}

// connected is the client this external client uses, for finding what
// exists before a create.
func (e *external) connected(context.Context, *v1alpha1.GroupMembership) (*authentik.Client, error) {
	return e.client, nil
}

// Disconnect releases nothing: HTTP connections are pooled per config.
func (e *external) Disconnect(_ context.Context) error { return nil }

// candidates finds the membership the spec names if Authentik has it, read
// fresh from the group: one an unconfirmed add made, or one someone else
// made, which is adopted only with consent.
func candidates(connect func(context.Context, *v1alpha1.GroupMembership) (*authentik.Client, error)) mrbehavior.CandidateFinder {
	return func(ctx context.Context, mg resource.Managed) ([]mrbehavior.Candidate, error) {
		cr, ok := mg.(*v1alpha1.GroupMembership)
		if !ok {
			return nil, errors.New(errNotMembership)
		}
		want, ok := specPair(cr.Spec.ForProvider)
		if !ok {
			return nil, nil
		}
		ac, err := connect(ctx, cr)
		if err != nil {
			return nil, err
		}
		g, err := authentik.Groups.GetFresh(ctx, ac, want.group)
		if authentik.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, errors.Wrap(err, errFindMember)
		}
		if !slices.Contains(g.Users, want.user) {
			return nil, nil
		}
		return []mrbehavior.Candidate{{ExternalName: want.String(), Description: fmt.Sprintf("membership of user %d in group %q", want.user, g.Name)}}, nil
	}
}
