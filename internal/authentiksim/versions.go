package authentiksim

import (
	"encoding/json"
	"path"
	"slices"
	"strings"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

// DefaultVersion is the release line the simulator speaks unless told
// otherwise: the one whose schema ships in goauthentik.io/api/v3.
const DefaultVersion = "2026.5"

const errUnknownVersion = "unknown Authentik release line"

// A Line is an Authentik release line the simulator can speak.
type Line struct {
	// Name is the line as users name it, for example "2025.10".
	Name string
	// Release is the patch release whose published schema the line's
	// differences were read from; the simulator reports it as its version.
	Release string
}

// Lines are the release lines the simulator speaks, oldest first. The
// differences between them are in lineDifferences.
var Lines = []Line{
	{Name: "2024.12", Release: "2024.12.3"},
	{Name: "2025.2", Release: "2025.2.4"},
	{Name: "2025.4", Release: "2025.4.4"},
	{Name: "2025.6", Release: "2025.6.4"},
	{Name: "2025.8", Release: "2025.8.6"},
	{Name: "2025.10", Release: "2025.10.4"},
	{Name: "2025.12", Release: "2025.12.4"},
	{Name: "2026.2", Release: "2026.2.2"},
	{Name: "2026.5", Release: "2026.5.3"},
	{Name: "2026.8", Release: "2026.8.3"},
}

// LineNames returns the names of every line the simulator speaks, oldest first.
func LineNames() []string {
	out := make([]string, 0, len(Lines))
	for _, l := range Lines {
		out = append(out, l.Name)
	}
	return out
}

// LookupLine finds a line by its name ("2025.10") or by a release of it
// ("2025.10.4"); "" is DefaultVersion.
func LookupLine(version string) (Line, error) {
	if version == "" {
		version = DefaultVersion
	}
	for _, l := range Lines {
		if version == l.Name || strings.HasPrefix(version, l.Name+".") {
			return l, nil
		}
	}
	return Line{}, errors.Errorf("%s %q; the simulator speaks %s", errUnknownVersion, version, strings.Join(LineNames(), ", "))
}

// index orders lines; Lines is sorted oldest first.
func (l Line) index() int {
	return slices.IndexFunc(Lines, func(o Line) bool { return o.Name == l.Name })
}

// A changeKind says how a line's responses differ from what the 2026.5
// schema describes.
type changeKind int

const (
	// omitted keys are not sent at all, although 2026.5 requires them.
	omitted changeKind = iota
	// emptyAsNull keys are sent as null where 2026.5 sends an empty string
	// and does not allow null.
	emptyAsNull
)

// A difference is one way the lines from first to last (inclusive) answer
// differently from the 2026.5 schema, for the objects of one schema model.
type difference struct {
	first, last string
	// model is a schema component name; a path.Match pattern so that one
	// entry covers every list envelope.
	model string
	keys  []string
	kind  changeKind
}

// lineDifferences is every difference the simulator knows between the
// lines it speaks and the 2026.5 schema, read from the schemas Authentik
// published for each release (goauthentik/client-go api/openapi.yaml at the
// release's tag; see ../shared/authentik-versions.md). It is the one place
// that knows them: responses are shaped by it and the schema check
// tolerates exactly what it lists.
var lineDifferences = []difference{
	// The list envelope, authentik/api/pagination.py.
	{first: "2024.12", last: "2025.6", model: "Paginated*List", keys: []string{"autocomplete"}, kind: omitted},
	// FlowSerializer, authentik/flows/api/flows.py.
	{first: "2024.12", last: "2025.10", model: "Flow", keys: []string{"background_url", "background_themed_urls"}, kind: omitted},
	// ApplicationSerializer, authentik/core/api/applications.py: before the
	// icon URL fields, an application without an icon had a null meta_icon.
	{first: "2024.12", last: "2025.10", model: "Application", keys: []string{"meta_icon_url", "meta_icon_themed_urls"}, kind: omitted},
	{first: "2024.12", last: "2025.10", model: "Application", keys: []string{"meta_icon"}, kind: emptyAsNull},
	// GroupSerializer, authentik/core/api/groups.py: children_obj came in
	// 2025.8; children came with it but stayed optional until 2025.12.
	{first: "2024.12", last: "2025.10", model: "Group", keys: []string{"parents_obj", "inherited_roles_obj", "children"}, kind: omitted},
	{first: "2024.12", last: "2025.6", model: "Group", keys: []string{"children_obj"}, kind: omitted},
	// UserSerializer, authentik/core/api/users.py: date_joined came in
	// 2025.2, last_updated in 2025.8, roles and roles_obj in 2025.12.
	{first: "2024.12", last: "2024.12", model: "User", keys: []string{"date_joined"}, kind: omitted},
	{first: "2024.12", last: "2025.6", model: "User", keys: []string{"last_updated"}, kind: omitted},
	{first: "2024.12", last: "2025.10", model: "User", keys: []string{"roles", "roles_obj"}, kind: omitted},
	// ProviderSerializer, authentik/core/api/providers.py: 2026.8 made a
	// provider's flows optional and nullable.
	{first: "2026.8", last: "2026.8", model: "Provider", keys: []string{"authorization_flow", "invalidation_flow"}, kind: emptyAsNull},
	{first: "2026.8", last: "2026.8", model: "ProxyProvider", keys: []string{"authorization_flow", "invalidation_flow"}, kind: emptyAsNull},
	{first: "2026.8", last: "2026.8", model: "OAuth2Provider", keys: []string{"authorization_flow", "invalidation_flow"}, kind: emptyAsNull},
	{first: "2026.8", last: "2026.8", model: "LDAPProvider", keys: []string{"authorization_flow", "invalidation_flow"}, kind: emptyAsNull},
	{first: "2026.8", last: "2026.8", model: "SAMLProvider", keys: []string{"authorization_flow", "invalidation_flow"}, kind: emptyAsNull},
	// SAMLProviderSerializer, authentik/providers/saml/api/providers.py:
	// authn_context_class_ref_mapping came in 2025.2, default_name_id_policy
	// in 2025.8, the single logout fields in 2025.10, sign_logout_response
	// and the unified and issuer URLs in 2026.5 (which renamed issuer to
	// issuer_override: see samlIssuerOverride).
	{first: "2024.12", last: "2024.12", model: "SAMLProvider", keys: []string{"authn_context_class_ref_mapping"}, kind: omitted},
	{first: "2024.12", last: "2025.6", model: "SAMLProvider", keys: []string{"default_name_id_policy"}, kind: omitted},
	{first: "2024.12", last: "2025.8", model: "SAMLProvider", keys: []string{"sls_url", "sls_binding", "logout_method", "sign_logout_request"}, kind: omitted},
	{first: "2024.12", last: "2026.2", model: "SAMLProvider", keys: []string{"sign_logout_response", "url_issuer", "url_unified", "url_unified_init"}, kind: omitted},
	// CertificateKeyPairSerializer, authentik/crypto/api.py: key_type
	// replaced private_key_type in 2025.12.
	{first: "2024.12", last: "2025.10", model: "CertificateKeyPair", keys: []string{"key_type"}, kind: omitted},
}

// covers tells whether the difference applies to line l.
func (d difference) covers(l Line) bool {
	first, _ := LookupLine(d.first)
	last, _ := LookupLine(d.last)
	i := l.index()
	return i >= first.index() && i <= last.index()
}

func (d difference) appliesTo(model string) bool {
	ok, _ := path.Match(d.model, model)
	return ok
}

// keys returns the keys of model that l changes in the given way.
func (l Line) keys(model string, kind changeKind) []string {
	var out []string
	for _, d := range lineDifferences {
		if d.kind == kind && d.covers(l) && d.appliesTo(model) {
			out = append(out, d.keys...)
		}
	}
	return out
}

// tolerates tells whether the 2026.5 schema's complaint about key of model
// (a missing key, or a null) is what line l really sends.
func (l Line) tolerates(model, key string, kind changeKind) bool {
	return slices.Contains(l.keys(model, kind), key)
}

// shape rewrites a response body rendered the 2026.5 way into what line l
// sends: model is the response's schema model, and list says the body is a
// list envelope of such objects.
func (l Line) shape(model string, list bool, body []byte) ([]byte, error) {
	if model == "" || len(body) == 0 {
		return body, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, err
	}
	changed := false
	if list {
		changed = l.shapeObject(obj, "Paginated"+model+"List")
		var results []map[string]json.RawMessage
		if err := json.Unmarshal(obj["results"], &results); err != nil {
			return nil, err
		}
		resultsChanged := false
		for _, r := range results {
			resultsChanged = l.shapeObject(r, model) || resultsChanged
		}
		if resultsChanged {
			raw, err := json.Marshal(results)
			if err != nil {
				return nil, err
			}
			obj["results"] = raw
			changed = true
		}
	} else {
		changed = l.shapeObject(obj, model)
	}
	if !changed {
		return body, nil
	}
	return json.Marshal(obj)
}

var (
	jsonNull        = json.RawMessage("null")
	jsonEmptyString = `""`
)

func (l Line) shapeObject(obj map[string]json.RawMessage, model string) bool {
	changed := false
	for _, k := range l.keys(model, omitted) {
		if _, ok := obj[k]; ok {
			delete(obj, k)
			changed = true
		}
	}
	for _, k := range l.keys(model, emptyAsNull) {
		if string(obj[k]) == jsonEmptyString {
			obj[k] = jsonNull
			changed = true
		}
	}
	return changed
}
