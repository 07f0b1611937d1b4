package authentiksim

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

type relatedGroupJSON struct {
	PK          string         `json:"pk"`
	Name        string         `json:"name"`
	IsSuperuser bool           `json:"is_superuser"`
	Attributes  map[string]any `json:"attributes"`
	GroupUUID   string         `json:"group_uuid"`
}

type partialGroupJSON struct {
	PK          string         `json:"pk"`
	NumPK       int64          `json:"num_pk"`
	Name        string         `json:"name"`
	IsSuperuser bool           `json:"is_superuser"`
	Attributes  map[string]any `json:"attributes"`
}

type groupJSON struct {
	PK                string              `json:"pk"`
	NumPK             int64               `json:"num_pk"`
	Name              string              `json:"name"`
	IsSuperuser       bool                `json:"is_superuser"`
	Parents           []string            `json:"parents"`
	ParentsObj        *[]relatedGroupJSON `json:"parents_obj"`
	Users             []int32             `json:"users"`
	UsersObj          *[]struct{}         `json:"users_obj"`
	Attributes        map[string]any      `json:"attributes"`
	Roles             []string            `json:"roles"`
	RolesObj          []struct{}          `json:"roles_obj"`
	InheritedRolesObj *[]struct{}         `json:"inherited_roles_obj"`
	Children          []string            `json:"children"`
	ChildrenObj       *[]relatedGroupJSON `json:"children_obj"`
}

// groupIncludes are the include_* query parameters of the group endpoints;
// the related objects are null unless asked for, and users are included by
// default (defaults from the schema).
type groupIncludes struct {
	users, parents, children, inheritedRoles bool
}

func includesFrom(c *call) groupIncludes {
	in := groupIncludes{users: true}
	if v, set := boolParam(c.query, "include_users"); set {
		in.users = v
	}
	in.parents, _ = boolParam(c.query, "include_parents")
	in.children, _ = boolParam(c.query, "include_children")
	in.inheritedRoles, _ = boolParam(c.query, "include_inherited_roles")
	return in
}

func (st *state) related(pks []string) []relatedGroupJSON {
	out := []relatedGroupJSON{}
	for _, pk := range pks {
		g := st.groups[pk]
		out = append(out, relatedGroupJSON{PK: g.pk, Name: g.name, IsSuperuser: g.isSuperuser, Attributes: g.attributes, GroupUUID: g.pk})
	}
	return out
}

func (st *state) childrenOf(pk string) []string {
	out := []string{}
	for _, cpk := range sortedKeys(st.groups) {
		if slices.Contains(st.groups[cpk].parents, pk) {
			out = append(out, cpk)
		}
	}
	return out
}

func (st *state) renderGroup(g *group, in groupIncludes) groupJSON {
	out := groupJSON{
		PK:          g.pk,
		NumPK:       numPK(g.pk),
		Name:        g.name,
		IsSuperuser: g.isSuperuser,
		Parents:     append([]string{}, g.parents...),
		// Roles are not simulated: every group has none.
		Users:      st.membersOf(g.pk),
		Attributes: g.attributes,
		Roles:      []string{},
		RolesObj:   []struct{}{},
		Children:   st.childrenOf(g.pk),
	}
	if in.users {
		out.UsersObj = &[]struct{}{}
	}
	if in.inheritedRoles {
		out.InheritedRolesObj = &[]struct{}{}
	}
	if in.parents {
		p := st.related(g.parents)
		out.ParentsObj = &p
	}
	if in.children {
		c := st.related(out.Children)
		out.ChildrenObj = &c
	}
	return out
}

func (st *state) renderPartialGroup(g *group) partialGroupJSON {
	return partialGroupJSON{PK: g.pk, NumPK: numPK(g.pk), Name: g.name, IsSuperuser: g.isSuperuser, Attributes: g.attributes}
}

func (st *state) groupNameTaken(name, self string) bool {
	for _, g := range st.groups {
		if g.name == name && g.pk != self {
			return true
		}
	}
	return false
}

// bindGroup applies and validates the body's fields as GroupSerializer
// does. Group names are unique since groups can have several parents.
// users has default=list (GroupSerializer's extra_kwargs): a PUT without it
// removes every member, a PATCH without it keeps them; with it the members
// become exactly those users. The members to set are returned, to apply
// once the whole body is valid.
func (st *state) bindGroup(f *form, g *group) (members []int32, setMembers bool) {
	if v, ok := f.str("name", true, false); ok {
		if st.groupNameTaken(v, g.pk) {
			f.errs.add("name", fmt.Sprintf(msgUnique, "Group", "name"))
		} else {
			g.name = v
		}
	}
	if v, ok := f.boolean("is_superuser"); ok {
		g.isSuperuser = v
	}
	if v, ok := f.uuidRefs("parents", false, func(pk string) bool { return st.groups[pk] != nil && pk != g.pk }); ok {
		g.parents = v
	}
	if v, ok := f.intRefs("users", false, func(pk int32) bool { return st.userByPK(pk) != nil }); ok {
		members, setMembers = v, true
	} else if !f.has("users") && !f.partial {
		members, setMembers = []int32{}, true
	}
	// Roles are not simulated: any reference is to a missing object.
	f.uuidRefs("roles", false, func(string) bool { return false })
	if v, ok := f.object("attributes", false); ok {
		g.attributes = v
	}
	return members, setMembers
}

// setMembers makes the users with the given pks the group's only members,
// as assigning Group.users does.
func (st *state) setMembers(groupPK string, members []int32) {
	for _, u := range st.users {
		in := slices.Contains(members, u.pk)
		has := slices.Contains(u.groups, groupPK)
		switch {
		case in && !has:
			u.groups = append(u.groups, groupPK)
		case !in && has:
			u.groups = slices.DeleteFunc(u.groups, func(pk string) bool { return pk == groupPK })
		}
	}
}

func (st *state) groupFromPath(c *call) *group {
	return st.groups[strings.ToLower(c.params["group_uuid"])]
}

func listGroups(st *state, c *call) reply {
	q := c.query
	in := includesFrom(c)
	items := []groupJSON{}
	for _, pk := range sortedKeys(st.groups) {
		g := st.groups[pk]
		if !exact(q, "name", g.name) || !boolMatches(q, "is_superuser", g.isSuperuser) ||
			!st.hasMembers(q, g.pk) || !search(q, g.name) {
			continue
		}
		items = append(items, st.renderGroup(g, in))
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return paginate(q, items)
}

func retrieveGroup(st *state, c *call) reply {
	g := st.groupFromPath(c)
	if g == nil {
		return notFound()
	}
	return reply{status: http.StatusOK, body: st.renderGroup(g, includesFrom(c))}
}

func createGroup(st *state, c *call) reply {
	f, bad := parseForm(c.body, false)
	if bad != nil {
		return *bad
	}
	g := &group{pk: st.newUUID(), parents: []string{}, attributes: map[string]any{}}
	members, set := st.bindGroup(f, g)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	st.groups[g.pk] = g
	if set {
		st.setMembers(g.pk, members)
	}
	return reply{status: http.StatusCreated, body: st.renderGroup(g, groupIncludes{users: true})}
}

func updateGroup(st *state, c *call) reply {
	stored := st.groupFromPath(c)
	if stored == nil {
		return notFound()
	}
	f, bad := parseForm(c.body, c.partial)
	if bad != nil {
		return *bad
	}
	g := *stored
	members, set := st.bindGroup(f, &g)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	*stored = g
	if set {
		st.setMembers(g.pk, members)
	}
	return reply{status: http.StatusOK, body: st.renderGroup(stored, groupIncludes{users: true})}
}

func destroyGroup(st *state, c *call) reply {
	g := st.groupFromPath(c)
	if g == nil {
		return notFound()
	}
	st.deleteGroup(g.pk)
	return reply{status: http.StatusNoContent}
}

// hasMembers is GroupFilter's members_by_pk and members_by_username: the
// group has at least one of the users named.
func (st *state) hasMembers(q url.Values, groupPK string) bool {
	pks, byPK := q["members_by_pk"]
	names, byName := q["members_by_username"]
	if !byPK && !byName {
		return true
	}
	for _, name := range sortedKeys(st.users) {
		u := st.users[name]
		if slices.Contains(u.groups, groupPK) && (slices.Contains(pks, strconv.Itoa(int(u.pk))) || slices.Contains(names, u.name)) {
			return true
		}
	}
	return false
}
