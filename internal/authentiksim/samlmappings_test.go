package authentiksim

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
)

const uidExpression = `return request.user.username`

func (e *env) createSAMLMapping(t *testing.T, name, samlName string) *api.SAMLPropertyMapping {
	t.Helper()
	m, _, err := e.c.PropertymappingsAPI.PropertymappingsProviderSamlCreate(e.ctx).SAMLPropertyMappingRequest(*api.NewSAMLPropertyMappingRequest(name, uidExpression, samlName)).Execute()
	if err != nil {
		t.Fatalf("create SAML property mapping %s: %v", name, err)
	}
	return m
}

// TestSAMLMappingRules: SAMLPropertyMappingSerializer's rules at every
// release line, over the schema with the Go client.
func TestSAMLMappingRules(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		call   func(e *env, mapping string) (*api.SAMLPropertyMapping, *http.Response, error)
		want   outcome
		check  func(t *testing.T, got *api.SAMLPropertyMapping)
	}{
		"Create": {
			reason: "A new mapping is answered with its pk, its fields trimmed and SAMLPropertyMapping's names; it is not managed.",
			call: func(e *env, _ string) (*api.SAMLPropertyMapping, *http.Response, error) {
				r := api.NewSAMLPropertyMappingRequest("nextcloud: uid", uidExpression+"\n", "uid ")
				r.SetFriendlyName(" User ID")
				return e.c.PropertymappingsAPI.PropertymappingsProviderSamlCreate(e.ctx).SAMLPropertyMappingRequest(*r).Execute()
			},
			want: outcome{Status: http.StatusCreated},
			check: func(t *testing.T, got *api.SAMLPropertyMapping) {
				want := api.SAMLPropertyMapping{
					Pk: got.Pk, Name: "nextcloud: uid", Expression: uidExpression, SamlName: "uid", FriendlyName: *api.NewNullableString(ptr("User ID")),
					Component: "ak-property-mapping-provider-saml-form", VerboseName: "SAML Provider Property Mapping", VerboseNamePlural: "SAML Provider Property Mappings",
					MetaModelName: "authentik_providers_saml.samlpropertymapping", Managed: *api.NewNullableString(nil),
					AdditionalProperties: map[string]any{},
				}
				if diff := cmp.Diff(want, *got, cmp.AllowUnexported(api.NullableString{})); diff != "" {
					t.Errorf("created mapping: -want, +got:\n%s", diff)
				}
			},
		},
		"NameOfScopeMapping": {
			reason: "PropertyMapping.name is unique across mapping types: a scope mapping's name is taken.",
			call: func(e *env, _ string) (*api.SAMLPropertyMapping, *http.Response, error) {
				return e.c.PropertymappingsAPI.PropertymappingsProviderSamlCreate(e.ctx).SAMLPropertyMappingRequest(*api.NewSAMLPropertyMappingRequest("authentik default OAuth Mapping: OpenID 'email'", uidExpression, "email")).Execute()
			},
			want: fieldError("name", "Property Mapping with this name already exists."),
		},
		"ScopeMappingWithSAMLName": {
			reason: "A scope mapping may not take a SAML mapping's name either.",
			call: func(e *env, _ string) (*api.SAMLPropertyMapping, *http.Response, error) {
				_, resp, err := e.c.PropertymappingsAPI.PropertymappingsProviderScopeCreate(e.ctx).ScopeMappingRequest(*api.NewScopeMappingRequest("uid", groupsExpression, "uid")).Execute()
				return nil, resp, err
			},
			want: fieldError("name", "Property Mapping with this name already exists."),
		},
		"BlankSAMLName": {
			reason: "saml_name may not be blank.",
			call: func(e *env, _ string) (*api.SAMLPropertyMapping, *http.Response, error) {
				return e.c.PropertymappingsAPI.PropertymappingsProviderSamlCreate(e.ctx).SAMLPropertyMappingRequest(*api.NewSAMLPropertyMappingRequest("blank", uidExpression, " ")).Execute()
			},
			want: fieldError("saml_name", msgBlank),
		},
		"PutKeepsOwnName": {
			reason: "A PUT that keeps the mapping's own name is no clash; without friendly_name it keeps the stored one.",
			call: func(e *env, id string) (*api.SAMLPropertyMapping, *http.Response, error) {
				return e.c.PropertymappingsAPI.PropertymappingsProviderSamlUpdate(e.ctx, id).SAMLPropertyMappingRequest(*api.NewSAMLPropertyMappingRequest("uid", "return 1", "urn:oid:0.9.2342.19200300.100.1.1")).Execute()
			},
			want: outcome{Status: http.StatusOK},
			check: func(t *testing.T, got *api.SAMLPropertyMapping) {
				if got.Name != "uid" || got.Expression != "return 1" || got.SamlName != "urn:oid:0.9.2342.19200300.100.1.1" || got.FriendlyName.Get() != nil {
					t.Errorf("after PUT: %+v", got)
				}
			},
		},
		"FriendlyNameBlankThenNull": {
			reason: "friendly_name may be blank and may be null.",
			call: func(e *env, id string) (*api.SAMLPropertyMapping, *http.Response, error) {
				p := api.NewPatchedSAMLPropertyMappingRequest()
				p.SetFriendlyName("")
				if _, resp, err := e.c.PropertymappingsAPI.PropertymappingsProviderSamlPartialUpdate(e.ctx, id).PatchedSAMLPropertyMappingRequest(*p).Execute(); err != nil {
					return nil, resp, err
				}
				p.SetFriendlyNameNil()
				return e.c.PropertymappingsAPI.PropertymappingsProviderSamlPartialUpdate(e.ctx, id).PatchedSAMLPropertyMappingRequest(*p).Execute()
			},
			want: outcome{Status: http.StatusOK},
			check: func(t *testing.T, got *api.SAMLPropertyMapping) {
				if got.FriendlyName.Get() != nil {
					t.Errorf("friendly_name after null: %q", *got.FriendlyName.Get())
				}
			},
		},
		"RetrieveMissing": {
			reason: "An unknown pk is 404.",
			call: func(e *env, _ string) (*api.SAMLPropertyMapping, *http.Response, error) {
				return e.c.PropertymappingsAPI.PropertymappingsProviderSamlRetrieve(e.ctx, "00000000-0000-4000-8000-000000000000").Execute()
			},
			want: detailError(http.StatusNotFound, "Not found."),
		},
		"ScopeMappingIsNoSAMLMapping": {
			reason: "The SAML endpoint serves SAML mappings only.",
			call: func(e *env, _ string) (*api.SAMLPropertyMapping, *http.Response, error) {
				return e.c.PropertymappingsAPI.PropertymappingsProviderSamlRetrieve(e.ctx, e.Sim.Fixtures().ScopeMappings["goauthentik.io/providers/oauth2/scope-openid"]).Execute()
			},
			want: detailError(http.StatusNotFound, "Not found."),
		},
	}
	for _, line := range LineNames() {
		for name, tc := range cases {
			t.Run(line+"/"+name, func(t *testing.T) {
				e := newEnvAt(t, line)
				id := e.createSAMLMapping(t, "uid", "uid").Pk
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

// TestDeletingSAMLMappingUnbindsIt: a SAML provider takes SAML mappings in
// property_mappings (Provider.property_mappings relates to the
// PropertyMapping base), and a deleted one leaves it; the provider stays.
func TestDeletingSAMLMappingUnbindsIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	uid := e.createSAMLMapping(t, "uid", "uid")
	mail := e.createSAMLMapping(t, "mail", "mail")
	r := e.samlRequest("nextcloud")
	r.PropertyMappings = []string{uid.Pk, mail.Pk}
	p, _, err := e.c.ProvidersAPI.ProvidersSamlCreate(e.ctx).SAMLProviderRequest(*r).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := e.c.PropertymappingsAPI.PropertymappingsProviderSamlDestroy(e.ctx, uid.Pk).Execute(); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v %v", resp, err)
	}
	got, _, err := e.c.ProvidersAPI.ProvidersSamlRetrieve(e.ctx, p.Pk).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{mail.Pk}, got.PropertyMappings); diff != "" {
		t.Errorf("the provider's mappings after the delete: -want, +got:\n%s", diff)
	}
	if resp, _ := e.c.PropertymappingsAPI.PropertymappingsProviderSamlDestroy(e.ctx, uid.Pk).Execute(); resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("a second delete: %v, want 404", resp)
	}
	l, _, err := e.c.PropertymappingsAPI.PropertymappingsProviderSamlList(e.ctx).Name("mail").Execute()
	if err != nil || len(l.Results) != 1 || l.Results[0].Pk != mail.Pk {
		t.Errorf("the list by name: %v %v", l, err)
	}
	if _, resp, err := e.c.ProvidersAPI.ProvidersSamlPartialUpdate(e.ctx, p.Pk).PatchedSAMLProviderRequest(api.PatchedSAMLProviderRequest{PropertyMappings: []string{uid.Pk}}).Execute(); err == nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the deleted mapping is still accepted: %v %v", resp, err)
	}
}
