package authentik

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
)

//go:generate go run ../../../hack/schemagen -o zz_responses.go

// The generated client (goauthentik.io/api/v3) decodes strictly: a key its
// schema requires must be present and an enum must hold a value it knows.
// Authentik releases differ in both (older ones leave out keys that came
// later, newer ones add enum values), so the client's transport reads each
// response against a table derived from the client's schema (zz_responses.go)
// before the client decodes it:
//
//   - a required key the provider does not need is filled with an empty
//     value when absent;
//   - an enum value the client does not know, in a field the provider does
//     not need, becomes a value it knows;
//   - keys the provider needs are never touched: a missing one, or an
//     unknown value in one, fails the decode, and Classify names the key and
//     the value (see responseProblems).
//
// The values put in are never sent back: every write the provider makes is
// built from a resource's spec, not from a response.

// A responseRoute is an API path (below /api/v3) and method whose response is
// a schema model.
type responseRoute struct {
	method, path, model string
}

// A responseModel describes a schema model by its properties that are
// required, enums or nested models.
type responseModel struct {
	properties map[string]responseProperty
}

// A responseProperty is one property of a responseModel.
type responseProperty struct {
	// model or enum names the property's schema component, if any.
	model, enum string
	// list is set for a list of values of the property's kind.
	list     bool
	nullable bool
	// required properties must be present for the client to decode.
	required bool
}

// identityKeys are the keys of each model that any reader relies on: the
// ids resources record and look objects up by, and the envelope of a list.
var identityKeys = map[string][]string{
	"ProxyProvider":              {"pk", "name"},
	"OAuth2Provider":             {"pk", "name"},
	"SAMLProvider":               {"pk", "name"},
	"LDAPProvider":               {"pk", "name"},
	"ScopeMapping":               {"pk", "name", "managed"},
	"SAMLPropertyMapping":        {"pk", "name", "managed"},
	"CertificateKeyPair":         {"pk", "name"},
	"Application":                {"pk", "slug", "name"},
	"Group":                      {"pk", "name"},
	"User":                       {"pk", "username"},
	"UserServiceAccountResponse": {"user_pk", "username"},
	"TokenView":                  {"key"},
	"Token":                      {"identifier", "user"},
	"PartialGroup":               {"pk", "name"},
	"Flow":                       {"pk", "slug"},
	"Outpost":                    {"pk", "name", "managed"},
	"OutpostDefaultConfig":       {"config"},
	"PolicyBinding":              {"pk", "target"},
	"ExpressionPolicy":           {"pk", "name"},
	"Policy":                     {"pk", "name"},
	"Pagination":                 {"next", "previous", "count", "current", "total_pages", "start_index", "end_index"},
	"Version":                    {"version_current"},
}

// A managedModel is the Authentik model a managed resource kind manages and
// the keys of it the kind sets and compares: the request fields its errors
// are mapped to spec fields by.
type managedModel struct {
	model string
	// keys the kind manages; a key holding objects (an OAuth2 provider's
	// redirect URIs) is managed with every key of those objects.
	keys []string
}

// managedModels are the models each managed resource kind manages.
var managedModels = map[string]managedModel{
	"ProxyProvider": {model: "ProxyProvider", keys: []string{
		"mode", "external_host", "internal_host", "internal_host_ssl_validation",
		"authorization_flow", "invalidation_flow", "cookie_domain", "skip_path_regex", "basic_auth_enabled",
		"basic_auth_user_attribute", "basic_auth_password_attribute", "intercept_header_auth",
		"access_token_validity", "refresh_token_validity", "certificate", "property_mappings",
	}},
	"OAuth2Provider": {model: "OAuth2Provider", keys: []string{
		"client_type", "client_id", "client_secret", "redirect_uris", "signing_key", "property_mappings",
		"access_code_validity", "access_token_validity", "refresh_token_validity",
		"sub_mode", "include_claims_in_id_token", "issuer_mode", "authorization_flow", "invalidation_flow",
	}},
	"SAMLProvider": {model: "SAMLProvider", keys: []string{
		"acs_url", "audience", "issuer", "issuer_override", "sp_binding", "sign_assertion", "sign_response",
		"default_relay_state", "signing_kp", "property_mappings", "authorization_flow", "invalidation_flow",
	}},
	"LDAPProvider": {model: "LDAPProvider", keys: []string{
		"base_dn", "authorization_flow", "invalidation_flow", "bind_mode", "search_mode", "mfa_support",
		"certificate", "tls_server_name", "uid_start_number", "gid_start_number",
	}},
	"Application": {model: "Application", keys: []string{
		"provider", "group", "policy_engine_mode", "meta_launch_url",
		"meta_description", "meta_publisher", "meta_icon", "open_in_new_tab",
	}},
	"Group":               {model: "Group", keys: []string{"parents", "is_superuser", "attributes"}},
	"Outpost":             {model: "Outpost", keys: []string{"type", "config", "service_connection", "providers"}},
	"OutpostBinding":      {model: "Outpost", keys: []string{"providers"}},
	"PolicyBinding":       {model: "PolicyBinding", keys: []string{"order", "policy", "group", "user", "negate", "enabled", "timeout"}},
	"ExpressionPolicy":    {model: "ExpressionPolicy", keys: []string{"expression", "execution_logging"}},
	"ScopeMapping":        {model: "ScopeMapping", keys: []string{"scope_name", "expression", "description"}},
	"SAMLPropertyMapping": {model: "SAMLPropertyMapping", keys: []string{"saml_name", "friendly_name", "expression"}},
	"User":                {model: "User", keys: []string{"name", "email", "type", "is_active", "path", "attributes"}},
	"GroupMembership":     {model: "Group", keys: []string{"users"}},
	"CertificateKeyPair": {model: "CertificateKeyPair", keys: []string{
		"certificate_data", "key_data", "fingerprint_sha256", "private_key_available",
	}},
}

// kindOf names the kind of a managed resource as managedModels does; ""
// for anything else.
func kindOf(mg resource.Managed) string {
	switch mg.(type) {
	case *v1alpha1.ProxyProvider:
		return "ProxyProvider"
	case *v1alpha1.OAuth2Provider:
		return "OAuth2Provider"
	case *v1alpha1.SAMLProvider:
		return "SAMLProvider"
	case *v1alpha1.LDAPProvider:
		return "LDAPProvider"
	case *v1alpha1.Application:
		return "Application"
	case *v1alpha1.Group:
		return "Group"
	case *v1alpha1.Outpost:
		return "Outpost"
	case *v1alpha1.OutpostBinding:
		return "OutpostBinding"
	case *v1alpha1.PolicyBinding:
		return "PolicyBinding"
	case *v1alpha1.ExpressionPolicy:
		return "ExpressionPolicy"
	case *v1alpha1.ScopeMapping:
		return "ScopeMapping"
	case *v1alpha1.SAMLPropertyMapping:
		return "SAMLPropertyMapping"
	case *v1alpha1.User:
		return "User"
	case *v1alpha1.GroupMembership:
		return "GroupMembership"
	case *v1alpha1.CertificateKeyPair:
		return "CertificateKeyPair"
	}
	return ""
}

// A reader is who reads a response: a client for a managed resource needs
// the keys its kind manages and every model's identity keys; a client for
// no kind in particular needs every key any kind manages.
type reader struct {
	kind string
}

// needs tells whether the reader relies on key of model.
func (r reader) needs(model, key string) bool {
	if strings.HasPrefix(model, "Paginated") && (key == "results" || key == "pagination") {
		return true
	}
	if slices.Contains(identityKeys[model], key) {
		return true
	}
	return r.manages(model, key)
}

// manages tells whether key of model is one a managed kind the reader
// works for sets, as opposed to an identity key or a list envelope.
func (r reader) manages(model, key string) bool {
	for kind, m := range managedModels {
		if (r.kind == "" || r.kind == kind) && m.model == model && slices.Contains(m.keys, key) {
			return true
		}
	}
	return false
}

// responseModelOf finds the schema model of the response to method on path
// (the URL path, which may have a prefix before /api/v3).
func responseModelOf(method, path string) string {
	r, ok := routeOf(path, func(r responseRoute) bool { return r.method == method })
	if !ok {
		return ""
	}
	return r.model
}

// routeOf finds the known route that path (a URL path, which may have a
// prefix before /api/v3) matches, among those accept takes. A literal
// segment (default_settings/) wins over a templated one ({id}/).
func routeOf(path string, accept func(responseRoute) bool) (responseRoute, bool) {
	i := strings.Index(path, APIPath+"/")
	if i < 0 {
		return responseRoute{}, false
	}
	segments := strings.Split(strings.Trim(path[i+len(APIPath):], "/"), "/")
	var best responseRoute
	bestLiterals := -1
	for _, r := range responseRoutes {
		if !accept(r) {
			continue
		}
		want := strings.Split(strings.Trim(r.path, "/"), "/")
		if len(want) != len(segments) {
			continue
		}
		literals, ok := 0, true
		for j, w := range want {
			switch {
			case strings.HasPrefix(w, "{"):
			case w == segments[j]:
				literals++
			default:
				ok = false
			}
		}
		if ok && literals > bestLiterals {
			best, bestLiterals = r, literals
		}
	}
	return best, bestLiterals >= 0
}

// tolerantTransport rewrites 2xx JSON responses so that the generated client
// decodes what it can do without; see the comment at the top of this file.
type tolerantTransport struct {
	next   http.RoundTripper
	reader reader
}

func (t *tolerantTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 200 || resp.StatusCode > 299 || !isJSON(resp.Header) {
		return resp, err
	}
	model := responseModelOf(req.Method, req.URL.Path)
	if model == "" {
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	body = t.reader.tolerate(model, body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func isJSON(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// tolerate returns body with what the provider can do without made
// decodable; a body that is not a JSON object is returned as it is, for
// the client to report.
func (r reader) tolerate(model string, body []byte) []byte {
	obj, ok := decodeObject(body)
	if !ok {
		return body
	}
	if !r.tolerateObject(model, obj, false) {
		return body
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return body
	}
	return out
}

func decodeObject(body []byte) (map[string]any, bool) {
	d := json.NewDecoder(bytes.NewReader(body))
	// Numbers stay as written: ids must not pass through float64.
	d.UseNumber()
	var obj map[string]any
	if err := d.Decode(&obj); err != nil || obj == nil {
		return nil, false
	}
	return obj, true
}

// tolerateObject rewrites one object of model in place and reports whether
// it changed anything. managed says the object is held by a key the reader
// manages, so that every key of it is needed.
func (r reader) tolerateObject(model string, obj map[string]any, managed bool) bool {
	m, ok := responseModels[model]
	if !ok {
		return false
	}
	changed := false
	for key, p := range m.properties {
		v, present := obj[key]
		need := managed || r.needs(model, key)
		holdsManaged := managed || r.manages(model, key)
		switch {
		case !need && (!present && p.required || present && v == nil && !p.nullable):
			obj[key] = r.emptyValue(p)
			changed = true
		case !present || v == nil:
		case need && p.enum != "":
			// Left for the decode to refuse and responseProblems to name.
		case p.enum != "" && p.list:
			if known, dropped := knownValues(p.enum, v); dropped {
				obj[key] = known
				changed = true
			}
		case p.enum != "":
			if s, isString := v.(string); !isString || !slices.Contains(responseEnums[p.enum], s) {
				obj[key] = r.emptyValue(p)
				changed = true
			}
		case p.model != "" && p.list:
			items, _ := v.([]any)
			for _, it := range items {
				if o, isObject := it.(map[string]any); isObject {
					changed = r.tolerateObject(p.model, o, holdsManaged) || changed
				}
			}
		case p.model != "":
			if o, isObject := v.(map[string]any); isObject {
				changed = r.tolerateObject(p.model, o, holdsManaged) || changed
			}
		}
	}
	return changed
}

// emptyValue is what stands in for a property the response lacks: null where
// the client takes null, else an empty list, a model with its own required
// keys filled, or the first value of an enum.
func (r reader) emptyValue(p responseProperty) any {
	switch {
	case p.nullable:
		return nil
	case p.list:
		return []any{}
	case p.model != "":
		o := map[string]any{}
		r.tolerateObject(p.model, o, false)
		return o
	case p.enum != "" && len(responseEnums[p.enum]) > 0:
		return responseEnums[p.enum][0]
	}
	return nil
}

// knownValues drops the values of a list of enum values that the client
// does not know.
func knownValues(enum string, v any) ([]any, bool) {
	items, _ := v.([]any)
	known := make([]any, 0, len(items))
	for _, it := range items {
		if s, ok := it.(string); ok && slices.Contains(responseEnums[enum], s) {
			known = append(known, it)
		}
	}
	return known, len(known) != len(items)
}

// responseProblems explains why a 2xx response could not be decoded, by the
// keys the provider needs: each that is missing or holds a value the
// client does not know, with that value. Keys of list items are named by
// the key alone, as the resource's fields are.
func (r reader) responseProblems(method, path string, body []byte) map[string]string {
	model := responseModelOf(method, path)
	obj, ok := decodeObject(body)
	if model == "" || !ok {
		return nil
	}
	problems := map[string]string{}
	r.collectProblems(model, obj, false, problems)
	if len(problems) == 0 {
		return nil
	}
	return problems
}

func (r reader) collectProblems(model string, obj map[string]any, managed bool, problems map[string]string) {
	m := responseModels[model]
	keys := make([]string, 0, len(m.properties))
	for k := range m.properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		p := m.properties[key]
		v, present := obj[key]
		need := managed || r.needs(model, key)
		holdsManaged := managed || r.manages(model, key)
		switch {
		case need && !present && p.required:
			problems[key] = "Authentik's answer lacks it"
		case !present || v == nil:
		case need && p.enum != "" && !p.list:
			if s, isString := v.(string); !isString || !slices.Contains(responseEnums[p.enum], s) {
				problems[key] = fmt.Sprintf("Authentik answered %s, which this provider does not know (it knows %s)",
					jsonText(v), strings.Join(responseEnums[p.enum], ", "))
			}
		case p.model != "" && p.list:
			items, _ := v.([]any)
			for _, it := range items {
				if o, isObject := it.(map[string]any); isObject {
					r.collectProblems(p.model, o, holdsManaged, problems)
				}
			}
		case p.model != "":
			if o, isObject := v.(map[string]any); isObject {
				r.collectProblems(p.model, o, holdsManaged, problems)
			}
		}
	}
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Needs tells whether a client working for the given managed resource kind
// relies on key of the model that kind manages: a response that lacks it,
// or holds a value the client does not know in it, fails the read.
func Needs(kind, key string) bool {
	m, ok := managedModels[kind]
	return ok && reader{kind: kind}.needs(m.model, key)
}
