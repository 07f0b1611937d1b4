package authentiksim

import (
	"mime"
	"net/http"
	"slices"
	"strings"
)

// Authentik's API checks Django's model permissions before it acts
// (authentik/rbac/permissions.py ObjectPermissions, on Django REST
// framework's DjangoObjectPermissions): a create needs
// "<app label>.add_<model>", an update "change_" and a delete "delete_" of
// the view's model. A superuser has every permission; any other user has
// those its roles grant (Authentik's RBAC). DRF checks them in
// APIView.initial, before the view reads the request body, and refuses with
// PermissionDenied: 403 and msgPermissionDenied.
const msgPermissionDenied = "You do not have permission to perform this action."

// permissionModels names the Django model ("<app label>.<model name>", as
// Authentik's apps label them) behind each collection whose writes the
// simulator checks.
var permissionModels = map[string]string{
	"/providers/proxy/":                 "authentik_providers_proxy.proxyprovider",
	"/providers/oauth2/":                "authentik_providers_oauth2.oauth2provider",
	"/providers/saml/":                  "authentik_providers_saml.samlprovider",
	"/providers/ldap/":                  "authentik_providers_ldap.ldapprovider",
	"/propertymappings/provider/scope/": "authentik_providers_oauth2.scopemapping",
	"/propertymappings/provider/saml/":  "authentik_providers_saml.samlpropertymapping",
	"/core/applications/":               "authentik_core.application",
	"/core/groups/":                     "authentik_core.group",
	"/core/users/":                      "authentik_core.user",
	"/outposts/instances/":              "authentik_outposts.outpost",
	"/policies/bindings/":               "authentik_policies.policybinding",
	"/policies/expression/":             "authentik_policies_expression.expressionpolicy",
	"/crypto/certificatekeypairs/":      "authentik_crypto.certificatekeypair",
}

// requiredPermission returns the permission a write to rt needs, or "" when
// the simulator checks none: reads (Authentik filters lists and hides
// objects instead of refusing) and custom actions.
func requiredPermission(rt *route) string {
	collection, detail := rt.pattern, false
	if i := strings.LastIndex(strings.TrimSuffix(rt.pattern, "/"), "/"); i >= 0 && strings.HasPrefix(rt.pattern[i+1:], "{") {
		collection, detail = rt.pattern[:i+1], true
	}
	model, ok := permissionModels[collection]
	if !ok {
		return ""
	}
	app, name, _ := strings.Cut(model, ".")
	switch {
	case rt.method == http.MethodPost && !detail:
		return app + ".add_" + name
	case (rt.method == http.MethodPut || rt.method == http.MethodPatch) && detail:
		return app + ".change_" + name
	case rt.method == http.MethodDelete && detail:
		return app + ".delete_" + name
	}
	return ""
}

// WithholdPermissions makes the token's user lack perms (names as
// "<app label>.<codename>"), as when the token belongs to a user who is no
// superuser and whose roles do not grant them. No permissions restores a
// superuser's token.
func (s *Server) WithholdPermissions(perms ...string) {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	s.withheld = slices.Clone(perms)
}

// refusesPermission answers a write whose permission is withheld.
func (s *Server) refusesPermission(rt *route) *reply {
	perm := requiredPermission(rt)
	if perm == "" {
		return nil
	}
	s.metaMu.Lock()
	withheld := slices.Contains(s.withheld, perm)
	s.metaMu.Unlock()
	if !withheld {
		return nil
	}
	r := detail(http.StatusForbidden, msgPermissionDenied)
	return &r
}

// parsedMediaTypes are the request media types Authentik's API parses
// (REST_FRAMEWORK DEFAULT_PARSER_CLASSES: JSON, form and multipart, as its
// schema lists them for every request body).
var parsedMediaTypes = []string{"application/json", "application/x-www-form-urlencoded", "multipart/form-data"}

// unsupportedMediaType answers a body no parser of Authentik's reads as DRF
// does when the view first reads it (rest_framework/request.py _parse):
// 415, after the permission check, so nothing is created.
func unsupportedMediaType(r *http.Request) *reply {
	if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && slices.Contains(parsedMediaTypes, mt) {
		return nil
	}
	rep := detail(http.StatusUnsupportedMediaType, `Unsupported media type "`+ct+`" in request.`)
	return &rep
}
