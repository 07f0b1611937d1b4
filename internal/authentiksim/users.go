package authentiksim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// User types (UserTypes in authentik/core/models.py); every line 2024.12 to
// 2026.8 has the same four.
const (
	userTypeInternal               = "internal"
	userTypeExternal               = "external"
	userTypeServiceAccount         = "service_account"
	userTypeInternalServiceAccount = "internal_service_account"
)

// Constants of authentik/core/models.py: the default user path, the path
// and attribute service accounts get, and the token intent of their token.
const (
	defaultUserPath        = "users"
	serviceAccountPath     = "goauthentik.io/service-accounts"
	attributeTokenExpiring = "goauthentik.io/user/token-expires" //nolint:gosec // An attribute's name, not a credential.
	intentAppPassword      = "app_password"
	// The messages of UserSerializer.validate_path and validate_type, and
	// DRF's UniqueValidator, EmailField and max_length.
	msgPathSlashes        = "No leading or trailing slashes allowed."
	msgPathEmptySegment   = "No empty segments in user path allowed."
	msgTypeInternalSA     = "Setting a user to internal service account is not allowed."
	msgTypeFromInternalSA = "Can't change internal service account to other user type."
	msgUniqueField        = "This field must be unique."
	msgBadEmail           = "Enter a valid email address."
	msgTooLong            = "Ensure this field has no more than %d characters."
	usernameMaxLength     = 150
	tokenKeyLength        = 128
	serviceAccountTimeISO = "2026-12-07T00:00:00Z"
)

type userJSON struct {
	PK                 int32               `json:"pk"`
	Username           string              `json:"username"`
	Name               string              `json:"name"`
	IsActive           bool                `json:"is_active"`
	LastLogin          *string             `json:"last_login"`
	DateJoined         string              `json:"date_joined"`
	IsSuperuser        bool                `json:"is_superuser"`
	Groups             []string            `json:"groups"`
	GroupsObj          *[]partialGroupJSON `json:"groups_obj"`
	Roles              []string            `json:"roles"`
	RolesObj           *[]struct{}         `json:"roles_obj"`
	Email              string              `json:"email"`
	Avatar             string              `json:"avatar"`
	Attributes         map[string]any      `json:"attributes"`
	UID                string              `json:"uid"`
	Path               string              `json:"path"`
	Type               string              `json:"type"`
	UUID               string              `json:"uuid"`
	PasswordChangeDate string              `json:"password_change_date"`
	LastUpdated        string              `json:"last_updated"`
}

// apiToken is a Token row (authentik/core/models.py) of a service account.
type apiToken struct {
	pk         string
	identifier string
	key        string
	user       int32
	intent     string
	expiring   bool
}

// renderUser is UserSerializer (authentik/core/api/users.py): groups are the
// direct groups; is_superuser is User.is_superuser, true when any of the
// user's groups (with their ancestors) is a superuser group; uid is the
// hash of the pk with the install id.
func (st *state) renderUser(u *user, includeGroups bool) userJSON {
	out := userJSON{
		PK: u.pk, Username: u.name, Name: u.displayName, IsActive: u.isActive,
		DateJoined: serviceAccountTimeISO, Groups: append([]string{}, u.groups...), Roles: []string{},
		Email: u.email, Avatar: "/static/dist/assets/images/user_default.png", Attributes: u.attributes,
		Path: u.path, Type: u.userType, UUID: u.uuid, PasswordChangeDate: serviceAccountTimeISO, LastUpdated: serviceAccountTimeISO,
	}
	sum := sha256.Sum256([]byte(strconv.Itoa(int(u.pk)) + "-simulated-install"))
	out.UID = hex.EncodeToString(sum[:])
	for pk := range st.allGroups(u) {
		if st.groups[pk].isSuperuser {
			out.IsSuperuser = true
		}
	}
	if includeGroups {
		groups := []partialGroupJSON{}
		for _, pk := range u.groups {
			groups = append(groups, st.renderPartialGroup(st.groups[pk]))
		}
		out.GroupsObj = &groups
	}
	return out
}

// emailPattern approximates Django's EmailValidator: a local part, an @
// and a domain with a dot, or localhost.
var emailPattern = regexp.MustCompile(`^[^@\s<>]+@(localhost|([^@\s<>.]+\.)+[^@\s<>.]+)$`)

var slugSeparators = regexp.MustCompile(`[-\s]+`)

func (st *state) userByPK(pk int32) *user {
	for _, u := range st.users {
		if u.pk == pk {
			return u
		}
	}
	return nil
}

// bindUser applies and validates the body's fields as UserSerializer does.
// groups has default=list: a PUT without it removes the user from every
// group, a PATCH without it keeps them (DRF applies defaults only to full
// updates). The password is never a field of the API.
func (st *state) bindUser(f *form, u *user, creating bool) {
	if v, ok := f.str("username", true, false); ok {
		switch {
		case len([]rune(v)) > usernameMaxLength:
			f.errs.add("username", fmt.Sprintf(msgTooLong, usernameMaxLength))
		case st.usernameTaken(v, u.pk):
			f.errs.add("username", msgUniqueField)
		default:
			u.name = v
		}
	}
	if v, ok := f.str("name", true, true); ok {
		u.displayName = v
	}
	if v, ok := f.boolean("is_active"); ok {
		u.isActive = v
	}
	if v, ok := f.str("email", false, true); ok {
		if v != "" && !emailPattern.MatchString(v) {
			f.errs.add("email", msgBadEmail)
		} else {
			u.email = v
		}
	}
	if v, ok := f.object("attributes", false); ok {
		u.attributes = v
	}
	if v, ok := f.str("path", false, false); ok {
		switch {
		case strings.HasPrefix(v, "/") || strings.HasSuffix(v, "/"):
			f.errs.add("path", msgPathSlashes)
		case slices.Contains(strings.Split(v, "/"), ""):
			f.errs.add("path", msgPathEmptySegment)
		default:
			u.path = v
		}
	}
	if v, ok := f.choice("type", userTypeInternal, userTypeExternal, userTypeServiceAccount, userTypeInternalServiceAccount); ok {
		switch {
		case creating && v == userTypeInternalServiceAccount:
			f.errs.add("type", msgTypeInternalSA)
		case !creating && u.userType == userTypeInternalServiceAccount && v != userTypeInternalServiceAccount:
			f.errs.add("type", msgTypeFromInternalSA)
		default:
			u.userType = v
		}
	}
	if v, ok := formList[string](f, "groups", false); ok {
		groups := []string{}
		for _, pk := range v {
			pk = strings.ToLower(pk)
			if st.groups[pk] == nil {
				f.errs.add("groups", fmt.Sprintf(msgNoObject, pk))
				return
			}
			groups = append(groups, pk)
		}
		u.groups = groups
	} else if !f.has("groups") && !f.partial {
		u.groups = []string{}
	}
}

func (st *state) usernameTaken(name string, self int32) bool {
	u := st.users[name]
	return u != nil && u.pk != self
}

// newUser is a User row with the model's defaults (authentik/core/models.py).
func (st *state) newUser() *user {
	st.nextUser++
	return &user{pk: st.nextUser, uuid: st.newUUID(), isActive: true, path: defaultUserPath, userType: userTypeInternal, attributes: map[string]any{}, groups: []string{}}
}

// storeUser keeps u under its username, the key usernames are unique by.
func (st *state) storeUser(u *user) {
	for name, other := range st.users {
		if other.pk == u.pk {
			delete(st.users, name)
		}
	}
	st.users[u.name] = u
}

func (st *state) userFromPath(c *call) *user {
	pk, err := strconv.ParseInt(c.params["id"], 10, 32)
	if err != nil {
		return nil
	}
	return st.userByPK(int32(pk))
}

func includeGroups(c *call) bool {
	v, set := boolParam(c.query, "include_groups")
	return v || !set
}

// listUsers filters as UsersFilter does (username, name, email, is_active,
// path, path_startswith, type, uuid, groups_by_pk, groups_by_name; search on
// username, name, email and uuid), ordered by username. The anonymous user
// Authentik hides from the list is not simulated.
func listUsers(st *state, c *call) reply {
	q := c.query
	items := []userJSON{}
	for _, name := range sortedKeys(st.users) {
		u := st.users[name]
		if !exact(q, "username", u.name) || !exact(q, "name", u.displayName) || !exact(q, "email", u.email) ||
			!exact(q, "path", u.path) || !exact(q, "uuid", u.uuid) || !boolMatches(q, "is_active", u.isActive) ||
			!strings.HasPrefix(u.path, q.Get("path_startswith")) || !search(q, u.name, u.displayName, u.email, u.uuid) {
			continue
		}
		if types, ok := q["type"]; ok && !slices.Contains(types, u.userType) {
			continue
		}
		if pks, ok := q["groups_by_pk"]; ok && !slices.ContainsFunc(pks, func(pk string) bool { return slices.Contains(u.groups, strings.ToLower(pk)) }) {
			continue
		}
		if names, ok := q["groups_by_name"]; ok && !slices.ContainsFunc(u.groups, func(pk string) bool { return slices.Contains(names, st.groups[pk].name) }) {
			continue
		}
		items = append(items, st.renderUser(u, includeGroups(c)))
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Username < items[j].Username })
	return paginate(q, items)
}

func retrieveUser(st *state, c *call) reply {
	u := st.userFromPath(c)
	if u == nil {
		return notFound()
	}
	return reply{status: http.StatusOK, body: st.renderUser(u, includeGroups(c))}
}

func createUser(st *state, c *call) reply {
	f, bad := parseForm(c.body, false)
	if bad != nil {
		return *bad
	}
	u := st.newUser()
	st.bindUser(f, u, true)
	if len(f.errs) > 0 {
		st.nextUser--
		return invalid(f.errs)
	}
	st.storeUser(u)
	return reply{status: http.StatusCreated, body: st.renderUser(u, true)}
}

func updateUser(st *state, c *call) reply {
	stored := st.userFromPath(c)
	if stored == nil {
		return notFound()
	}
	f, bad := parseForm(c.body, c.partial)
	if bad != nil {
		return *bad
	}
	u := *stored
	u.groups = slices.Clone(stored.groups)
	st.bindUser(f, &u, false)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	*stored = u
	st.storeUser(stored)
	return reply{status: http.StatusOK, body: st.renderUser(stored, true)}
}

// destroyUser deletes the user with what cascades from it: its tokens
// (Token.user on_delete=CASCADE), its memberships (the rows of the
// many-to-many Group.users) and the policy bindings to it
// (PolicyBinding.user on_delete=CASCADE).
func destroyUser(st *state, c *call) reply {
	u := st.userFromPath(c)
	if u == nil {
		return notFound()
	}
	delete(st.users, u.name)
	for id, t := range st.tokens {
		if t.user == u.pk {
			delete(st.tokens, id)
		}
	}
	st.deleteBindingsWhere(func(b *binding) bool { return b.user != nil && *b.user == u.pk })
	return reply{status: http.StatusNoContent}
}

type serviceAccountJSON struct {
	Username string  `json:"username"`
	Token    string  `json:"token"`
	UserUID  string  `json:"user_uid"`
	UserPK   int32   `json:"user_pk"`
	GroupPK  *string `json:"group_pk,omitempty"`
}

// createServiceAccount is UserViewSet.service_account: name is the
// username (and display name) of a user of type service_account under the
// service account path, with the token-expiring attribute; its app
// password token is named service-account-<username>-password (slugified)
// and expires in 360 days unless expiring is false. A taken username or
// token identifier is the database's IntegrityError, answered as a
// non-field error. create_group makes a group of the same name with the
// user in it.
func createServiceAccount(st *state, c *call) reply {
	f, bad := parseForm(c.body, false)
	if bad != nil {
		return *bad
	}
	name, ok := f.str("name", true, false)
	expiring := true
	if v, set := f.boolean("expiring"); set {
		expiring = v
	}
	createGroup, _ := f.boolean("create_group")
	if !ok || len(f.errs) > 0 {
		return invalid(f.errs)
	}
	identifier := slugify("service-account-" + name + "-password")
	if st.users[name] != nil {
		return nonField(fmt.Sprintf(`duplicate key value violates unique constraint "authentik_core_user_username_key" DETAIL: Key (username)=(%s) already exists.`, name))
	}
	if st.tokens[identifier] != nil {
		return nonField(fmt.Sprintf(`duplicate key value violates unique constraint "authentik_core_token_identifier_key" DETAIL: Key (identifier)=(%s) already exists.`, identifier))
	}
	u := st.newUser()
	u.name, u.displayName, u.userType, u.path = name, name, userTypeServiceAccount, serviceAccountPath
	u.attributes = map[string]any{attributeTokenExpiring: expiring}
	st.storeUser(u)
	out := serviceAccountJSON{Username: u.name, UserPK: u.pk}
	out.UserUID = st.renderUser(u, false).UID
	if createGroup && !st.groupNameTaken(name, "") {
		g := &group{pk: st.newUUID(), name: name, parents: []string{}, attributes: map[string]any{}}
		st.groups[g.pk] = g
		u.groups = append(u.groups, g.pk)
		out.GroupPK = &g.pk
	}
	t := &apiToken{pk: st.newUUID(), identifier: identifier, key: st.newSecret(tokenKeyLength), user: u.pk, intent: intentAppPassword, expiring: expiring}
	st.tokens[identifier] = t
	out.Token = t.key
	return reply{status: http.StatusOK, body: out}
}

type tokenJSON struct {
	PK          string   `json:"pk"`
	Managed     *string  `json:"managed"`
	Identifier  string   `json:"identifier"`
	Intent      string   `json:"intent"`
	User        int32    `json:"user"`
	UserObj     userJSON `json:"user_obj"`
	Description string   `json:"description"`
	Expires     *string  `json:"expires"`
	Expiring    bool     `json:"expiring"`
}

func (st *state) renderToken(t *apiToken) tokenJSON {
	out := tokenJSON{PK: t.pk, Identifier: t.identifier, Intent: t.intent, User: t.user, Expiring: t.expiring}
	if u := st.userByPK(t.user); u != nil {
		out.UserObj = st.renderUser(u, true)
	}
	if t.expiring {
		expires := serviceAccountTimeISO
		out.Expires = &expires
	}
	return out
}

// Token intents (TokenIntents in authentik/core/models.py).
var tokenIntents = []string{"verification", "api", "recovery", intentAppPassword}

// createToken is TokenViewSet's create with TokenSerializer: identifier
// required and unique, user optional (the caller's user by default, which
// the simulator does not have, so it must be sent), intent api unless
// given and only api or app_password, expiring true unless given. The
// key is generated (Token.key's default).
func createToken(st *state, c *call) reply {
	f, bad := parseForm(c.body, false)
	if bad != nil {
		return *bad
	}
	t := &apiToken{pk: st.newUUID(), intent: "api", expiring: true}
	if v, ok := f.slug("identifier", true); ok {
		if st.tokens[v] != nil {
			f.errs.add("identifier", fmt.Sprintf(msgUnique, "Token", "identifier"))
		}
		t.identifier = v
	}
	if v, ok := f.intRef("user", false, func(pk int32) bool { return st.userByPK(pk) != nil }); ok && v != nil {
		t.user = *v
	} else if !f.has("user") {
		f.errs.add("user", msgRequired)
	}
	if v, ok := f.choice("intent", tokenIntents...); ok {
		t.intent = v
	}
	if v, ok := f.boolean("expiring"); ok {
		t.expiring = v
	}
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	if t.intent != "api" && t.intent != intentAppPassword {
		return invalid(fieldErrors{"intent": {"Invalid intent " + t.intent}})
	}
	t.key = st.newSecret(tokenKeyLength)
	st.tokens[t.identifier] = t
	return reply{status: http.StatusCreated, body: st.renderToken(t)}
}

// destroyToken deletes a token by its identifier.
func destroyToken(st *state, c *call) reply {
	id := c.params["identifier"]
	if st.tokens[id] == nil {
		return notFound()
	}
	delete(st.tokens, id)
	return reply{status: http.StatusNoContent}
}

// viewTokenKey is TokenViewSet.view_key: the key of a token by its
// identifier, 404 for one that does not exist.
func viewTokenKey(st *state, c *call) reply {
	t := st.tokens[c.params["identifier"]]
	if t == nil {
		return notFound()
	}
	return reply{status: http.StatusOK, body: map[string]string{"key": t.key}}
}

// membershipUser reads UserAccountSerializer's pk from an add_user or
// remove_user body, answering 404 for a user that does not exist as
// GroupViewSet does (Http404).
func (st *state) membershipUser(c *call) (*group, *user, *reply) {
	g := st.groupFromPath(c)
	if g == nil {
		r := notFound()
		return nil, nil, &r
	}
	f, bad := parseForm(c.body, false)
	if bad != nil {
		return nil, nil, bad
	}
	pk, ok := f.integer("pk", true, math.MinInt32, math.MaxInt32)
	if !ok {
		r := invalid(f.errs)
		return nil, nil, &r
	}
	u := st.userByPK(int32(pk)) //nolint:gosec // integer checked the bounds.
	if u == nil {
		r := notFound()
		return nil, nil, &r
	}
	return g, u, nil
}

// addUserToGroup is GroupViewSet.add_user: group.users.add(user), which
// keeps every other member and does nothing for a member.
func addUserToGroup(st *state, c *call) reply {
	g, u, bad := st.membershipUser(c)
	if bad != nil {
		return *bad
	}
	if !slices.Contains(u.groups, g.pk) {
		u.groups = append(u.groups, g.pk)
	}
	return reply{status: http.StatusNoContent}
}

// removeUserFromGroup is GroupViewSet.remove_user: group.users.remove(user),
// which does nothing for a user who is no member.
func removeUserFromGroup(st *state, c *call) reply {
	g, u, bad := st.membershipUser(c)
	if bad != nil {
		return *bad
	}
	u.groups = slices.DeleteFunc(u.groups, func(pk string) bool { return pk == g.pk })
	return reply{status: http.StatusNoContent}
}

// membersOf lists the pks of a group's direct members, for Group.users.
func (st *state) membersOf(groupPK string) []int32 {
	out := []int32{}
	for _, name := range sortedKeys(st.users) {
		if u := st.users[name]; slices.Contains(u.groups, groupPK) {
			out = append(out, u.pk)
		}
	}
	slices.Sort(out)
	return out
}

// slugify is Django's django.utils.text.slugify for ASCII input: lower
// case, characters other than letters, digits, underscores, hyphens and
// spaces dropped, runs of spaces and hyphens made one hyphen, hyphens and
// underscores trimmed from the ends.
func slugify(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || unicode.IsSpace(r)) {
			b.WriteRune(r)
		}
	}
	return strings.Trim(slugSeparators.ReplaceAllString(b.String(), "-"), "-_")
}
