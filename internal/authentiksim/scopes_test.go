package authentiksim

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
)

const groupsExpression = `return {"groups": [group.name for group in request.user.ak_groups.all()]}`

func (e *env) createScopeMapping(t *testing.T, name, scope string) *api.ScopeMapping {
	t.Helper()
	m, _, err := e.c.PropertymappingsAPI.PropertymappingsProviderScopeCreate(e.ctx).ScopeMappingRequest(*api.NewScopeMappingRequest(name, groupsExpression, scope)).Execute()
	if err != nil {
		t.Fatalf("create scope mapping %s: %v", name, err)
	}
	return m
}

func TestScopeMappingRules(t *testing.T) {
	t.Parallel()
	type ids struct{ mapping, seeded string }
	cases := map[string]struct {
		reason string
		call   func(e *env, id ids) (*api.ScopeMapping, *http.Response, error)
		want   outcome
		// check looks at a successful answer.
		check func(t *testing.T, got *api.ScopeMapping)
	}{
		"Create": {
			reason: "A new mapping is answered with its pk, its fields and ScopeMapping's names, and is not managed.",
			call: func(e *env, _ ids) (*api.ScopeMapping, *http.Response, error) {
				r := api.NewScopeMappingRequest("groups claim", groupsExpression+"\n", "groups")
				r.SetDescription("See your groups")
				return e.c.PropertymappingsAPI.PropertymappingsProviderScopeCreate(e.ctx).ScopeMappingRequest(*r).Execute()
			},
			want: outcome{Status: http.StatusCreated},
			check: func(t *testing.T, got *api.ScopeMapping) {
				want := api.ScopeMapping{
					Pk: got.Pk, Name: "groups claim", Expression: groupsExpression, ScopeName: "groups", Description: ptr("See your groups"),
					Component: "ak-property-mapping-provider-scope-form", VerboseName: "Scope Mapping", VerboseNamePlural: "Scope Mappings",
					MetaModelName: "authentik_providers_oauth2.scopemapping", Managed: *api.NewNullableString(nil),
					AdditionalProperties: map[string]any{},
				}
				if diff := cmp.Diff(want, *got, cmp.AllowUnexported(api.NullableString{})); diff != "" {
					t.Errorf("created mapping: -want, +got:\n%s", diff)
				}
			},
		},
		"DuplicateName": {
			reason: "PropertyMapping.name is unique; the message names the Property Mapping model that declares it.",
			call: func(e *env, _ ids) (*api.ScopeMapping, *http.Response, error) {
				return e.c.PropertymappingsAPI.PropertymappingsProviderScopeCreate(e.ctx).ScopeMappingRequest(*api.NewScopeMappingRequest("groups", groupsExpression, "other")).Execute()
			},
			want: fieldError("name", "Property Mapping with this name already exists."),
		},
		"NameOfSeededMapping": {
			reason: "A seeded mapping's name is taken too.",
			call: func(e *env, _ ids) (*api.ScopeMapping, *http.Response, error) {
				return e.c.PropertymappingsAPI.PropertymappingsProviderScopeCreate(e.ctx).ScopeMappingRequest(*api.NewScopeMappingRequest("authentik default OAuth Mapping: OpenID 'email'", groupsExpression, "email")).Execute()
			},
			want: fieldError("name", "Property Mapping with this name already exists."),
		},
		"SameScopeNameAllowed": {
			reason: "scope_name is not unique: two mappings may serve one scope.",
			call: func(e *env, _ ids) (*api.ScopeMapping, *http.Response, error) {
				return e.c.PropertymappingsAPI.PropertymappingsProviderScopeCreate(e.ctx).ScopeMappingRequest(*api.NewScopeMappingRequest("more groups", groupsExpression, "groups")).Execute()
			},
			want: outcome{Status: http.StatusCreated},
		},
		"BlankScopeName": {
			reason: "scope_name may not be blank.",
			call: func(e *env, _ ids) (*api.ScopeMapping, *http.Response, error) {
				return e.c.PropertymappingsAPI.PropertymappingsProviderScopeCreate(e.ctx).ScopeMappingRequest(*api.NewScopeMappingRequest("blank", groupsExpression, "  ")).Execute()
			},
			want: fieldError("scope_name", msgBlank),
		},
		"RenameToTakenName": {
			reason: "A rename to another mapping's name is refused as a create would be.",
			call: func(e *env, id ids) (*api.ScopeMapping, *http.Response, error) {
				p := api.NewPatchedScopeMappingRequest()
				p.SetName("authentik default OAuth Mapping: OpenID 'email'")
				return e.c.PropertymappingsAPI.PropertymappingsProviderScopePartialUpdate(e.ctx, id.mapping).PatchedScopeMappingRequest(*p).Execute()
			},
			want: fieldError("name", "Property Mapping with this name already exists."),
		},
		"PutKeepsOwnName": {
			reason: "A PUT that keeps the mapping's own name is no clash, and replaces scope and expression.",
			call: func(e *env, id ids) (*api.ScopeMapping, *http.Response, error) {
				return e.c.PropertymappingsAPI.PropertymappingsProviderScopeUpdate(e.ctx, id.mapping).ScopeMappingRequest(*api.NewScopeMappingRequest("groups", "return {}", "roles")).Execute()
			},
			want: outcome{Status: http.StatusOK},
			check: func(t *testing.T, got *api.ScopeMapping) {
				if got.Expression != "return {}" || got.ScopeName != "roles" || got.Name != "groups" {
					t.Errorf("after PUT: %q %q %q", got.Name, got.ScopeName, got.Expression)
				}
			},
		},
		"PatchDescription": {
			reason: "A PATCH changes only what it sends; a blank description is allowed.",
			call: func(e *env, id ids) (*api.ScopeMapping, *http.Response, error) {
				p := api.NewPatchedScopeMappingRequest()
				p.SetDescription("")
				return e.c.PropertymappingsAPI.PropertymappingsProviderScopePartialUpdate(e.ctx, id.mapping).PatchedScopeMappingRequest(*p).Execute()
			},
			want: outcome{Status: http.StatusOK},
			check: func(t *testing.T, got *api.ScopeMapping) {
				if got.GetDescription() != "" || got.Expression != groupsExpression || got.ScopeName != "groups" {
					t.Errorf("after PATCH: %+v", got)
				}
			},
		},
		"RetrieveSeeded": {
			reason: "A seeded mapping is managed by Authentik.",
			call: func(e *env, id ids) (*api.ScopeMapping, *http.Response, error) {
				return e.c.PropertymappingsAPI.PropertymappingsProviderScopeRetrieve(e.ctx, id.seeded).Execute()
			},
			want: outcome{Status: http.StatusOK},
			check: func(t *testing.T, got *api.ScopeMapping) {
				if got.GetManaged() != "goauthentik.io/providers/oauth2/scope-openid" || got.ScopeName != "openid" {
					t.Errorf("seeded mapping: %q %q", got.GetManaged(), got.ScopeName)
				}
			},
		},
		"RetrieveMissing": {
			reason: "An unknown pk is 404.",
			call: func(e *env, _ ids) (*api.ScopeMapping, *http.Response, error) {
				return e.c.PropertymappingsAPI.PropertymappingsProviderScopeRetrieve(e.ctx, "00000000-0000-4000-8000-000000000000").Execute()
			},
			want: detailError(http.StatusNotFound, "Not found."),
		},
	}
	for _, line := range LineNames() {
		for name, tc := range cases {
			t.Run(line+"/"+name, func(t *testing.T) {
				e := newEnvAt(t, line)
				id := ids{mapping: e.createScopeMapping(t, "groups", "groups").Pk, seeded: e.Sim.Fixtures().ScopeMappings["goauthentik.io/providers/oauth2/scope-openid"]}
				got, resp, err := tc.call(e, id)
				if diff := cmp.Diff(tc.want, outcomeOf(t, resp, err)); diff != "" {
					t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
				}
				if tc.check != nil && err == nil {
					tc.check(t, got)
				}
			})
		}
	}
}

// TestDeletingScopeMappingUnbindsIt: Provider.property_mappings is a
// many-to-many relation, so a deleted mapping leaves every provider that
// had it, and the provider stays.
func TestDeletingScopeMappingUnbindsIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.createScopeMapping(t, "groups", "groups")
	openid := e.Sim.Fixtures().ScopeMappings["goauthentik.io/providers/oauth2/scope-openid"]
	r := e.oauth2Request("grafana")
	r.PropertyMappings = []string{openid, m.Pk}
	p := e.createOAuth2From(t, r)
	if resp, err := e.c.PropertymappingsAPI.PropertymappingsProviderScopeDestroy(e.ctx, m.Pk).Execute(); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v %v", resp, err)
	}
	got, _, err := e.c.ProvidersAPI.ProvidersOauth2Retrieve(e.ctx, p.Pk).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{openid}, got.PropertyMappings); diff != "" {
		t.Errorf("the provider's mappings after the delete: -want, +got:\n%s", diff)
	}
	if _, resp, _ := e.c.PropertymappingsAPI.PropertymappingsProviderScopeRetrieve(e.ctx, m.Pk).Execute(); resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("the mapping after the delete: %v, want 404", resp)
	}
	if resp, _ := e.c.PropertymappingsAPI.PropertymappingsProviderScopeDestroy(e.ctx, m.Pk).Execute(); resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("a second delete: %v, want 404", resp)
	}
	l, _, err := e.c.PropertymappingsAPI.PropertymappingsProviderScopeList(e.ctx).ScopeName("groups").Execute()
	if err != nil || slices.ContainsFunc(l.Results, func(s api.ScopeMapping) bool { return s.Pk == m.Pk }) {
		t.Errorf("the list still holds the deleted mapping: %v", err)
	}
}
