package policybinding

import (
	"context"
	"strings"
	"time"

	api "goauthentik.io/api/v3"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/proxyprovider"
)

// AnnotationCreateUnconfirmed marks a resource whose create request got no
// definite answer from Authentik; the key is shared by every kind whose
// external name Authentik assigns.
const AnnotationCreateUnconfirmed = proxyprovider.AnnotationCreateUnconfirmed

const (
	errNotPolicyBinding = "managed resource is not a PolicyBinding"
	errFindBindings     = "cannot look for the policy binding after an unconfirmed create"
	errAdoptAmbiguous   = "policy bindings of this group to this application that match this resource exist in Authentik, so none was adopted after an unconfirmed create; to adopt one set its UUID as the crossplane.io/external-name annotation"
	errRecordAdoption   = "cannot record the outcome of an unconfirmed create"
)

func markCreateUnconfirmed(cr *v1alpha1.PolicyBinding) {
	meta.AddAnnotations(cr, map[string]string{AnnotationCreateUnconfirmed: time.Now().UTC().Format(time.RFC3339)})
}

// An adopter settles a create whose outcome is unknown: the process stopped
// between Authentik's answer and recording the UUID, or the answer was
// lost. Authentik does not keep a group's bindings to an application
// unique, so it lists the application's bindings: the one binding of the
// group whose every field this resource sets matches is the one this
// resource made, and its UUID becomes the external name. With none the
// create is marked failed and runs again; with several, none is adopted
// and the resource says so. Resources that never sent a create are left
// alone.
type adopter struct {
	kube    client.Client
	connect func(context.Context, *v1alpha1.PolicyBinding) (*authentik.Client, error)
}

// Initialize runs before the managed reconciler's check for an incomplete
// create, which would otherwise stop the resource for good.
func (a *adopter) Initialize(ctx context.Context, mg resource.Managed) error {
	cr, ok := mg.(*v1alpha1.PolicyBinding)
	if !ok {
		return errors.New(errNotPolicyBinding)
	}
	_, unconfirmed := cr.GetAnnotations()[AnnotationCreateUnconfirmed]
	if meta.GetExternalName(cr) != "" || (!meta.ExternalCreateIncomplete(cr) && !unconfirmed) {
		return nil
	}
	matches, err := a.matching(ctx, cr)
	if err != nil {
		return err
	}
	meta.RemoveAnnotations(cr, AnnotationCreateUnconfirmed)
	switch len(matches) {
	case 0:
		if meta.ExternalCreateIncomplete(cr) {
			meta.SetExternalCreateFailed(cr, time.Now())
		}
	case 1:
		meta.SetExternalName(cr, matches[0].Pk)
		meta.SetExternalCreateSucceeded(cr, time.Now())
	default:
		return errors.Errorf("%d %s", len(matches), errAdoptAmbiguous)
	}
	return errors.Wrap(a.kube.Update(ctx, cr), errRecordAdoption)
}

// matching lists the bindings in Authentik that this resource could have
// made: bindings of its group to its application that match the spec. A
// spec without an application or group could not have been sent.
func (a *adopter) matching(ctx context.Context, cr *v1alpha1.PolicyBinding) ([]api.PolicyBinding, error) {
	p := cr.Spec.ForProvider
	if p.Application == nil || (p.Group == nil && p.GroupName == nil) {
		return nil, nil
	}
	ac, err := a.connect(ctx, cr)
	if err != nil {
		return nil, err
	}
	e := &external{client: ac}
	group, err := e.groupID(ctx, p)
	if err != nil {
		return nil, errors.Wrap(err, errFindBindings)
	}
	var out []api.PolicyBinding
	for page := int32(1); page > 0; {
		l, resp, err := e.api().PoliciesBindingsList(ctx).Target(*p.Application).Page(page).PageSize(pageSize).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return nil, errors.Wrap(err, errFindBindings)
		}
		for i := range l.Results {
			b := &l.Results[i]
			if g := b.Group.Get(); g == nil || !strings.EqualFold(*g, group) {
				continue
			}
			if Diff(p, parametersOf(b)) == "" {
				out = append(out, *b)
			}
		}
		page = int32(l.Pagination.Next)
	}
	return out, nil
}
