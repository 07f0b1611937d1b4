package group

import (
	"encoding/json"
	"slices"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	api "goauthentik.io/api/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
)

const errAttributes = "spec.forProvider.attributes must be a JSON object"

// request builds the body for a create from the spec. Fields the spec
// leaves unset are omitted, so Authentik defaults them; a new group has no
// members.
func request(p v1alpha1.GroupParameters) (api.GroupRequest, error) {
	r := api.NewGroupRequest(ptr.Deref(p.Name, ""))
	r.IsSuperuser = p.IsSuperuser
	if p.Parents != nil {
		r.Parents = slices.Clone(p.Parents)
	}
	if p.Attributes != nil {
		attrs, err := attributesOf(p.Attributes)
		if err != nil {
			return api.GroupRequest{}, err
		}
		r.Attributes = attrs
	}
	return *r, nil
}

// patch builds the body of an update from the spec: only the fields the
// spec sets. A PATCH, never a PUT: GroupSerializer gives users, parents
// and children a default of an empty list, so a PUT that leaves them out
// removes every member (those added in the UI and by GroupMemberships)
// and every parent and child link.
func patch(p v1alpha1.GroupParameters) (api.PatchedGroupRequest, error) {
	r := api.NewPatchedGroupRequest()
	r.Name = p.Name
	r.IsSuperuser = p.IsSuperuser
	if p.Parents != nil {
		r.Parents = slices.Clone(p.Parents)
	}
	if p.Attributes != nil {
		attrs, err := attributesOf(p.Attributes)
		if err != nil {
			return api.PatchedGroupRequest{}, err
		}
		r.Attributes = attrs
	}
	return *r, nil
}

// attributesOf decodes the spec's attributes, which must be a JSON object.
func attributesOf(raw *runtime.RawExtension) (map[string]any, error) {
	attrs := map[string]any{}
	if err := json.Unmarshal(raw.Raw, &attrs); err != nil || attrs == nil {
		return nil, errors.New(errAttributes)
	}
	return attrs, nil
}

// parametersOf reads a group as Authentik returned it into the spec's shape.
func parametersOf(g *api.Group) v1alpha1.GroupParameters {
	out := v1alpha1.GroupParameters{
		Name:        ptr.To(g.Name),
		IsSuperuser: g.IsSuperuser,
		Parents:     slices.Clone(g.Parents),
	}
	attrs := g.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	if b, err := json.Marshal(attrs); err == nil {
		out.Attributes = &runtime.RawExtension{Raw: b}
	}
	return out
}

// view is what specDiff compares: the parameters Authentik holds, with the
// attributes decoded so that key order and spacing do not count.
type view struct {
	Name        *string
	Parents     []string
	IsSuperuser *bool
	Attributes  map[string]any
}

func viewOf(p v1alpha1.GroupParameters) view {
	v := view{Name: p.Name, Parents: p.Parents, IsSuperuser: p.IsSuperuser}
	if p.Attributes != nil {
		v.Attributes, _ = attributesOf(p.Attributes)
		if v.Attributes == nil {
			// Not an object: keep it visible in the diff rather than
			// comparing equal to an absent value.
			v.Attributes = map[string]any{"<invalid>": string(p.Attributes.Raw)}
		}
	}
	return v
}

// specDiff compares the fields the spec sets with what Authentik has. Unset
// fields are not managed and so never differ; parents are compared as a
// set, attributes as a whole JSON object. An empty result means up to date.
func specDiff(spec, observed v1alpha1.GroupParameters) string {
	want := viewOf(spec)
	got := view{}
	if spec.Name != nil {
		got.Name = observed.Name
	}
	if spec.IsSuperuser != nil {
		got.IsSuperuser = observed.IsSuperuser
	}
	if spec.Parents != nil {
		got.Parents = observed.Parents
	}
	if spec.Attributes != nil {
		got.Attributes = viewOf(observed).Attributes
		if got.Attributes == nil {
			got.Attributes = map[string]any{}
		}
	}
	return cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b }), cmpopts.EquateEmpty())
}

// lateInitialize fills the spec's unset fields from Authentik and reports
// whether it changed anything. Parents are filled only when neither
// references nor a selector name them, and only when there are some; empty
// attributes are left unset.
func lateInitialize(spec *v1alpha1.GroupParameters, observed v1alpha1.GroupParameters) bool {
	changed := false
	if spec.Parents == nil && len(spec.ParentRefs) == 0 && spec.ParentSelector == nil && len(observed.Parents) > 0 {
		spec.Parents = slices.Clone(observed.Parents)
		changed = true
	}
	if spec.Attributes == nil && observed.Attributes != nil && len(viewOf(observed).Attributes) > 0 {
		spec.Attributes = observed.Attributes.DeepCopy()
		changed = true
	}
	filled := []bool{
		mrbehavior.FillUnset(&spec.Name, observed.Name),
		mrbehavior.FillUnset(&spec.IsSuperuser, observed.IsSuperuser),
	}
	return changed || slices.Contains(filled, true)
}
