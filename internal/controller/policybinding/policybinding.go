// Package policybinding manages Authentik policy bindings that admit the
// members of a group, or the users a policy passes, to an application.
package policybinding

import (
	"context"
	"fmt"
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
	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

const (
	errExternalName   = "the external name must be the policy binding's UUID"
	errGet            = "cannot get policy binding"
	errCreate         = "cannot create policy binding"
	errUpdate         = "cannot update policy binding"
	errDelete         = "cannot delete policy binding"
	errNoApplication  = "spec.forProvider.application is not set: set it, or applicationRef or applicationSelector"
	errNoGroup        = "no group is named: set spec.forProvider.group, groupRef, groupSelector or groupName"
	errNoPolicy       = "spec.forProvider.policy is not set: set it, or policyRef or policySelector"
	errFindGroup      = "cannot look up spec.forProvider.groupName in Authentik"
	errNoSuchGroup    = "no Authentik group is named %q (spec.forProvider.groupName)"
	errCheckGroup     = "cannot check whether the bound group still exists"
	errCheckPolicy    = "cannot check whether the bound policy still exists"
	errListBindings   = "cannot list the application's policy bindings"
	errListApps       = "cannot list applications"
	pathApplication   = "spec.forProvider.application"
	pathApplicationRf = "spec.forProvider.applicationRef"
	pathGroup         = "spec.forProvider.group"
	pathGroupRef      = "spec.forProvider.groupRef"
	pathGroupName     = "spec.forProvider.groupName"
	pathPolicy        = "spec.forProvider.policy"
	pathPolicyRef     = "spec.forProvider.policyRef"

	// pageSize is how many objects a list request asks for at once.
	pageSize = 100
)

// fieldPathsFor maps Authentik's request fields to the fields of this
// resource the user set, so Authentik's validation messages name what the
// user has to change.
func fieldPathsFor(p v1alpha1.PolicyBindingParameters) map[string]string {
	paths := map[string]string{
		"target":  pathApplication,
		"group":   pathGroup,
		"policy":  pathPolicy,
		"order":   "spec.forProvider.order",
		"negate":  "spec.forProvider.negate",
		"enabled": "spec.forProvider.enabled",
		"timeout": "spec.forProvider.timeout",
	}
	if p.ApplicationRef != nil || p.ApplicationSelector != nil {
		paths["target"] = pathApplicationRf
	}
	switch {
	case p.GroupName != nil:
		paths["group"] = pathGroupName
	case p.GroupRef != nil || p.GroupSelector != nil:
		paths["group"] = pathGroupRef
	}
	if p.PolicyRef != nil || p.PolicySelector != nil {
		paths["policy"] = pathPolicyRef
	}
	return paths
}

// Kind describes the PolicyBinding managed resource.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.PolicyBindingGroupVersionKind,
	GroupKind:        v1alpha1.PolicyBindingGroupKind,
	Object:           &v1alpha1.PolicyBinding{},
	List:             &v1alpha1.PolicyBindingList{},
	Dependencies: []mrbehavior.Dependency{{
		Object: &v1alpha1.Application{},
		Value:  func(o client.Object) string { return ptr.Deref(o.(*v1alpha1.Application).Status.AtProvider.PK, "") },
		Names: mrbehavior.NamedBy(func(mg resource.Managed) *xpv2.Reference {
			return mg.(*v1alpha1.PolicyBinding).Spec.ForProvider.ApplicationRef
		}),
	}, {
		Object: &v1alpha1.Group{},
		Value:  mrbehavior.ExternalName,
		Names: mrbehavior.NamedBy(func(mg resource.Managed) *xpv2.Reference {
			return mg.(*v1alpha1.PolicyBinding).Spec.ForProvider.GroupRef
		}),
	}, {
		Object: &v1alpha1.ExpressionPolicy{},
		Value:  mrbehavior.ExternalName,
		Names: mrbehavior.NamedBy(func(mg resource.Managed) *xpv2.Reference {
			return mg.(*v1alpha1.PolicyBinding).Spec.ForProvider.PolicyRef
		}),
	}},
}

// ReconcilerOptions are the options particular to PolicyBindings: the
// connector and, in place of the default name initializer (the UUID is
// Authentik's to choose), the adopter for unconfirmed creates.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	c := mrsetup.NewConnector[*v1alpha1.PolicyBinding](conn, func(ac *authentik.Client) *external {
		return &external{client: ac, states: conn.States()}
	})
	return []managed.ReconcilerOption{
		managed.WithReferenceResolver(mrbehavior.ReferenceResolver(kube)),
		managed.WithTypedExternalConnector(mrbehavior.ObserveAfterCreate[*v1alpha1.PolicyBinding](c)),
		managed.WithInitializers(&mrbehavior.Adopter{Kube: kube, Find: candidates(c.External)}),
	}
}

// SetupGated adds a controller that reconciles PolicyBindings once the
// PolicyBinding CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}

// external reconciles one PolicyBinding with Authentik. It lives for one
// reconcile.
type external struct {
	client *authentik.Client
	// states records the applications a gone group left open.
	states *metrics.States
	// groups are the groups looked up by name in this reconcile: a create
	// looks its group up for the adopter and for the request.
	groups map[string]*api.Group
}

func (e *external) api() *api.PoliciesAPIService { return e.client.API.PoliciesAPI }

// Observe reads the binding by its UUID and compares it with the spec. A
// binding that is gone because its group or policy is gone is not made
// again: a restricted application must never silently become open to
// everyone, so Observe reports which application lost its restriction,
// marks the resource unavailable and fails until the group or policy is
// back.
func (e *external) Observe(ctx context.Context, cr *v1alpha1.PolicyBinding) (managed.ExternalObservation, error) {
	en := meta.GetExternalName(cr)
	if en == "" {
		e.states.OpenApplications.Forget(openKey(cr))
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	id, err := mrbehavior.ExternalUUID(en, errExternalName)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	b, err := authentik.PolicyBindings.GetCached(ctx, e.client, id)
	if err != nil {
		if !authentik.IsNotFound(err) {
			return managed.ExternalObservation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPathsFor(cr.Spec.ForProvider)), errGet)
		}
		if meta.WasDeleted(cr) {
			e.states.OpenApplications.Forget(openKey(cr))
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		return e.observeGone(ctx, cr)
	}
	e.states.OpenApplications.Forget(openKey(cr))

	observed := parametersOf(b)
	diff := specDiff(cr.Spec.ForProvider, observed)
	lateInit := lateInitialize(&cr.Spec.ForProvider, observed)
	cr.Status.AtProvider = observation(b)
	cr.SetConditions(xpv2.Available())

	return managed.ExternalObservation{
		ResourceExists:          true,
		ResourceUpToDate:        diff == "",
		ResourceLateInitialized: lateInit,
		Diff:                    diff,
	}, nil
}

// observeGone decides what a binding that Authentik no longer has means.
// If its subject (group or policy) still exists the binding was deleted on
// its own and is made again. If the subject is gone too, Authentik deleted
// the binding with it: making it again is impossible and reporting success
// would hide that the application may now admit everyone.
func (e *external) observeGone(ctx context.Context, cr *v1alpha1.PolicyBinding) (managed.ExternalObservation, error) {
	s, err := e.subjectExists(ctx, cr)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	if s.exists {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	msg, open := e.lostRestriction(ctx, cr, s)
	e.states.OpenApplications.Set(openKey(cr), open)
	cr.SetConditions(xpv2.Unavailable().WithMessage(msg))
	return managed.ExternalObservation{}, errors.New(msg)
}

// A subject is what a binding binds, as a message names it.
type subject struct {
	exists bool
	// kind is "group" or "policy"; label names the object.
	kind, label string
}

// subjectExists tells whether the group or policy the spec names exists in
// Authentik, and how to name it in a message.
func (e *external) subjectExists(ctx context.Context, cr *v1alpha1.PolicyBinding) (subject, error) {
	p := cr.Spec.ForProvider
	if p.Policy != nil {
		s := subject{kind: "policy", label: *p.Policy}
		if o := cr.Status.AtProvider; o.PolicyName != nil && strings.EqualFold(ptr.Deref(o.Policy, ""), *p.Policy) {
			s.label = fmt.Sprintf("%q (%s)", *o.PolicyName, *p.Policy)
		}
		// Any policy type may be bound, so it is looked up among all.
		_, resp, err := e.api().PoliciesAllRetrieve(ctx, *p.Policy).Execute()
		err = authentik.Classify(resp, err)
		if authentik.IsNotFound(err) {
			return s, nil
		}
		s.exists = err == nil
		return s, errors.Wrap(err, errCheckPolicy)
	}
	exists, label, err := e.groupExists(ctx, cr)
	return subject{exists: exists, kind: "group", label: label}, errors.Wrap(err, errCheckGroup)
}

// groupExists tells whether the group the spec names exists in Authentik,
// and how to name it in a message.
func (e *external) groupExists(ctx context.Context, cr *v1alpha1.PolicyBinding) (bool, string, error) {
	p := cr.Spec.ForProvider
	switch {
	case p.GroupName != nil:
		g, err := e.groupNamed(ctx, *p.GroupName)
		return g != nil, fmt.Sprintf("%q", *p.GroupName), err
	case p.Group != nil:
		label := *p.Group
		if o := cr.Status.AtProvider; o.GroupName != nil && strings.EqualFold(ptr.Deref(o.Group, ""), *p.Group) {
			label = fmt.Sprintf("%q (%s)", *o.GroupName, *p.Group)
		}
		_, resp, err := e.client.API.CoreAPI.CoreGroupsRetrieve(ctx, *p.Group).IncludeUsers(false).Execute()
		err = authentik.Classify(resp, err)
		if authentik.IsNotFound(err) {
			return false, label, nil
		}
		return err == nil, label, err
	}
	// A binding imported without a group has nothing to check.
	return true, "", nil
}

// openKey identifies a PolicyBinding in the open-applications metric; it
// is never a label.
func openKey(cr *v1alpha1.PolicyBinding) string { return cr.GetNamespace() + "/" + cr.GetName() }

// lostRestriction describes an application whose binding to the subject
// went with it, and tells whether the application is, or may be, open to
// every user: a check that failed counts as open, so the alert errs on the
// side of waking someone.
func (e *external) lostRestriction(ctx context.Context, cr *v1alpha1.PolicyBinding, s subject) (string, bool) {
	head := fmt.Sprintf("%s %s bound by this PolicyBinding no longer exists in Authentik, which deleted the binding with it", s.kind, s.label)
	target := ptr.Deref(cr.Spec.ForProvider.Application, ptr.Deref(cr.Status.AtProvider.Target, ""))
	if target == "" {
		return head, false
	}
	app, err := e.applicationByPK(ctx, target)
	switch {
	case err != nil:
		return fmt.Sprintf("%s; application %s may be open to every user until the %s is restored (cannot check: %v)", head, target, s.kind, err), true
	case app == nil:
		return fmt.Sprintf("%s; application %s no longer exists either", head, target), false
	}
	name := fmt.Sprintf("%q (%s)", app.Slug, app.Pk)
	l, resp, err := e.api().PoliciesBindingsList(ctx).Target(app.Pk).Enabled(true).PageSize(1).Execute()
	switch err := authentik.Classify(resp, err); {
	case err != nil:
		return fmt.Sprintf("%s; application %s may be open to every user until the %s is restored (%s: %v)", head, name, s.kind, errListBindings, err), true
	case l.Pagination.Count == 0:
		return fmt.Sprintf("%s %s bound by this PolicyBinding no longer exists in Authentik; application %s is open to every user until it is restored (Authentik deleted the binding with the %s, and the application has no other enabled policy bindings)", s.kind, s.label, name, s.kind), true
	default:
		what := "that group's members"
		if s.kind == "policy" {
			what = "the users that policy passes"
		}
		return fmt.Sprintf("%s; application %s no longer admits %s through this binding, and %d other enabled policy bindings still apply to it; restore the %s or name another one", head, name, what, int(l.Pagination.Count), s.kind), false
	}
}

// applicationByPK finds an application by its UUID. Authentik looks
// applications up only by slug, so it lists them all, as a superuser sees
// them; it is only called when a binding went missing.
func (e *external) applicationByPK(ctx context.Context, pk string) (*api.Application, error) {
	for page := int32(1); page > 0; {
		l, resp, err := e.client.API.CoreAPI.CoreApplicationsList(ctx).SuperuserFullList(true).Page(page).PageSize(pageSize).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return nil, errors.Wrap(err, errListApps)
		}
		for i := range l.Results {
			if strings.EqualFold(l.Results[i].Pk, pk) {
				return &l.Results[i], nil
			}
		}
		page = int32(l.Pagination.Next)
	}
	return nil, nil
}

// groupNamed looks a group up by its name, which is unique in Authentik.
// It returns nil when there is no such group.
func (e *external) groupNamed(ctx context.Context, name string) (*api.Group, error) {
	if g, ok := e.groups[name]; ok {
		return g, nil
	}
	l, resp, err := e.client.API.CoreAPI.CoreGroupsList(ctx).Name(name).IncludeUsers(false).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return nil, errors.Wrap(err, errFindGroup)
	}
	var found *api.Group
	for i := range l.Results {
		if l.Results[i].Name == name {
			found = &l.Results[i]
			break
		}
	}
	if e.groups == nil {
		e.groups = map[string]*api.Group{}
	}
	e.groups[name] = found
	return found, nil
}

// groupID is the UUID of the group the spec names, looked up by name when
// it names the group by name.
func (e *external) groupID(ctx context.Context, p v1alpha1.PolicyBindingParameters) (string, error) {
	switch {
	case p.GroupName != nil:
		g, err := e.groupNamed(ctx, *p.GroupName)
		if err != nil {
			return "", err
		}
		if g == nil {
			return "", errors.Errorf(errNoSuchGroup, *p.GroupName)
		}
		return g.Pk, nil
	case p.Group != nil:
		return *p.Group, nil
	}
	return "", errors.New(errNoGroup)
}

// request builds the full body for a create or PUT from the spec: the
// group or the policy it binds, never both. Unset flags are omitted, so
// Authentik keeps (or defaults) them.
func (e *external) request(ctx context.Context, p v1alpha1.PolicyBindingParameters) (api.PolicyBindingRequest, error) {
	if p.Application == nil {
		return api.PolicyBindingRequest{}, errors.New(errNoApplication)
	}
	r := api.NewPolicyBindingRequest(*p.Application, ptr.Deref(p.Order, 0))
	if p.BindsPolicy() {
		if p.Policy == nil {
			return api.PolicyBindingRequest{}, errors.New(errNoPolicy)
		}
		r.SetPolicy(*p.Policy)
	} else {
		group, err := e.groupID(ctx, p)
		if err != nil {
			return api.PolicyBindingRequest{}, err
		}
		r.SetGroup(group)
	}
	r.Negate = p.Negate
	r.Enabled = p.Enabled
	r.Timeout = p.Timeout
	return *r, nil
}

// Create makes the binding and records its UUID as the external name.
func (e *external) Create(ctx context.Context, cr *v1alpha1.PolicyBinding) (managed.ExternalCreation, error) {
	if adopted, err := mrbehavior.AdoptOnCreate(ctx, cr, candidates(e.connected)); adopted || err != nil {
		return managed.ExternalCreation{}, err
	}
	req, err := e.request(ctx, cr.Spec.ForProvider)
	if err != nil {
		return managed.ExternalCreation{}, errors.Wrap(err, errCreate)
	}
	b, resp, err := e.api().PoliciesBindingsCreate(ctx).PolicyBindingRequest(req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		if authentik.CreateMayHaveSucceeded(err) {
			// Authentik may have made the binding although its answer was
			// lost or unreadable; the adopter looks for it before
			// creating again.
			mrbehavior.MarkCreateUnconfirmed(cr)
		}
		return managed.ExternalCreation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPathsFor(cr.Spec.ForProvider)), errCreate)
	}
	// The next Observe reads what Authentik answered.
	authentik.PolicyBindings.KeepCreated(e.client, b)
	meta.SetExternalName(cr, b.Pk)
	cr.Status.AtProvider = observation(b)
	return managed.ExternalCreation{}, nil
}

// Update writes the whole spec with PUT.
func (e *external) Update(ctx context.Context, cr *v1alpha1.PolicyBinding) (managed.ExternalUpdate, error) {
	id, err := mrbehavior.ExternalUUID(meta.GetExternalName(cr), errExternalName)
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	req, err := e.request(ctx, cr.Spec.ForProvider)
	if err != nil {
		return managed.ExternalUpdate{}, errors.Wrap(err, errUpdate)
	}
	b, resp, err := e.api().PoliciesBindingsUpdate(ctx, id).PolicyBindingRequest(req).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return managed.ExternalUpdate{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPathsFor(cr.Spec.ForProvider)), errUpdate)
	}
	cr.Status.AtProvider = observation(b)
	return managed.ExternalUpdate{}, nil
}

// Delete removes the binding; one that is already gone counts as deleted.
func (e *external) Delete(ctx context.Context, cr *v1alpha1.PolicyBinding) (managed.ExternalDelete, error) {
	cr.SetConditions(xpv2.Deleting())
	id, err := mrbehavior.ExternalUUID(meta.GetExternalName(cr), errExternalName)
	if err != nil {
		return managed.ExternalDelete{}, err
	}
	resp, err := e.api().PoliciesBindingsDestroy(ctx, id).Execute()
	if err := authentik.Classify(resp, err); err != nil && !authentik.IsNotFound(err) {
		return managed.ExternalDelete{}, errors.Wrap(err, errDelete)
	}
	return managed.ExternalDelete{}, nil
}

// connected is this external client, for finding what exists before a
// create with the lookups the create makes too.
func (e *external) connected(context.Context, *v1alpha1.PolicyBinding) (*external, error) {
	return e, nil
}

// Disconnect releases nothing: HTTP connections are pooled per config.
func (e *external) Disconnect(_ context.Context) error { return nil }
