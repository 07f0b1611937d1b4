package authentiksim

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// handler runs one operation on the simulator's state. The Server holds the
// state lock while it runs.
type handler func(st *state, c *call) reply

// route maps a schema path and method to its operation id and handler. The
// simulator routes with its own table rather than a router built from the
// schema, so it serves the same paths with schema checking switched off;
// New checks every entry against the schema when checking is on.
type route struct {
	method      string
	pattern     string // schema path below /api/v3, e.g. /providers/proxy/{id}/
	operationID string
	handle      handler
	// model is the schema model of the answer (of each item, for a list),
	// by which a release line's answers are shaped; "" for none.
	model string
	// anonymous routes also answer callers that send no token.
	anonymous bool
	segments  []string
}

func apiRoutes() []*route {
	rs := []*route{
		{method: http.MethodGet, pattern: "/providers/proxy/", operationID: "providers_proxy_list", model: "ProxyProvider", handle: listProxyProviders},
		{method: http.MethodPost, pattern: "/providers/proxy/", operationID: "providers_proxy_create", model: "ProxyProvider", handle: proxyProviders.create},
		{method: http.MethodGet, pattern: "/providers/proxy/{id}/", operationID: "providers_proxy_retrieve", model: "ProxyProvider", handle: proxyProviders.retrieve},
		{method: http.MethodPut, pattern: "/providers/proxy/{id}/", operationID: "providers_proxy_update", model: "ProxyProvider", handle: proxyProviders.update},
		{method: http.MethodPatch, pattern: "/providers/proxy/{id}/", operationID: "providers_proxy_partial_update", model: "ProxyProvider", handle: proxyProviders.update},
		{method: http.MethodDelete, pattern: "/providers/proxy/{id}/", operationID: "providers_proxy_destroy", handle: proxyProviders.destroy},

		{method: http.MethodGet, pattern: "/providers/saml/", operationID: "providers_saml_list", model: "SAMLProvider", handle: listSAMLProviders},
		{method: http.MethodPost, pattern: "/providers/saml/", operationID: "providers_saml_create", model: "SAMLProvider", handle: samlProviders.create},
		{method: http.MethodGet, pattern: "/providers/saml/{id}/", operationID: "providers_saml_retrieve", model: "SAMLProvider", handle: samlProviders.retrieve},
		{method: http.MethodPut, pattern: "/providers/saml/{id}/", operationID: "providers_saml_update", model: "SAMLProvider", handle: samlProviders.update},
		{method: http.MethodPatch, pattern: "/providers/saml/{id}/", operationID: "providers_saml_partial_update", model: "SAMLProvider", handle: samlProviders.update},
		{method: http.MethodDelete, pattern: "/providers/saml/{id}/", operationID: "providers_saml_destroy", handle: samlProviders.destroy},

		{method: http.MethodGet, pattern: "/providers/oauth2/", operationID: "providers_oauth2_list", model: "OAuth2Provider", handle: listOAuth2Providers},
		{method: http.MethodPost, pattern: "/providers/oauth2/", operationID: "providers_oauth2_create", model: "OAuth2Provider", handle: oauth2Providers.create},
		{method: http.MethodGet, pattern: "/providers/oauth2/{id}/", operationID: "providers_oauth2_retrieve", model: "OAuth2Provider", handle: oauth2Providers.retrieve},
		{method: http.MethodPut, pattern: "/providers/oauth2/{id}/", operationID: "providers_oauth2_update", model: "OAuth2Provider", handle: oauth2Providers.update},
		{method: http.MethodPatch, pattern: "/providers/oauth2/{id}/", operationID: "providers_oauth2_partial_update", model: "OAuth2Provider", handle: oauth2Providers.update},
		{method: http.MethodDelete, pattern: "/providers/oauth2/{id}/", operationID: "providers_oauth2_destroy", handle: oauth2Providers.destroy},
		{method: http.MethodGet, pattern: "/providers/ldap/", operationID: "providers_ldap_list", model: "LDAPProvider", handle: listLDAPProviders},
		{method: http.MethodPost, pattern: "/providers/ldap/", operationID: "providers_ldap_create", model: "LDAPProvider", handle: ldapProviders.create},
		{method: http.MethodGet, pattern: "/providers/ldap/{id}/", operationID: "providers_ldap_retrieve", model: "LDAPProvider", handle: ldapProviders.retrieve},
		{method: http.MethodPut, pattern: "/providers/ldap/{id}/", operationID: "providers_ldap_update", model: "LDAPProvider", handle: ldapProviders.update},
		{method: http.MethodPatch, pattern: "/providers/ldap/{id}/", operationID: "providers_ldap_partial_update", model: "LDAPProvider", handle: ldapProviders.update},
		{method: http.MethodDelete, pattern: "/providers/ldap/{id}/", operationID: "providers_ldap_destroy", handle: ldapProviders.destroy},
		{method: http.MethodGet, pattern: "/propertymappings/provider/scope/", operationID: "propertymappings_provider_scope_list", model: "ScopeMapping", handle: listScopeMappings},
		{method: http.MethodPost, pattern: "/propertymappings/provider/scope/", operationID: "propertymappings_provider_scope_create", model: "ScopeMapping", handle: createScopeMapping},
		{method: http.MethodGet, pattern: "/propertymappings/provider/scope/{pm_uuid}/", operationID: "propertymappings_provider_scope_retrieve", model: "ScopeMapping", handle: retrieveScopeMapping},
		{method: http.MethodPut, pattern: "/propertymappings/provider/scope/{pm_uuid}/", operationID: "propertymappings_provider_scope_update", model: "ScopeMapping", handle: updateScopeMapping},
		{method: http.MethodPatch, pattern: "/propertymappings/provider/scope/{pm_uuid}/", operationID: "propertymappings_provider_scope_partial_update", model: "ScopeMapping", handle: updateScopeMapping},
		{method: http.MethodDelete, pattern: "/propertymappings/provider/scope/{pm_uuid}/", operationID: "propertymappings_provider_scope_destroy", handle: destroyScopeMapping},
		{method: http.MethodGet, pattern: "/propertymappings/provider/saml/", operationID: "propertymappings_provider_saml_list", model: "SAMLPropertyMapping", handle: listSAMLMappings},
		{method: http.MethodPost, pattern: "/propertymappings/provider/saml/", operationID: "propertymappings_provider_saml_create", model: "SAMLPropertyMapping", handle: createSAMLMapping},
		{method: http.MethodGet, pattern: "/propertymappings/provider/saml/{pm_uuid}/", operationID: "propertymappings_provider_saml_retrieve", model: "SAMLPropertyMapping", handle: retrieveSAMLMapping},
		{method: http.MethodPut, pattern: "/propertymappings/provider/saml/{pm_uuid}/", operationID: "propertymappings_provider_saml_update", model: "SAMLPropertyMapping", handle: updateSAMLMapping},
		{method: http.MethodPatch, pattern: "/propertymappings/provider/saml/{pm_uuid}/", operationID: "propertymappings_provider_saml_partial_update", model: "SAMLPropertyMapping", handle: updateSAMLMapping},
		{method: http.MethodDelete, pattern: "/propertymappings/provider/saml/{pm_uuid}/", operationID: "propertymappings_provider_saml_destroy", handle: destroySAMLMapping},
		{method: http.MethodGet, pattern: "/crypto/certificatekeypairs/", operationID: "crypto_certificatekeypairs_list", model: "CertificateKeyPair", handle: listCertificateKeyPairs},
		{method: http.MethodPost, pattern: "/crypto/certificatekeypairs/", operationID: "crypto_certificatekeypairs_create", model: "CertificateKeyPair", handle: createCertificateKeyPair},
		{method: http.MethodGet, pattern: "/crypto/certificatekeypairs/{kp_uuid}/", operationID: "crypto_certificatekeypairs_retrieve", model: "CertificateKeyPair", handle: retrieveCertificateKeyPair},
		{method: http.MethodPut, pattern: "/crypto/certificatekeypairs/{kp_uuid}/", operationID: "crypto_certificatekeypairs_update", model: "CertificateKeyPair", handle: updateCertificateKeyPair},
		{method: http.MethodPatch, pattern: "/crypto/certificatekeypairs/{kp_uuid}/", operationID: "crypto_certificatekeypairs_partial_update", model: "CertificateKeyPair", handle: updateCertificateKeyPair},
		{method: http.MethodDelete, pattern: "/crypto/certificatekeypairs/{kp_uuid}/", operationID: "crypto_certificatekeypairs_destroy", handle: destroyCertificateKeyPair},

		{method: http.MethodGet, pattern: "/providers/all/", operationID: "providers_all_list", model: "Provider", handle: listAllProviders},
		{method: http.MethodGet, pattern: "/providers/all/{id}/", operationID: "providers_all_retrieve", model: "Provider", handle: retrieveAnyProvider},

		{method: http.MethodGet, pattern: "/core/applications/", operationID: "core_applications_list", model: "Application", handle: listApplications},
		{method: http.MethodPost, pattern: "/core/applications/", operationID: "core_applications_create", model: "Application", handle: createApplication},
		{method: http.MethodGet, pattern: "/core/applications/{slug}/", operationID: "core_applications_retrieve", model: "Application", handle: retrieveApplication},
		{method: http.MethodPut, pattern: "/core/applications/{slug}/", operationID: "core_applications_update", model: "Application", handle: updateApplication},
		{method: http.MethodPatch, pattern: "/core/applications/{slug}/", operationID: "core_applications_partial_update", model: "Application", handle: updateApplication},
		{method: http.MethodDelete, pattern: "/core/applications/{slug}/", operationID: "core_applications_destroy", handle: destroyApplication},

		{method: http.MethodGet, pattern: "/outposts/instances/", operationID: "outposts_instances_list", model: "Outpost", handle: listOutposts},
		{method: http.MethodPost, pattern: "/outposts/instances/", operationID: "outposts_instances_create", model: "Outpost", handle: createOutpost},
		{method: http.MethodGet, pattern: "/outposts/instances/default_settings/", operationID: "outposts_instances_default_settings_retrieve", model: "OutpostDefaultConfig", handle: outpostDefaultSettings},
		{method: http.MethodGet, pattern: "/outposts/instances/{uuid}/", operationID: "outposts_instances_retrieve", model: "Outpost", handle: retrieveOutpost},
		{method: http.MethodPut, pattern: "/outposts/instances/{uuid}/", operationID: "outposts_instances_update", model: "Outpost", handle: updateOutpost},
		{method: http.MethodPatch, pattern: "/outposts/instances/{uuid}/", operationID: "outposts_instances_partial_update", model: "Outpost", handle: updateOutpost},
		{method: http.MethodDelete, pattern: "/outposts/instances/{uuid}/", operationID: "outposts_instances_destroy", handle: destroyOutpost},

		{method: http.MethodGet, pattern: "/flows/instances/", operationID: "flows_instances_list", model: "Flow", handle: listFlows},
		{method: http.MethodPost, pattern: "/flows/instances/", operationID: "flows_instances_create", model: "Flow", handle: createFlow},
		{method: http.MethodGet, pattern: "/flows/instances/{slug}/", operationID: "flows_instances_retrieve", model: "Flow", handle: retrieveFlow},
		{method: http.MethodDelete, pattern: "/flows/instances/{slug}/", operationID: "flows_instances_destroy", handle: destroyFlow},

		{method: http.MethodGet, pattern: "/core/groups/", operationID: "core_groups_list", model: "Group", handle: listGroups},
		{method: http.MethodPost, pattern: "/core/groups/", operationID: "core_groups_create", model: "Group", handle: createGroup},
		{method: http.MethodGet, pattern: "/core/groups/{group_uuid}/", operationID: "core_groups_retrieve", model: "Group", handle: retrieveGroup},
		{method: http.MethodPut, pattern: "/core/groups/{group_uuid}/", operationID: "core_groups_update", model: "Group", handle: updateGroup},
		{method: http.MethodPatch, pattern: "/core/groups/{group_uuid}/", operationID: "core_groups_partial_update", model: "Group", handle: updateGroup},
		{method: http.MethodDelete, pattern: "/core/groups/{group_uuid}/", operationID: "core_groups_destroy", handle: destroyGroup},

		{method: http.MethodPost, pattern: "/core/groups/{group_uuid}/add_user/", operationID: "core_groups_add_user_create", handle: addUserToGroup},
		{method: http.MethodPost, pattern: "/core/groups/{group_uuid}/remove_user/", operationID: "core_groups_remove_user_create", handle: removeUserFromGroup},

		{method: http.MethodGet, pattern: "/core/users/", operationID: "core_users_list", model: "User", handle: listUsers},
		{method: http.MethodPost, pattern: "/core/users/", operationID: "core_users_create", model: "User", handle: createUser},
		{method: http.MethodPost, pattern: "/core/users/service_account/", operationID: "core_users_service_account_create", model: "UserServiceAccountResponse", handle: createServiceAccount},
		{method: http.MethodGet, pattern: "/core/users/{id}/", operationID: "core_users_retrieve", model: "User", handle: retrieveUser},
		{method: http.MethodPut, pattern: "/core/users/{id}/", operationID: "core_users_update", model: "User", handle: updateUser},
		{method: http.MethodPatch, pattern: "/core/users/{id}/", operationID: "core_users_partial_update", model: "User", handle: updateUser},
		{method: http.MethodDelete, pattern: "/core/users/{id}/", operationID: "core_users_destroy", handle: destroyUser},
		{method: http.MethodPost, pattern: "/core/tokens/", operationID: "core_tokens_create", model: "Token", handle: createToken},
		{method: http.MethodDelete, pattern: "/core/tokens/{identifier}/", operationID: "core_tokens_destroy", handle: destroyToken},
		{method: http.MethodGet, pattern: "/core/tokens/{identifier}/view_key/", operationID: "core_tokens_view_key_retrieve", model: "TokenView", handle: viewTokenKey},

		{method: http.MethodGet, pattern: "/policies/bindings/", operationID: "policies_bindings_list", model: "PolicyBinding", handle: listBindings},
		{method: http.MethodPost, pattern: "/policies/bindings/", operationID: "policies_bindings_create", model: "PolicyBinding", handle: createBinding},
		{method: http.MethodGet, pattern: "/policies/bindings/{policy_binding_uuid}/", operationID: "policies_bindings_retrieve", model: "PolicyBinding", handle: retrieveBinding},
		{method: http.MethodPut, pattern: "/policies/bindings/{policy_binding_uuid}/", operationID: "policies_bindings_update", model: "PolicyBinding", handle: updateBinding},
		{method: http.MethodPatch, pattern: "/policies/bindings/{policy_binding_uuid}/", operationID: "policies_bindings_partial_update", model: "PolicyBinding", handle: updateBinding},
		{method: http.MethodDelete, pattern: "/policies/bindings/{policy_binding_uuid}/", operationID: "policies_bindings_destroy", handle: destroyBinding},

		{method: http.MethodGet, pattern: "/policies/all/{policy_uuid}/", operationID: "policies_all_retrieve", model: "Policy", handle: retrieveAnyPolicy},
		{method: http.MethodGet, pattern: "/policies/expression/", operationID: "policies_expression_list", model: "ExpressionPolicy", handle: listExpressionPolicies},
		{method: http.MethodPost, pattern: "/policies/expression/", operationID: "policies_expression_create", model: "ExpressionPolicy", handle: createExpressionPolicy},
		{method: http.MethodGet, pattern: "/policies/expression/{policy_uuid}/", operationID: "policies_expression_retrieve", model: "ExpressionPolicy", handle: retrieveExpressionPolicy},
		{method: http.MethodPut, pattern: "/policies/expression/{policy_uuid}/", operationID: "policies_expression_update", model: "ExpressionPolicy", handle: updateExpressionPolicy},
		{method: http.MethodPatch, pattern: "/policies/expression/{policy_uuid}/", operationID: "policies_expression_partial_update", model: "ExpressionPolicy", handle: updateExpressionPolicy},
		{method: http.MethodDelete, pattern: "/policies/expression/{policy_uuid}/", operationID: "policies_expression_destroy", handle: destroyExpressionPolicy},

		{method: http.MethodGet, pattern: "/admin/version/", operationID: "admin_version_retrieve", model: "Version", handle: retrieveVersion},
		{method: http.MethodGet, pattern: "/root/config/", operationID: "root_config_retrieve", model: "Config", handle: retrieveRootConfig, anonymous: true},
	}
	for _, r := range rs {
		r.segments = strings.Split(strings.Trim(r.pattern, "/"), "/")
	}
	// Literal paths win over templated ones, as in Django's URL resolver
	// where default_settings/ comes before the detail route. The sort is
	// stable, so routes of one pattern stay together.
	sort.SliceStable(rs, func(i, j int) bool { return templated(rs[i]) < templated(rs[j]) })
	return rs
}

// isList tells whether the route answers a list envelope of its model.
func (r *route) isList() bool { return strings.HasSuffix(r.operationID, "_list") }

func templated(r *route) int {
	n := 0
	for _, s := range r.segments {
		if strings.HasPrefix(s, "{") {
			n++
		}
	}
	return n
}

// match finds the route for method and path (below /api/v3). When the path
// is known but not for this method it returns nil and methodKnown true.
func (s *Server) match(method, path string) (rt *route, params map[string]string, methodKnown bool) {
	// Django's URLs end in a slash; the Go client always sends it.
	if !strings.HasSuffix(path, "/") {
		return nil, nil, false
	}
	segments := strings.Split(strings.Trim(path, "/"), "/")
	// The first pattern that matches decides, whatever the method: a PUT to
	// default_settings/ is not an update of an outpost with that uuid.
	pattern := ""
	for _, r := range s.routes {
		if pattern != "" && r.pattern != pattern {
			continue
		}
		p, ok := r.matchPath(segments)
		if !ok {
			continue
		}
		pattern = r.pattern
		if r.method == method {
			return r, p, false
		}
	}
	return nil, nil, pattern != ""
}

func (r *route) matchPath(segments []string) (map[string]string, bool) {
	if len(segments) != len(r.segments) {
		return nil, false
	}
	params := map[string]string{}
	for i, want := range r.segments {
		if name, ok := strings.CutPrefix(want, "{"); ok {
			v, err := url.PathUnescape(segments[i])
			if err != nil || v == "" {
				return nil, false
			}
			params[strings.TrimSuffix(name, "}")] = v
			continue
		}
		if segments[i] != want {
			return nil, false
		}
	}
	return params, true
}
