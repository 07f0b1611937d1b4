package user

import (
	"encoding/json"
	"regexp"
	"strings"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	api "goauthentik.io/api/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
)

const (
	errAttributes = "spec.forProvider.attributes must be a JSON object"

	// typeServiceAccount is the user type made through the service account
	// endpoint, with a token.
	typeServiceAccount = "service_account"
)

// patch builds the body of a create's follow-up or an update from the
// spec: only the fields the spec sets. A PATCH, never a PUT: a PUT without
// groups takes the user out of every group (UserSerializer.groups defaults
// to an empty list), and memberships belong to GroupMemberships and the UI.
func patch(p v1alpha1.UserParameters) (api.PatchedUserRequest, error) {
	r := api.NewPatchedUserRequest()
	r.Username = p.Username
	r.Name = p.Name
	r.Email = p.Email
	r.IsActive = p.IsActive
	r.Path = p.Path
	if p.Type != nil {
		r.Type = ptr.To(api.UserTypeEnum(*p.Type))
	}
	if p.Attributes != nil {
		attrs, err := attributesOf(p.Attributes)
		if err != nil {
			return api.PatchedUserRequest{}, err
		}
		r.Attributes = attrs
	}
	return *r, nil
}

// request builds the body of a create of a user who is no service account.
// Groups are left out: a new user is in none.
func request(p v1alpha1.UserParameters) (api.UserRequest, error) {
	pr, err := patch(p)
	if err != nil {
		return api.UserRequest{}, err
	}
	r := api.NewUserRequest(ptr.Deref(p.Username, ""), ptr.Deref(p.Name, ""))
	r.Email, r.IsActive, r.Path, r.Type, r.Attributes = pr.Email, pr.IsActive, pr.Path, pr.Type, pr.Attributes
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

// parametersOf reads a user as Authentik returned it into the spec's shape.
func parametersOf(u *api.User) v1alpha1.UserParameters {
	out := v1alpha1.UserParameters{
		Username: ptr.To(u.Username),
		Name:     ptr.To(u.Name),
		Email:    ptr.To(u.GetEmail()),
		IsActive: u.IsActive,
		Path:     u.Path,
	}
	if u.Type != nil {
		out.Type = ptr.To(string(*u.Type))
	}
	attrs := u.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	if b, err := json.Marshal(attrs); err == nil {
		out.Attributes = &runtime.RawExtension{Raw: b}
	}
	return out
}

// view is what Diff compares, with the attributes decoded so that key
// order and spacing do not count.
type view struct {
	Username   *string
	Name       *string
	Email      *string
	Type       *string
	IsActive   *bool
	Path       *string
	Attributes map[string]any
}

func attributesView(raw *runtime.RawExtension) map[string]any {
	if raw == nil {
		return nil
	}
	attrs, err := attributesOf(raw)
	if err != nil {
		// Not an object: keep it visible in the diff rather than comparing
		// equal to an absent value.
		return map[string]any{"<invalid>": string(raw.Raw)}
	}
	return attrs
}

// Diff compares the fields the spec sets with what Authentik has. Unset
// fields are not managed and so never differ; attributes are compared as a
// whole JSON object. An empty result means up to date.
func Diff(spec, observed v1alpha1.UserParameters) string {
	want := view{Username: spec.Username, Name: spec.Name, Email: spec.Email, Type: spec.Type, IsActive: spec.IsActive, Path: spec.Path, Attributes: attributesView(spec.Attributes)}
	got := view{}
	pick := func(set bool, o *string) *string {
		if !set {
			return nil
		}
		return ptr.To(ptr.Deref(o, ""))
	}
	got.Username = pick(spec.Username != nil, observed.Username)
	got.Name = pick(spec.Name != nil, observed.Name)
	got.Email = pick(spec.Email != nil, observed.Email)
	got.Type = pick(spec.Type != nil, observed.Type)
	got.Path = pick(spec.Path != nil, observed.Path)
	if spec.IsActive != nil {
		got.IsActive = ptr.To(ptr.Deref(observed.IsActive, false))
	}
	if spec.Attributes != nil {
		got.Attributes = attributesView(observed.Attributes)
		if got.Attributes == nil {
			got.Attributes = map[string]any{}
		}
	}
	return cmp.Diff(want, got, cmpopts.EquateEmpty())
}

// createdFields are the fields a create sets, which an unconfirmed create
// is recognised by: a service account is made with its username and type
// only (its other fields follow in an update).
func createdFields(p v1alpha1.UserParameters) v1alpha1.UserParameters {
	if ptr.Deref(p.Type, "") != typeServiceAccount {
		return p
	}
	return v1alpha1.UserParameters{Username: p.Username, Type: p.Type}
}

// LateInitialize fills the spec's unset fields from Authentik and reports
// whether it changed anything. Empty attributes are left unset.
func LateInitialize(spec *v1alpha1.UserParameters, observed v1alpha1.UserParameters) bool {
	changed := false
	fill := func(s **string, o *string) {
		if *s == nil && o != nil {
			*s = ptr.To(*o)
			changed = true
		}
	}
	fill(&spec.Username, observed.Username)
	fill(&spec.Name, observed.Name)
	fill(&spec.Email, observed.Email)
	fill(&spec.Type, observed.Type)
	fill(&spec.Path, observed.Path)
	if spec.IsActive == nil && observed.IsActive != nil {
		spec.IsActive = ptr.To(*observed.IsActive)
		changed = true
	}
	if spec.Attributes == nil && observed.Attributes != nil && len(attributesView(observed.Attributes)) > 0 {
		spec.Attributes = observed.Attributes.DeepCopy()
		changed = true
	}
	return changed
}

// observation is what status.atProvider shows of a user; the token
// identifier is kept from before.
func observation(u *api.User, tokenIdentifier *string) v1alpha1.UserObservation {
	return v1alpha1.UserObservation{PK: ptr.To(u.Pk), UUID: ptr.To(u.Uuid), IsSuperuser: ptr.To(u.IsSuperuser), TokenIdentifier: tokenIdentifier}
}

var slugSeparators = regexp.MustCompile(`[-\s]+`)

// tokenIdentifier is the identifier Authentik gives a service account's
// token, slugify(f"service-account-{username}-password") in
// UserViewSet.service_account (authentik/core/api/users.py), with Django's
// slugify for ASCII.
func tokenIdentifier(username string) string {
	var b strings.Builder
	for _, r := range strings.ToLower("service-account-" + username + "-password") {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || unicode.IsSpace(r)) {
			b.WriteRune(r)
		}
	}
	return strings.Trim(slugSeparators.ReplaceAllString(b.String(), "-"), "-_")
}
