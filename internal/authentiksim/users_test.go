package authentiksim

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	api "goauthentik.io/api/v3"
)

func (e *env) createUser(t *testing.T, username string) *api.User {
	t.Helper()
	u, _, err := e.c.CoreAPI.CoreUsersCreate(e.ctx).UserRequest(*api.NewUserRequest(username, "A person")).Execute()
	if err != nil {
		t.Fatalf("create user %s: %v", username, err)
	}
	return u
}

func (e *env) members(t *testing.T, group string) []int32 {
	t.Helper()
	g, _, err := e.c.CoreAPI.CoreGroupsRetrieve(e.ctx, group).Execute()
	if err != nil {
		t.Fatalf("retrieve group %s: %v", group, err)
	}
	return g.Users
}

func TestUserRules(t *testing.T) {
	t.Parallel()
	type ids struct {
		user  int32
		group string
	}
	cases := map[string]struct {
		reason string
		call   func(e *env, id ids) (*api.User, *http.Response, error)
		want   outcome
		check  func(t *testing.T, e *env, id ids, got *api.User)
	}{
		"CreateDefaults": {
			reason: "A new user is active, internal, under the users path, in no group.",
			call: func(e *env, _ ids) (*api.User, *http.Response, error) {
				return e.c.CoreAPI.CoreUsersCreate(e.ctx).UserRequest(*api.NewUserRequest("bob", "Bob")).Execute()
			},
			want: outcome{Status: http.StatusCreated},
			check: func(t *testing.T, _ *env, _ ids, got *api.User) {
				if got.GetType() != userTypeInternal || got.GetPath() != defaultUserPath || !got.GetIsActive() || len(got.Groups) != 0 || got.IsSuperuser {
					t.Errorf("defaults: type %q path %q active %v groups %v superuser %v", got.GetType(), got.GetPath(), got.GetIsActive(), got.Groups, got.IsSuperuser)
				}
			},
		},
		"DuplicateUsername": {
			reason: "Usernames are unique (UniqueValidator on UserSerializer.username).",
			call: func(e *env, _ ids) (*api.User, *http.Response, error) {
				return e.c.CoreAPI.CoreUsersCreate(e.ctx).UserRequest(*api.NewUserRequest("alice", "Another Alice")).Execute()
			},
			want: fieldError("username", msgUniqueField),
		},
		"InternalServiceAccountRefused": {
			reason: "internal_service_account is Authentik's own type; a create may not set it.",
			call: func(e *env, _ ids) (*api.User, *http.Response, error) {
				r := api.NewUserRequest("robot", "")
				r.SetType(api.USERTYPEENUM_INTERNAL_SERVICE_ACCOUNT)
				return e.c.CoreAPI.CoreUsersCreate(e.ctx).UserRequest(*r).Execute()
			},
			want: fieldError("type", msgTypeInternalSA),
		},
		"PathWithSlashRefused": {
			reason: "A path may not start or end with a slash.",
			call: func(e *env, _ ids) (*api.User, *http.Response, error) {
				r := api.NewUserRequest("carol", "")
				r.SetPath("people/")
				return e.c.CoreAPI.CoreUsersCreate(e.ctx).UserRequest(*r).Execute()
			},
			want: fieldError("path", msgPathSlashes),
		},
		"BadEmailRefused": {
			reason: "email is an EmailField.",
			call: func(e *env, _ ids) (*api.User, *http.Response, error) {
				r := api.NewUserRequest("dave", "")
				r.SetEmail("dave at example")
				return e.c.CoreAPI.CoreUsersCreate(e.ctx).UserRequest(*r).Execute()
			},
			want: fieldError("email", msgBadEmail),
		},
		"PutWithoutGroupsEmptiesThem": {
			reason: "groups defaults to an empty list, so a PUT that leaves it out takes the user out of every group.",
			call: func(e *env, id ids) (*api.User, *http.Response, error) {
				return e.c.CoreAPI.CoreUsersUpdate(e.ctx, id.user).UserRequest(*api.NewUserRequest("alice", "Alice")).Execute()
			},
			want: outcome{Status: http.StatusOK},
			check: func(t *testing.T, e *env, id ids, got *api.User) {
				if len(got.Groups) != 0 || len(e.members(t, id.group)) != 0 {
					t.Errorf("after a PUT without groups: user's groups %v, group's users %v", got.Groups, e.members(t, id.group))
				}
			},
		},
		"PatchKeepsGroups": {
			reason: "A PATCH applies no defaults: the user stays in its groups.",
			call: func(e *env, id ids) (*api.User, *http.Response, error) {
				p := api.NewPatchedUserRequest()
				p.SetName("Alice A.")
				p.SetIsActive(false)
				return e.c.CoreAPI.CoreUsersPartialUpdate(e.ctx, id.user).PatchedUserRequest(*p).Execute()
			},
			want: outcome{Status: http.StatusOK},
			check: func(t *testing.T, e *env, id ids, got *api.User) {
				if diff := cmp.Diff([]string{id.group}, got.Groups); diff != "" || got.Name != "Alice A." || got.GetIsActive() {
					t.Errorf("after a PATCH: name %q active %v groups -want +got:\n%s", got.Name, got.GetIsActive(), diff)
				}
			},
		},
		"RetrieveMissing": {
			reason: "An unknown pk is 404.",
			call: func(e *env, _ ids) (*api.User, *http.Response, error) {
				return e.c.CoreAPI.CoreUsersRetrieve(e.ctx, 999).Execute()
			},
			want: detailError(http.StatusNotFound, "Not found."),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			g := e.createGroup(t, "staff")
			u := e.createUser(t, "alice")
			if _, err := e.c.CoreAPI.CoreGroupsAddUserCreate(e.ctx, g.Pk).UserAccountRequest(*api.NewUserAccountRequest(u.Pk)).Execute(); err != nil {
				t.Fatal(err)
			}
			id := ids{user: u.Pk, group: g.Pk}
			got, resp, err := tc.call(e, id)
			if diff := cmp.Diff(tc.want, outcomeOf(t, resp, err)); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			if tc.check != nil && err == nil {
				tc.check(t, e, id, got)
			}
		})
	}
}

func TestMembership(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		// pk picks the user of the call among alice, bob and an unknown pk.
		pk     func(alice, bob int32) int32
		remove bool
		want   outcome
		// members of the group afterwards, by username.
		members []string
	}{
		"AddKeepsOthers": {
			reason:  "add_user adds one member and keeps the others.",
			pk:      func(_, bob int32) int32 { return bob },
			want:    outcome{Status: http.StatusNoContent},
			members: []string{"alice", "bob"},
		},
		"AddTwiceIsNoChange": {
			reason:  "Adding a member again changes nothing.",
			pk:      func(alice, _ int32) int32 { return alice },
			want:    outcome{Status: http.StatusNoContent},
			members: []string{"alice"},
		},
		"RemoveKeepsOthers": {
			reason:  "remove_user removes one member only.",
			pk:      func(alice, _ int32) int32 { return alice },
			remove:  true,
			want:    outcome{Status: http.StatusNoContent},
			members: []string{},
		},
		"RemoveNonMember": {
			reason:  "Removing a user who is no member changes nothing.",
			pk:      func(_, bob int32) int32 { return bob },
			remove:  true,
			want:    outcome{Status: http.StatusNoContent},
			members: []string{"alice"},
		},
		"UnknownUser": {
			reason:  "A pk of no user is 404 (Http404).",
			pk:      func(int32, int32) int32 { return 999 },
			want:    detailError(http.StatusNotFound, "Not found."),
			members: []string{"alice"},
		},
	}
	for _, line := range LineNames() {
		for name, tc := range cases {
			t.Run(line+"/"+name, func(t *testing.T) {
				t.Parallel()
				e := newEnvAt(t, line)
				gpk := rawCreate(t, e, "/core/groups/", `{"name": "staff"}`)
				alice := int32(rawCreateUser(t, e, "alice"))
				bob := int32(rawCreateUser(t, e, "bob"))
				if status, _ := raw(t, e, http.MethodPost, "/core/groups/"+gpk+"/add_user/", `{"pk": `+itoa(alice)+`}`); status != http.StatusNoContent {
					t.Fatalf("add alice: %d", status)
				}
				action := "add_user"
				if tc.remove {
					action = "remove_user"
				}
				status, body := raw(t, e, http.MethodPost, "/core/groups/"+gpk+"/"+action+"/", `{"pk": `+itoa(tc.pk(alice, bob))+`}`)
				got := outcome{Status: status}
				if body != nil {
					got.Body = body
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
				}
				var members []string
				for _, u := range e.Sim.Users() {
					if slices.Contains(u.Groups, "staff") {
						members = append(members, u.Name)
					}
				}
				if diff := cmp.Diff(tc.members, members, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s\nmembers -want, +got:\n%s", tc.reason, diff)
				}
			})
		}
	}
}

func TestServiceAccount(t *testing.T) {
	t.Parallel()
	for _, line := range LineNames() {
		t.Run(line, func(t *testing.T) {
			t.Parallel()
			e := newEnvAt(t, line)
			r := api.NewUserServiceAccountRequest("ci robot")
			r.SetExpiring(false)
			sa, _, err := e.c.CoreAPI.CoreUsersServiceAccountCreate(e.ctx).UserServiceAccountRequest(*r).Execute()
			if err != nil {
				t.Fatal(err)
			}
			if sa.Username != "ci robot" || len(sa.Token) != tokenKeyLength {
				t.Errorf("service account answer: username %q, token of %d characters", sa.Username, len(sa.Token))
			}
			key, _, err := e.c.CoreAPI.CoreTokensViewKeyRetrieve(e.ctx, "service-account-ci-robot-password").Execute()
			if err != nil || key.Key != sa.Token {
				t.Errorf("view_key: %v, same key as the answer: %v", err, err == nil && key.Key == sa.Token)
			}
			status, body := raw(t, e, http.MethodGet, "/core/users/"+itoa(sa.UserPk)+"/", "")
			if status != http.StatusOK || body["type"] != userTypeServiceAccount || body["path"] != serviceAccountPath ||
				!cmp.Equal(body["attributes"], map[string]any{attributeTokenExpiring: false}) {
				t.Errorf("service account user: %d %v", status, body)
			}
			status, body = raw(t, e, http.MethodPost, "/core/users/service_account/", `{"name": "ci robot"}`)
			if _, ok := body[msgNonFieldError]; status != http.StatusBadRequest || !ok {
				t.Errorf("a second service account of the name: %d %v, want 400 with non_field_errors", status, body)
			}
			if status, _ := raw(t, e, http.MethodDelete, "/core/users/"+itoa(sa.UserPk)+"/", ""); status != http.StatusNoContent {
				t.Fatalf("delete: %d", status)
			}
			if status, _ := raw(t, e, http.MethodGet, "/core/tokens/service-account-ci-robot-password/view_key/", ""); status != http.StatusNotFound {
				t.Errorf("the token after its user was deleted: %d, want 404", status)
			}
		})
	}
}

// TestDeletingUserEndsMemberships: Group.users is a many-to-many relation,
// so a deleted user leaves every group, which stays.
func TestDeletingUserEndsMemberships(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.createGroup(t, "staff")
	alice, bob := e.createUser(t, "alice"), e.createUser(t, "bob")
	for _, pk := range []int32{alice.Pk, bob.Pk} {
		if _, err := e.c.CoreAPI.CoreGroupsAddUserCreate(e.ctx, g.Pk).UserAccountRequest(*api.NewUserAccountRequest(pk)).Execute(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.c.CoreAPI.CoreUsersDestroy(e.ctx, alice.Pk).Execute(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int32{bob.Pk}, e.members(t, g.Pk)); diff != "" {
		t.Errorf("members after alice was deleted: -want, +got:\n%s", diff)
	}
	l, _, err := e.c.CoreAPI.CoreGroupsList(e.ctx).MembersByUsername([]string{"bob"}).Execute()
	if err != nil || len(l.Results) != 1 {
		t.Errorf("groups of bob: %v %v", l, err)
	}
}

func itoa(v int32) string { return strconv.Itoa(int(v)) }

// raw sends a request and decodes a JSON object answer, for the lines whose
// answers the generated client cannot decode.
func raw(t *testing.T, e *env, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, method, e.URL+"/api/v3"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return resp.StatusCode, nil
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, b)
	}
	return resp.StatusCode, out
}

func rawCreate(t *testing.T, e *env, path, body string) string {
	t.Helper()
	status, out := raw(t, e, http.MethodPost, path, body)
	if status != http.StatusCreated {
		t.Fatalf("POST %s: %d %v", path, status, out)
	}
	pk, _ := out["pk"].(string)
	return pk
}

func rawCreateUser(t *testing.T, e *env, username string) float64 {
	t.Helper()
	status, out := raw(t, e, http.MethodPost, "/core/users/", `{"username": "`+username+`", "name": ""}`)
	if status != http.StatusCreated {
		t.Fatalf("create user %s: %d %v", username, status, out)
	}
	pk, _ := out["pk"].(float64)
	return pk
}

// TestGroupUsersField: GroupSerializer.users defaults to an empty list, so
// a PUT replaces the members with what it sends (none when it sends
// nothing), while a PATCH without users keeps them.
func TestGroupUsersField(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		method string
		body   string
		want   []string
	}{
		"PutWithoutUsers":   {reason: "A PUT that leaves users out removes every member.", method: http.MethodPut, body: `{"name": "staff"}`, want: []string{}},
		"PatchWithoutUsers": {reason: "A PATCH that leaves users out keeps them.", method: http.MethodPatch, body: `{"name": "staff 2"}`, want: []string{"alice", "bob"}},
		"PutWithUsers":      {reason: "users makes the members exactly those users.", method: http.MethodPut, body: `{"name": "staff", "users": [%d]}`, want: []string{"bob"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			g := e.createGroup(t, "staff")
			alice, bob := e.createUser(t, "alice"), e.createUser(t, "bob")
			for _, pk := range []int32{alice.Pk, bob.Pk} {
				if status, _ := raw(t, e, http.MethodPost, "/core/groups/"+g.Pk+"/add_user/", `{"pk": `+itoa(pk)+`}`); status != http.StatusNoContent {
					t.Fatalf("add_user: %d", status)
				}
			}
			body := tc.body
			if strings.Contains(body, "%d") {
				body = strings.ReplaceAll(body, "%d", itoa(bob.Pk))
			}
			if status, out := raw(t, e, tc.method, "/core/groups/"+g.Pk+"/", body); status != http.StatusOK {
				t.Fatalf("%s: %d %v", tc.method, status, out)
			}
			var got []string
			for _, u := range e.Sim.Users() {
				if len(u.Groups) > 0 {
					got = append(got, u.Name)
				}
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nmembers -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestTokenRules(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		body   string
		want   int
		errKey string
	}{
		"AppPassword":   {reason: "An app password token for a user is made.", body: `{"identifier": "robot-token", "user": %d, "intent": "app_password", "expiring": false}`, want: http.StatusCreated},
		"TakenIdentity": {reason: "Identifiers are unique.", body: `{"identifier": "taken", "user": %d, "intent": "app_password"}`, want: http.StatusBadRequest, errKey: "identifier"},
		"OtherIntent":   {reason: "Only api and app_password tokens are made through the API.", body: `{"identifier": "recover", "user": %d, "intent": "recovery"}`, want: http.StatusBadRequest, errKey: "intent"},
		"NoUser":        {reason: "The simulator has no user behind its API token, so the user must be sent.", body: `{"identifier": "nobody"}`, want: http.StatusBadRequest, errKey: "user"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			u := e.createUser(t, "robot")
			if status, out := raw(t, e, http.MethodPost, "/core/tokens/", `{"identifier": "taken", "user": `+itoa(u.Pk)+`}`); status != http.StatusCreated {
				t.Fatalf("first token: %d %v", status, out)
			}
			status, out := raw(t, e, http.MethodPost, "/core/tokens/", strings.ReplaceAll(tc.body, "%d", itoa(u.Pk)))
			if status != tc.want {
				t.Fatalf("%s\nstatus %d, want %d: %v", tc.reason, status, tc.want, out)
			}
			if tc.errKey != "" {
				if _, ok := out[tc.errKey]; !ok {
					t.Errorf("%s\nthe refusal does not name %s: %v", tc.reason, tc.errKey, out)
				}
				return
			}
			if out["expiring"] != false || out["intent"] != intentAppPassword {
				t.Errorf("%s\nmade: %v", tc.reason, out)
			}
			if status, key := raw(t, e, http.MethodGet, "/core/tokens/robot-token/view_key/", ""); status != http.StatusOK || key["key"] == "" {
				t.Errorf("view_key of the new token: %d", status)
			}
			if status, _ := raw(t, e, http.MethodDelete, "/core/tokens/robot-token/", ""); status != http.StatusNoContent {
				t.Errorf("delete: %d", status)
			}
			if status, _ := raw(t, e, http.MethodGet, "/core/tokens/robot-token/view_key/", ""); status != http.StatusNotFound {
				t.Errorf("view_key after delete: %d, want 404", status)
			}
		})
	}
}
