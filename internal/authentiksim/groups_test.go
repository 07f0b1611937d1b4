package authentiksim

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
)

func TestGroupCreateUpdate(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		call   func(t *testing.T, e *env, existing *api.Group) (*api.Group, *http.Response, error)
		want   outcome
	}{
		"Create": {
			reason: "A group needs only a name.",
			call: func(_ *testing.T, e *env, _ *api.Group) (*api.Group, *http.Response, error) {
				return e.c.CoreAPI.CoreGroupsCreate(e.ctx).GroupRequest(*api.NewGroupRequest("new")).Execute()
			},
			want: outcome{Status: http.StatusCreated},
		},
		"DuplicateName": {
			reason: "Group names are unique.",
			call: func(_ *testing.T, e *env, _ *api.Group) (*api.Group, *http.Response, error) {
				return e.c.CoreAPI.CoreGroupsCreate(e.ctx).GroupRequest(*api.NewGroupRequest("existing")).Execute()
			},
			want: fieldError("name", "Group with this name already exists."),
		},
		"PatchRename": {
			reason: "A PATCH renames a group.",
			call: func(_ *testing.T, e *env, g *api.Group) (*api.Group, *http.Response, error) {
				p := api.NewPatchedGroupRequest()
				p.SetName("renamed")
				return e.c.CoreAPI.CoreGroupsPartialUpdate(e.ctx, g.Pk).PatchedGroupRequest(*p).Execute()
			},
			want: outcome{Status: http.StatusOK},
		},
		"PutWithParent": {
			reason: "Parents must be existing groups.",
			call: func(t *testing.T, e *env, g *api.Group) (*api.Group, *http.Response, error) {
				parent := e.createGroup(t, "parent")
				r := api.NewGroupRequest("existing")
				r.SetParents([]string{parent.Pk})
				return e.c.CoreAPI.CoreGroupsUpdate(e.ctx, g.Pk).GroupRequest(*r).Execute()
			},
			want: outcome{Status: http.StatusOK},
		},
		"UnknownUser": {
			reason: "Users are not simulated, so any member is a missing object.",
			call: func(_ *testing.T, e *env, _ *api.Group) (*api.Group, *http.Response, error) {
				r := api.NewGroupRequest("new")
				r.SetUsers([]int32{7})
				return e.c.CoreAPI.CoreGroupsCreate(e.ctx).GroupRequest(*r).Execute()
			},
			want: fieldError("users", `Invalid pk "7" - object does not exist.`),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			existing := e.createGroup(t, "existing")
			_, resp, err := tc.call(t, e, existing)
			if diff := cmp.Diff(tc.want, outcomeOf(t, resp, err)); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestGroupRetrieveAndDestroy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	parent := e.createGroup(t, "parent")
	r := api.NewGroupRequest("child")
	r.SetParents([]string{parent.Pk})
	child, _, err := e.c.CoreAPI.CoreGroupsCreate(e.ctx).GroupRequest(*r).Execute()
	if err != nil {
		t.Fatalf("create child: %v", err)
	}
	app := e.createApplication(t, "app", nil)
	binding := e.bindGroup(t, app.Pk, parent.Pk, 0)

	got, _, err := e.c.CoreAPI.CoreGroupsRetrieve(e.ctx, parent.Pk).IncludeChildren(true).Execute()
	if err != nil {
		t.Fatalf("retrieve: %v", err)
	}
	if diff := cmp.Diff([]string{child.Pk}, got.Children); diff != "" {
		t.Errorf("children: -want, +got:\n%s", diff)
	}
	if got.ChildrenObj == nil || len(got.ChildrenObj) != 1 || got.ChildrenObj[0].Name != "child" {
		t.Errorf("children_obj with include_children: %v", got.ChildrenObj)
	}
	l, _, err := e.c.CoreAPI.CoreGroupsList(e.ctx).Name("child").Execute()
	if err != nil || len(l.Results) != 1 {
		t.Fatalf("list by name: %v", err)
	}

	if _, err := e.c.CoreAPI.CoreGroupsDestroy(e.ctx, parent.Pk).Execute(); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	_, resp, err := e.c.PoliciesAPI.PoliciesBindingsRetrieve(e.ctx, binding.Pk).Execute()
	if diff := cmp.Diff(detailError(http.StatusNotFound, "Not found."), outcomeOf(t, resp, err)); diff != "" {
		t.Errorf("a deleted group's bindings go with it, opening the application: -want, +got:\n%s", diff)
	}
	c, _, err := e.c.CoreAPI.CoreGroupsRetrieve(e.ctx, child.Pk).Execute()
	if err != nil {
		t.Fatalf("retrieve child: %v", err)
	}
	if diff := cmp.Diff([]string{}, c.Parents); diff != "" {
		t.Errorf("the child loses its deleted parent: -want, +got:\n%s", diff)
	}
}
