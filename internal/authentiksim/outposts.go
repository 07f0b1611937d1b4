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

const (
	outpostTypeProxy  = "proxy"
	outpostTypeLDAP   = "ldap"
	outpostTypeRadius = "radius"
	outpostTypeRAC    = "rac"

	// Messages from authentik/outposts/api/outposts.py.
	msgEmbeddedRename = "Embedded outpost's name cannot be changed"
	msgOutpostType    = "Outpost type %s can't be used with %s providers."
	msgBadConfig      = "Failed to validate config: %s"
	msgConfigType     = "wrong value type for field \"%s\" - should be \"%s\" instead of value \"%v\" of type \"%s\""
	msgBadFilterPK    = "Select a valid choice. %s is not one of the available choices."

	defaultRefreshInterval = "minutes=5"
)

type outpostJSON struct {
	PK                   string         `json:"pk"`
	Name                 string         `json:"name"`
	Type                 string         `json:"type"`
	Providers            []int32        `json:"providers"`
	ProvidersObj         []providerJSON `json:"providers_obj"`
	ServiceConnection    *string        `json:"service_connection"`
	ServiceConnectionObj *struct{}      `json:"service_connection_obj"`
	RefreshIntervalS     int64          `json:"refresh_interval_s"`
	TokenIdentifier      string         `json:"token_identifier"`
	Config               map[string]any `json:"config"`
	Managed              *string        `json:"managed"`
}

// defaultOutpostConfig is asdict(OutpostConfig(authentik_host=host)) from
// authentik/outposts/models.py, with the log level and namespace an install
// in the "authentik" namespace has.
func defaultOutpostConfig(host string) map[string]any {
	return map[string]any{ //nolint:gosec // Outpost settings, no credentials.
		"authentik_host":                   host,
		"authentik_host_insecure":          false,
		"authentik_host_browser":           "",
		"log_level":                        "info",
		"object_naming_template":           "ak-outpost-%(name)s",
		"refresh_interval":                 defaultRefreshInterval,
		"container_image":                  nil,
		"docker_network":                   nil,
		"docker_map_ports":                 true,
		"docker_labels":                    nil,
		"kubernetes_replicas":              1,
		"kubernetes_namespace":             "authentik",
		"kubernetes_ingress_annotations":   map[string]any{},
		"kubernetes_ingress_secret_name":   "authentik-outpost-tls",
		"kubernetes_ingress_class_name":    nil,
		"kubernetes_ingress_path_type":     nil,
		"kubernetes_httproute_annotations": map[string]any{},
		"kubernetes_httproute_parent_refs": []any{},
		"kubernetes_service_type":          "ClusterIP",
		"kubernetes_disabled_components":   []any{},
		"kubernetes_image_pull_secrets":    []any{},
		"kubernetes_json_patches":          nil,
	}
}

// configKind is how dacite checks one OutpostConfig field.
type configKind struct {
	python   string // the type as dacite names it in errors
	check    func(any) bool
	nullable bool
}

func isString(v any) bool { _, ok := v.(string); return ok }
func isBool(v any) bool   { _, ok := v.(bool); return ok }
func isDict(v any) bool   { _, ok := v.(map[string]any); return ok }
func isList(v any) bool   { _, ok := v.([]any); return ok }

// isInt accepts JSON integers and, as Python's isinstance(True, int) does,
// booleans.
func isInt(v any) bool {
	switch n := v.(type) {
	case float64:
		return n == float64(int64(n))
	case bool:
		return true
	}
	return false
}

var outpostConfigKinds = map[string]configKind{
	"authentik_host":                   {python: "str", check: isString},
	"authentik_host_insecure":          {python: "bool", check: isBool},
	"authentik_host_browser":           {python: "str", check: isString},
	"log_level":                        {python: "str", check: isString},
	"object_naming_template":           {python: "str", check: isString},
	"refresh_interval":                 {python: "str", check: isString},
	"container_image":                  {python: "str | None", check: isString, nullable: true},
	"docker_network":                   {python: "str | None", check: isString, nullable: true},
	"docker_map_ports":                 {python: "bool", check: isBool},
	"docker_labels":                    {python: "dict[str, str] | None", check: isDict, nullable: true},
	"kubernetes_replicas":              {python: "int", check: isInt},
	"kubernetes_namespace":             {python: "str", check: isString},
	"kubernetes_ingress_annotations":   {python: "dict[str, str]", check: isDict},
	"kubernetes_ingress_secret_name":   {python: "str", check: isString},
	"kubernetes_ingress_class_name":    {python: "str | None", check: isString, nullable: true},
	"kubernetes_ingress_path_type":     {python: "str | None", check: isString, nullable: true},
	"kubernetes_httproute_annotations": {python: "dict[str, str]", check: isDict},
	"kubernetes_httproute_parent_refs": {python: "list[dict[str, str]]", check: isList},
	"kubernetes_service_type":          {python: "str", check: isString},
	"kubernetes_disabled_components":   {python: "list[str]", check: isList},
	"kubernetes_image_pull_secrets":    {python: "list[str]", check: isList},
	"kubernetes_json_patches":          {python: "dict[str, list[dict[str, typing.Any]]] | None", check: isDict, nullable: true},
}

func pythonTypeName(v any) string {
	switch n := v.(type) {
	case nil:
		return "NoneType"
	case string:
		return "str"
	case bool:
		return "bool"
	case float64:
		if n == float64(int64(n)) {
			return "int"
		}
		return "float"
	case map[string]any:
		return "dict"
	case []any:
		return "list"
	}
	return fmt.Sprintf("%T", v)
}

// checkOutpostConfig is OutpostSerializer.validate_config: dacite's
// from_dict(OutpostConfig, config), which fills missing keys with defaults,
// ignores unknown keys and rejects wrong types, then the refresh interval's
// duration syntax.
func checkOutpostConfig(config map[string]any) string {
	keys := make([]string, 0, len(config))
	for k := range config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kind, known := outpostConfigKinds[k]
		v := config[k]
		if !known || (v == nil && kind.nullable) || (v != nil && kind.check(v)) {
			continue
		}
		return fmt.Sprintf(msgBadConfig, fmt.Sprintf(msgConfigType, k, kind.python, v, pythonTypeName(v)))
	}
	if ri, ok := config["refresh_interval"].(string); ok {
		if _, valid := parseTimedelta(ri); !valid {
			return fmt.Sprintf(msgBadTimedelta, ri)
		}
	}
	return ""
}

func refreshIntervalSeconds(config map[string]any) int64 {
	ri, ok := config["refresh_interval"].(string)
	if !ok {
		ri = defaultRefreshInterval
	}
	secs, _ := parseTimedelta(ri)
	return int64(secs)
}

func (o *outpost) isEmbedded() bool {
	return o.managed != nil && *o.managed == embeddedOutpostManaged
}

func (st *state) renderOutpost(o *outpost) outpostJSON {
	providers := append([]int32{}, o.providers...)
	slices.Sort(providers)
	out := outpostJSON{
		PK:                o.pk,
		Name:              o.name,
		Type:              o.kind,
		Providers:         providers,
		ProvidersObj:      []providerJSON{},
		ServiceConnection: o.serviceConnection,
		RefreshIntervalS:  refreshIntervalSeconds(o.config),
		TokenIdentifier:   "ak-outpost-" + o.pk + "-api",
		Config:            o.config,
		Managed:           o.managed,
	}
	for _, pk := range providers {
		view, _, _ := st.providerView(pk)
		out.ProvidersObj = append(out.ProvidersObj, view)
	}
	return out
}

// bindOutpost applies and validates the body's fields as OutpostSerializer
// does. stored is nil on create.
func (st *state) bindOutpost(f *form, o *outpost, stored *outpost) {
	if v, ok := f.str("name", true, false); ok {
		switch {
		case st.outpostNameTaken(v, o.pk):
			f.errs.add("name", fmt.Sprintf(msgUnique, "Outpost", "name"))
		case stored != nil && stored.isEmbedded() && v != embeddedOutpostName:
			f.errs.add("name", msgEmbeddedRename)
		default:
			o.name = v
		}
	}
	// OutpostSerializer makes type required although the model has a default.
	if f.present("type", true) {
		if v, ok := f.choice("type", outpostTypeProxy, outpostTypeLDAP, outpostTypeRadius, outpostTypeRAC); ok {
			o.kind = v
		}
	}
	if v, ok := f.intRefs("providers", true, st.providerExists); ok {
		if msg := st.checkOutpostProviders(f, v, stored); msg != "" {
			f.errs.add("providers", msg)
		} else {
			o.providers = v
		}
	}
	// No service connections are simulated: any reference is to a missing
	// object.
	if v, ok := f.uuidRef("service_connection", false, true, func(string) bool { return false }); ok {
		o.serviceConnection = v
	}
	if v, ok := f.object("config", true); ok {
		if msg := checkOutpostConfig(v); msg != "" {
			f.errs.add("config", msg)
		} else {
			o.config = v
		}
	}
	if f.has("managed") {
		if v, ok := f.nullableStr("managed"); ok {
			if v != nil && st.managedTaken(*v, o.pk) {
				f.errs.add("managed", fmt.Sprintf(msgUnique, "Outpost", "Managed by authentik"))
			} else {
				o.managed = v
			}
		}
	}
}

// outpostClasses is validate_providers' type_map: the provider class each
// outpost type takes. No simulated provider is a Radius or RAC provider.
var outpostClasses = map[string]string{
	outpostTypeProxy:  classProxyProvider,
	outpostTypeLDAP:   classLDAPProvider,
	outpostTypeRadius: "RadiusProvider",
	outpostTypeRAC:    "RACProvider",
}

// checkOutpostProviders is validate_providers: the type check only runs
// when the body carries a type (it reads initial_data; without one any
// provider passes), and only the embedded outpost may have no providers.
func (st *state) checkOutpostProviders(f *form, providers []int32, stored *outpost) string {
	if t, ok := f.rawString("type"); ok {
		for _, pk := range providers {
			if _, class, _ := st.providerView(pk); class != outpostClasses[t] {
				return fmt.Sprintf(msgOutpostType, t, class)
			}
		}
	}
	if stored != nil && stored.isEmbedded() {
		return ""
	}
	if len(providers) < 1 {
		return msgEmptyList
	}
	return ""
}

func (st *state) outpostNameTaken(name, self string) bool {
	for _, o := range st.outposts {
		if o.name == name && o.pk != self {
			return true
		}
	}
	return false
}

func (st *state) managedTaken(managed, self string) bool {
	for _, o := range st.outposts {
		if o.managed != nil && *o.managed == managed && o.pk != self {
			return true
		}
	}
	return false
}

// providersByPK reads the providers_by_pk filter; django-filter refuses
// keys of providers that do not exist.
func (st *state) providersByPK(q url.Values) ([]int32, *reply) {
	var out []int32
	for _, v := range q["providers_by_pk"] {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || !st.providerExists(int32(n)) {
			r := invalid(fieldErrors{"providers_by_pk": {fmt.Sprintf(msgBadFilterPK, v)}})
			return nil, &r
		}
		out = append(out, int32(n))
	}
	return out, nil
}

func listOutposts(st *state, c *call) reply {
	q := c.query
	byPK, bad := st.providersByPK(q)
	if bad != nil {
		return *bad
	}
	items := []outpostJSON{}
	for _, pk := range sortedKeys(st.outposts) {
		o := st.outposts[pk]
		managed := ""
		if o.managed != nil {
			managed = *o.managed
		}
		names := []string{o.name}
		for _, p := range o.providers {
			view, _, _ := st.providerView(p)
			names = append(names, view.Name)
		}
		if !iexact(q, "name__iexact", o.name) || !icontains(q, "name__icontains", o.name) ||
			!iexact(q, "managed__iexact", managed) || !icontains(q, "managed__icontains", managed) ||
			!boolMatches(q, "providers__isnull", len(o.providers) == 0) ||
			!search(q, strings.Join(names, "\n")) {
			continue
		}
		// Outposts that serve the named providers; several keys mean any.
		if len(byPK) > 0 && !slices.ContainsFunc(byPK, func(p int32) bool { return slices.Contains(o.providers, p) }) {
			continue
		}
		// Service connections are not simulated, so no outpost has one.
		if _, ok := q["service_connection__name__iexact"]; ok {
			continue
		}
		if _, ok := q["service_connection__name__icontains"]; ok {
			continue
		}
		items = append(items, st.renderOutpost(o))
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return paginate(q, items)
}

func retrieveOutpost(st *state, c *call) reply {
	o := st.outposts[strings.ToLower(c.params["uuid"])]
	if o == nil {
		return notFound()
	}
	return reply{status: http.StatusOK, body: st.renderOutpost(o)}
}

func createOutpost(st *state, c *call) reply {
	f, bad := parseForm(c.body, false)
	if bad != nil {
		return *bad
	}
	o := &outpost{pk: st.newUUID(), kind: outpostTypeProxy, providers: []int32{}, config: defaultOutpostConfig(c.baseURL)}
	st.bindOutpost(f, o, nil)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	st.outposts[o.pk] = o
	return reply{status: http.StatusCreated, body: st.renderOutpost(o)}
}

// updateOutpost serves PUT and PATCH. There is no way to add one provider:
// clients replace the whole list, and without any concurrency control two
// clients that read the same list and write their own version lose one
// update.
func updateOutpost(st *state, c *call) reply {
	stored := st.outposts[strings.ToLower(c.params["uuid"])]
	if stored == nil {
		return notFound()
	}
	f, bad := parseForm(c.body, c.partial)
	if bad != nil {
		return *bad
	}
	o := *stored
	st.bindOutpost(f, &o, stored)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	*stored = o
	return reply{status: http.StatusOK, body: st.renderOutpost(stored)}
}

func destroyOutpost(st *state, c *call) reply {
	pk := strings.ToLower(c.params["uuid"])
	if st.outposts[pk] == nil {
		return notFound()
	}
	delete(st.outposts, pk)
	return reply{status: http.StatusNoContent}
}

func outpostDefaultSettings(_ *state, c *call) reply {
	return reply{status: http.StatusOK, body: map[string]any{"config": defaultOutpostConfig(c.baseURL)}}
}
