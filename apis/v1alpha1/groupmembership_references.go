package v1alpha1

import (
	"context"
	"strconv"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reference"
)

// ResolveReferences sets spec.forProvider.group and user from the Group
// and User that the references or selectors name. References are
// resolved on every reconcile, so an object made again with a new id is
// followed; a selector only fills an empty reference. A Group or User that
// no longer exists in this namespace keeps the id resolved last, so that
// the membership can still be removed.
func (mg *GroupMembership) ResolveReferences(ctx context.Context, c client.Reader) error {
	r := reference.NewAPINamespacedResolver(c, mg)
	fp := &mg.Spec.ForProvider

	if fp.GroupRef != nil || fp.GroupSelector != nil {
		rsp, err := r.Resolve(ctx, reference.NamespacedResolutionRequest{
			CurrentValue: currentUnlessReferenced(fp.Group, fp.GroupRef),
			Reference:    inNamespace(fp.GroupRef),
			Selector:     selectInNamespace(fp.GroupSelector),
			To:           reference.To{Managed: &Group{}, List: &GroupList{}},
			Extract:      reference.ExternalName(),
			Namespace:    mg.GetNamespace(),
		})
		switch {
		case err != nil && kerrors.IsNotFound(err) && fp.Group != nil:
		case err != nil:
			return errors.Wrap(err, "spec.forProvider.groupRef")
		case rsp.ResolvedValue != "":
			fp.Group = ptr.To(rsp.ResolvedValue)
			fp.GroupRef = local(rsp.ResolvedReference)
		}
	}

	if fp.UserRef != nil || fp.UserSelector != nil {
		current := ""
		if fp.User != nil && fp.UserRef == nil {
			current = strconv.Itoa(int(*fp.User))
		}
		rsp, err := r.Resolve(ctx, reference.NamespacedResolutionRequest{
			CurrentValue: current,
			Reference:    inNamespace(fp.UserRef),
			Selector:     selectInNamespace(fp.UserSelector),
			To:           reference.To{Managed: &User{}, List: &UserList{}},
			Extract:      reference.ExternalName(),
			Namespace:    mg.GetNamespace(),
		})
		switch {
		case err != nil && kerrors.IsNotFound(err) && fp.User != nil:
		case err != nil:
			return errors.Wrap(err, "spec.forProvider.userRef")
		case rsp.ResolvedValue != "":
			pk, perr := strconv.ParseInt(rsp.ResolvedValue, 10, 32)
			if perr != nil {
				return errors.Wrap(perr, "spec.forProvider.userRef: the User's external name is not a user id")
			}
			fp.User = ptr.To(int32(pk))
			fp.UserRef = local(rsp.ResolvedReference)
		}
	}
	return nil
}
