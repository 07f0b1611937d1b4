package authentiksim

import (
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errNoUserName   = "a fixture user needs a name"
	errUnknownGroup = "no group has the name"
	errUnknownApp   = "no application has the slug"
	errUnknownUser  = "no fixture user has the name"
)

// A user is a User row (authentik/core/models.py), served over the API
// (users.go) and used for Authentik's access decision. Tests also set
// users as fixtures with SetUser or PUT /_sim/users/{name}.
type user struct {
	pk   int32
	uuid string
	// name is the username, unique.
	name        string
	displayName string
	email       string
	isActive    bool
	path        string
	userType    string
	attributes  map[string]any
	// groups are the pks of the groups the user is a direct member of. A
	// deleted group's memberships go with it (the many-to-many rows of
	// Group.users in authentik/core/models.py cascade).
	groups []string
}

// allGroups is User.all_groups (authentik/core/models.py): the user's
// direct groups and every ancestor of them, so a binding to a parent group
// admits the members of its children.
func (st *state) allGroups(u *user) map[string]bool {
	out := map[string]bool{}
	todo := append([]string(nil), u.groups...)
	for len(todo) > 0 {
		pk := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		g := st.groups[pk]
		if g == nil || out[pk] {
			continue
		}
		out[pk] = true
		todo = append(todo, g.parents...)
	}
	return out
}

// admits is Authentik's access decision for one user and one application,
// PolicyEngine in authentik/policies/engine.py:
//   - only enabled bindings of the application count (_bindings_for); with
//     none, everyone passes (empty_result is True);
//   - group and user bindings are "static" (compute_static_bindings): each
//     passes when the user is in the group as all_groups computes it, or is
//     the bound user, inverted when the binding negates; together they give
//     one result: in mode any at least one passes, in mode all every one;
//   - a binding to a policy is one result of its own, the policy's verdict
//     inverted by negate (PolicyProcess.execute in
//     authentik/policies/process.py); every such binding is evaluated
//     (_evaluate_dynamic_bindings), none is skipped;
//   - the results combine by the application's policy_engine_mode
//     (_combine_results; PolicyEngineMode in authentik/policies/models.py).
//
// order only decides the order of evaluation, never the outcome. A policy
// is evaluated as expression.go says; one the simulator cannot evaluate
// makes the decision an error (a *PolicyError), not a guess: Authentik
// would give the binding's failure_result only if the policy raised, and
// the simulator cannot tell whether it would. User bindings never match:
// the API refuses every user pk.
func (st *state) admits(app *application, u *user) (bool, error) {
	var bindings []*binding
	for _, pk := range sortedKeys(st.bindings) {
		if b := st.bindings[pk]; b.target == app.pk && b.enabled {
			bindings = append(bindings, b)
		}
	}
	if len(bindings) == 0 {
		return true, nil
	}
	member := st.allGroups(u)
	var results []bool
	static, passing := 0, 0
	for _, b := range bindings {
		switch {
		case b.policy != nil:
			ok, err := st.passes(st.policies[*b.policy], member)
			if err != nil {
				return false, err
			}
			results = append(results, ok != b.negate)
		case b.group != nil || b.user != nil:
			static++
			matches := b.group != nil && member[*b.group]
			if matches != b.negate {
				passing++
			}
		}
	}
	if static > 0 {
		if app.engineMode == engineModeAll {
			results = append(results, passing == static)
		} else {
			results = append(results, passing > 0)
		}
	}
	if len(results) == 0 {
		// Bindings with neither a policy, a group nor a user cannot be
		// made through the API; Authentik would count none of them.
		return true, nil
	}
	if app.engineMode == engineModeAll {
		return !slices.Contains(results, false), nil
	}
	return slices.Contains(results, true), nil
}

// A PolicyError says that an access decision needs the verdict of a policy
// whose expression the simulator cannot evaluate.
type PolicyError struct {
	Policy     string
	PolicyName string
	Expression string
	Reason     string
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("%s policy %q (%s): its expression %q has %s", errCannotEvaluate, e.PolicyName, e.Policy, e.Expression, e.Reason)
}

// passes is the verdict of policy p for a user in the groups member (pks,
// with their ancestors), before the binding's negate.
func (st *state) passes(p *policy, member map[string]bool) (bool, error) {
	e, err := parseExpression(p.expression)
	if err != nil {
		return false, &PolicyError{Policy: p.pk, PolicyName: p.name, Expression: p.expression, Reason: err.Error()}
	}
	names := map[string]bool{}
	for pk := range member {
		names[st.groups[pk].name] = true
	}
	return e.evaluate(names), nil
}

// served lists the providers outposts serve (outpostServes), each once.
func (st *state) served() []servedProvider {
	var out []servedProvider
	seen := map[int32]bool{}
	for _, opk := range sortedKeys(st.outposts) {
		for _, ppk := range st.outposts[opk].providers {
			name, app, ok := st.outpostServes(st.outposts[opk], ppk)
			if !ok || seen[ppk] {
				continue
			}
			seen[ppk] = true
			out = append(out, servedProvider{pk: ppk, name: name, app: app})
		}
	}
	return out
}

// outpostServes tells whether outpost o serves the provider pk on its list,
// with the provider's name and application: an outpost fetches only the
// providers of its type that belong to an application
// (ProxyOutpostConfigViewSet in authentik/providers/proxy/api.py and
// LDAPOutpostConfigViewSet in authentik/providers/ldap/api.py filter
// application__isnull=False).
func (st *state) outpostServes(o *outpost, pk int32) (string, *application, bool) {
	view, class, ok := st.providerView(pk)
	app := st.applicationOf(pk)
	if !ok || app == nil || class != outpostClasses[o.kind] {
		return "", nil, false
	}
	return view.Name, app, true
}

type servedProvider struct {
	pk   int32
	name string
	app  *application
}

// An Exposure records that a provider was served (a proxy or LDAP provider
// by an outpost, an OAuth2 provider by its application) while its application
// admitted a fixture user, after at least one accepted write.
type Exposure struct {
	Provider     int32  `json:"provider"`
	ProviderName string `json:"provider_name"`
	Application  string `json:"application"`
	User         string `json:"user"`
	// FirstWrite and LastWrite number the accepted writes after which the
	// exposure held (counting from 1); Writes is after how many it held.
	FirstWrite int `json:"first_write"`
	LastWrite  int `json:"last_write"`
	Writes     int `json:"writes"`
}

type exposureKey struct {
	provider int32
	name     string
	app      string
	user     string
}

// recordWrite evaluates the invariant after an accepted write: for every
// served provider, which fixture users its application admits; and which
// outposts serve which providers (service.go).
//
// An OAuth2 provider needs no outpost: it logs users in as soon as it
// belongs to an application, and never without one. The authorize view
// finds the application through the provider (resolve_provider_application
// in authentik/providers/oauth2/views/authorize.py), and PolicyAccessView.
// dispatch (authentik/policies/views.py) refuses everyone when there is none.
func (st *state) recordWrite() {
	st.writes++
	st.recordService()
	for _, s := range st.served() {
		st.recordExposures(s.pk, s.name, s.app)
	}
	for _, pk := range sortedKeys(st.oauth2) {
		if app := st.applicationOf(pk); app != nil {
			st.recordExposures(pk, st.oauth2[pk].name, app)
		}
	}
	// SAML's SSO views are PolicyAccessViews found by the application's
	// slug (authentik/providers/saml/views/sso.py): the same as OAuth2.
	for _, pk := range sortedKeys(st.saml) {
		if app := st.applicationOf(pk); app != nil {
			st.recordExposures(pk, st.saml[pk].name, app)
		}
	}
}

// recordExposures records which fixture users app admits while it serves
// the provider.
func (st *state) recordExposures(provider int32, providerName string, app *application) {
	for _, name := range sortedKeys(st.users) {
		ok, err := st.admits(app, st.users[name])
		if err != nil {
			st.recordAccessError(provider, providerName, app, name, err)
			continue
		}
		if !ok {
			continue
		}
		k := exposureKey{provider: provider, name: providerName, app: app.slug, user: name}
		e, ok := st.exposures[k]
		if !ok {
			e = &Exposure{Provider: k.provider, ProviderName: k.name, Application: k.app, User: k.user, FirstWrite: st.writes}
			st.exposures[k] = e
		}
		e.LastWrite = st.writes
		e.Writes++
	}
}

// SetUser makes (or replaces) the fixture user name, a direct member of the
// groups with the given names, and evaluates the invariant as after any
// write.
func (s *Server) SetUser(name string, groups ...string) error {
	if name == "" {
		return errors.New(errNoUserName)
	}
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	st := s.state
	u := st.users[name]
	if u == nil {
		u = st.newUser()
		u.name = name
	}
	u.groups = []string{}
	for _, gname := range groups {
		pk := ""
		for _, g := range st.groups {
			if g.name == gname {
				pk = g.pk
			}
		}
		if pk == "" {
			return errors.Errorf("%s %q", errUnknownGroup, gname)
		}
		u.groups = append(u.groups, pk)
	}
	st.storeUser(u)
	st.recordWrite()
	return nil
}

// DeleteUser removes a fixture user; a missing one is no error.
func (s *Server) DeleteUser(name string) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	delete(s.state.users, name)
	s.state.recordWrite()
}

// A UserFixture is a fixture user as the control endpoint shows it.
type UserFixture struct {
	Name   string   `json:"name"`
	Groups []string `json:"groups"`
}

// Users lists the fixture users with the names of their direct groups.
func (s *Server) Users() []UserFixture {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	st := s.state
	out := []UserFixture{}
	for _, name := range sortedKeys(st.users) {
		f := UserFixture{Name: name, Groups: []string{}}
		for _, pk := range st.users[name].groups {
			f.Groups = append(f.Groups, st.groups[pk].name)
		}
		sort.Strings(f.Groups)
		out = append(out, f)
	}
	return out
}

// Admits is Authentik's decision whether the fixture user may open the
// application with the given slug, now.
func (s *Server) Admits(slug, userName string) (bool, error) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	st := s.state
	app := st.applicationBySlug(slug)
	if app == nil {
		return false, errors.Errorf("%s %q", errUnknownApp, slug)
	}
	u := st.users[userName]
	if u == nil {
		return false, errors.Errorf("%s %q", errUnknownUser, userName)
	}
	return st.admits(app, u)
}

// Exposures answers "was provider P ever served while user U was
// admitted?": every recorded exposure of the provider (its name or its pk)
// to the user. Empty provider or user match all.
func (s *Server) Exposures(provider, userName string) []Exposure {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	out := []Exposure{}
	for k, e := range s.state.exposures {
		if provider != "" && provider != k.name && provider != strconv.Itoa(int(k.provider)) {
			continue
		}
		if userName != "" && userName != k.user {
			continue
		}
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].FirstWrite != out[j].FirstWrite {
			return out[i].FirstWrite < out[j].FirstWrite
		}
		if out[i].ProviderName != out[j].ProviderName {
			return out[i].ProviderName < out[j].ProviderName
		}
		return out[i].User < out[j].User
	})
	return out
}

// Writes is how many writes the simulator has accepted, each followed by
// an evaluation of the invariant.
func (s *Server) Writes() int {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return s.state.writes
}

// An AccessError records that the simulator could not decide whether a
// served provider's application admitted a fixture user, after at least
// one accepted write: a policy bound to the application has an expression
// the simulator cannot evaluate. Such a decision is neither an exposure
// nor its absence, so the invariant cannot be answered while one exists.
type AccessError struct {
	Provider     int32  `json:"provider"`
	ProviderName string `json:"provider_name"`
	Application  string `json:"application"`
	User         string `json:"user"`
	Policy       string `json:"policy"`
	PolicyName   string `json:"policy_name"`
	Expression   string `json:"expression"`
	Error        string `json:"error"`
	// FirstWrite, LastWrite and Writes count as an Exposure's do.
	FirstWrite int `json:"first_write"`
	LastWrite  int `json:"last_write"`
	Writes     int `json:"writes"`
}

type accessErrorKey struct {
	exposureKey
	policy, expression string
}

func (st *state) recordAccessError(provider int32, providerName string, app *application, userName string, err error) {
	var pe *PolicyError
	if !errors.As(err, &pe) {
		pe = &PolicyError{Reason: err.Error()}
	}
	k := accessErrorKey{
		exposureKey: exposureKey{provider: provider, name: providerName, app: app.slug, user: userName},
		policy:      pe.Policy, expression: pe.Expression,
	}
	e, ok := st.accessErrors[k]
	if !ok {
		e = &AccessError{
			Provider: provider, ProviderName: providerName, Application: app.slug, User: userName,
			Policy: pe.Policy, PolicyName: pe.PolicyName, Expression: pe.Expression, Error: err.Error(),
			FirstWrite: st.writes,
		}
		st.accessErrors[k] = e
	}
	e.LastWrite = st.writes
	e.Writes++
}

// AccessErrors lists every recorded access decision the simulator could
// not make for the provider (its name or its pk) and the user; empty
// provider or user match all.
func (s *Server) AccessErrors(provider, userName string) []AccessError {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	out := []AccessError{}
	for k, e := range s.state.accessErrors {
		if provider != "" && provider != k.name && provider != strconv.Itoa(int(k.provider)) {
			continue
		}
		if userName != "" && userName != k.user {
			continue
		}
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].FirstWrite != out[j].FirstWrite {
			return out[i].FirstWrite < out[j].FirstWrite
		}
		if out[i].ProviderName != out[j].ProviderName {
			return out[i].ProviderName < out[j].ProviderName
		}
		if out[i].User != out[j].User {
			return out[i].User < out[j].User
		}
		return out[i].Policy < out[j].Policy
	})
	return out
}
