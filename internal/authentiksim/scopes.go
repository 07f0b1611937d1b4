package authentiksim

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// The component and names of ScopeMapping
// (authentik/providers/oauth2/models.py); its name is unique on the
// PropertyMapping base (authentik/core/models.py), whose verbose name DRF's
// unique message gives.
const (
	scopeMappingComponent      = "ak-property-mapping-provider-scope-form"
	scopeMappingVerbose        = "Scope Mapping"
	scopeMappingPlural         = "Scope Mappings"
	scopeMappingMetaModel      = "authentik_providers_oauth2.scopemapping"
	propertyMappingUniqueModel = "Property Mapping"
	// seededMappingExpression stands in for the code of the mappings
	// Authentik's blueprints make, which the simulator never evaluates.
	seededMappingExpression = "# Managed by authentik; the simulator does not evaluate expressions."
)

type scopeMappingJSON struct {
	PK                string  `json:"pk"`
	Managed           *string `json:"managed"`
	Name              string  `json:"name"`
	Expression        string  `json:"expression"`
	Component         string  `json:"component"`
	VerboseName       string  `json:"verbose_name"`
	VerboseNamePlural string  `json:"verbose_name_plural"`
	MetaModelName     string  `json:"meta_model_name"`
	ScopeName         string  `json:"scope_name"`
	Description       string  `json:"description"`
}

// renderScopeMapping is ScopeMappingSerializer
// (authentik/providers/oauth2/api/scopes.py).
func renderScopeMapping(m *scopeMapping) scopeMappingJSON {
	out := scopeMappingJSON{
		PK:                m.pk,
		Name:              m.name,
		Expression:        m.expression,
		Component:         scopeMappingComponent,
		VerboseName:       scopeMappingVerbose,
		VerboseNamePlural: scopeMappingPlural,
		MetaModelName:     scopeMappingMetaModel,
		ScopeName:         m.scopeName,
		Description:       m.description,
	}
	if m.managed != "" {
		managed := m.managed
		out.Managed = &managed
	}
	return out
}

// mappingNameTaken is the unique check on PropertyMapping.name: every
// property mapping type shares it (scope and SAML mappings, here).
func (st *state) mappingNameTaken(name, self string) bool {
	for _, m := range st.mappings {
		if m.name == name && m.pk != self {
			return true
		}
	}
	for _, m := range st.samlMappings {
		if m.name == name && m.pk != self {
			return true
		}
	}
	return false
}

// propertyMappingExists reports whether a property mapping of any type has
// the pk: Provider.property_mappings relates to the PropertyMapping base.
func (st *state) propertyMappingExists(pk string) bool {
	return st.mappings[pk] != nil || st.samlMappings[pk] != nil
}

// unbindPropertyMapping takes a deleted mapping off every provider, as
// Django does for the many-to-many Provider.property_mappings.
func (st *state) unbindPropertyMapping(pk string) {
	drop := func(pks []string) []string { return slices.DeleteFunc(pks, func(m string) bool { return m == pk }) }
	for p := range st.everyProvider() {
		p.propertyMappings = drop(p.propertyMappings)
	}
}

// bindScopeMapping applies and validates the body's fields as
// ScopeMappingSerializer does: name, scope_name and expression are
// required and may not be blank, description may. Its validate_expression
// compiles the expression as Python; the simulator cannot, so it accepts
// any non-blank expression and never runs it. managed is left alone: the
// provider never sends it.
func (st *state) bindScopeMapping(f *form, m *scopeMapping) {
	if v, ok := f.str("name", true, false); ok {
		if st.mappingNameTaken(v, m.pk) {
			f.errs.add("name", fmt.Sprintf(msgUnique, propertyMappingUniqueModel, "name"))
		} else {
			m.name = v
		}
	}
	if v, ok := f.str("scope_name", true, false); ok {
		m.scopeName = v
	}
	if v, ok := f.str("expression", true, false); ok {
		m.expression = v
	}
	if v, ok := f.str("description", false, true); ok {
		m.description = v
	}
}

func (st *state) mappingFromPath(c *call) *scopeMapping {
	return st.mappings[strings.ToLower(c.params["pm_uuid"])]
}

// listScopeMappings filters as ScopeMappingFilter does: managed (any of
// several values), managed__isnull, name and scope_name exactly, search on
// the name; ordered by name.
func listScopeMappings(st *state, c *call) reply {
	q := c.query
	items := []scopeMappingJSON{}
	for _, pk := range sortedKeys(st.mappings) {
		m := st.mappings[pk]
		if managed, ok := q["managed"]; ok && !slices.Contains(managed, m.managed) {
			continue
		}
		if !exact(q, "name", m.name) || !exact(q, "scope_name", m.scopeName) ||
			!boolMatches(q, "managed__isnull", m.managed == "") || !search(q, m.name) {
			continue
		}
		items = append(items, renderScopeMapping(m))
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return paginate(q, items)
}

func retrieveScopeMapping(st *state, c *call) reply {
	m := st.mappingFromPath(c)
	if m == nil {
		return notFound()
	}
	return reply{status: http.StatusOK, body: renderScopeMapping(m)}
}

func createScopeMapping(st *state, c *call) reply {
	f, bad := parseForm(c.body, false)
	if bad != nil {
		return *bad
	}
	m := &scopeMapping{pk: st.newUUID()}
	st.bindScopeMapping(f, m)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	st.mappings[m.pk] = m
	return reply{status: http.StatusCreated, body: renderScopeMapping(m)}
}

func updateScopeMapping(st *state, c *call) reply {
	stored := st.mappingFromPath(c)
	if stored == nil {
		return notFound()
	}
	f, bad := parseForm(c.body, c.partial)
	if bad != nil {
		return *bad
	}
	m := *stored
	st.bindScopeMapping(f, &m)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	*stored = m
	return reply{status: http.StatusOK, body: renderScopeMapping(stored)}
}

// destroyScopeMapping deletes the mapping and takes it off every provider.
func destroyScopeMapping(st *state, c *call) reply {
	m := st.mappingFromPath(c)
	if m == nil {
		return notFound()
	}
	delete(st.mappings, m.pk)
	st.unbindPropertyMapping(m.pk)
	return reply{status: http.StatusNoContent}
}
