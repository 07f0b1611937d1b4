package authentiksim

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// The component and names of SAMLPropertyMapping
// (authentik/providers/saml/models.py).
const (
	samlMappingComponent = "ak-property-mapping-provider-saml-form"
	samlMappingVerbose   = "SAML Provider Property Mapping"
	samlMappingPlural    = "SAML Provider Property Mappings"
	samlMappingMetaModel = "authentik_providers_saml.samlpropertymapping"
)

// samlMapping is a SAMLPropertyMapping row with its PropertyMapping base:
// saml_name is a TextField, friendly_name a TextField with null=True and
// blank=True.
type samlMapping struct {
	pk           string
	name         string
	managed      string
	expression   string
	samlName     string
	friendlyName *string
}

type samlMappingJSON struct {
	PK                string  `json:"pk"`
	Managed           *string `json:"managed"`
	Name              string  `json:"name"`
	Expression        string  `json:"expression"`
	Component         string  `json:"component"`
	VerboseName       string  `json:"verbose_name"`
	VerboseNamePlural string  `json:"verbose_name_plural"`
	MetaModelName     string  `json:"meta_model_name"`
	SAMLName          string  `json:"saml_name"`
	FriendlyName      *string `json:"friendly_name"`
}

// renderSAMLMapping is SAMLPropertyMappingSerializer
// (authentik/providers/saml/api/property_mappings.py): PropertyMapping's
// fields, which have not changed on any line the simulator speaks, and
// saml_name and friendly_name.
func renderSAMLMapping(m *samlMapping) samlMappingJSON {
	out := samlMappingJSON{
		PK:                m.pk,
		Name:              m.name,
		Expression:        m.expression,
		Component:         samlMappingComponent,
		VerboseName:       samlMappingVerbose,
		VerboseNamePlural: samlMappingPlural,
		MetaModelName:     samlMappingMetaModel,
		SAMLName:          m.samlName,
	}
	if m.friendlyName != nil {
		friendly := *m.friendlyName
		out.FriendlyName = &friendly
	}
	if m.managed != "" {
		managed := m.managed
		out.Managed = &managed
	}
	return out
}

// bindSAMLMapping applies and validates the body's fields as
// SAMLPropertyMappingSerializer does: name, saml_name and expression are
// required and may not be blank; friendly_name may be null or blank. The
// name is unique across every property mapping type (PropertyMapping.name
// in authentik/core/models.py). As for scope mappings, the expression is
// never compiled nor run.
func (st *state) bindSAMLMapping(f *form, m *samlMapping) {
	if v, ok := f.str("name", true, false); ok {
		if st.mappingNameTaken(v, m.pk) {
			f.errs.add("name", fmt.Sprintf(msgUnique, propertyMappingUniqueModel, "name"))
		} else {
			m.name = v
		}
	}
	if v, ok := f.str("saml_name", true, false); ok {
		m.samlName = v
	}
	if v, ok := f.str("expression", true, false); ok {
		m.expression = v
	}
	if f.has("friendly_name") && f.isNull("friendly_name") {
		m.friendlyName = nil
	} else if v, ok := f.str("friendly_name", false, true); ok {
		m.friendlyName = &v
	}
}

func (st *state) samlMappingFromPath(c *call) *samlMapping {
	return st.samlMappings[strings.ToLower(c.params["pm_uuid"])]
}

// listSAMLMappings filters as SAMLPropertyMappingFilter (a
// PropertyMappingFilterSet) does: managed, managed__isnull, name exactly,
// search on the name; ordered by name.
func listSAMLMappings(st *state, c *call) reply {
	q := c.query
	items := []samlMappingJSON{}
	for _, pk := range sortedKeys(st.samlMappings) {
		m := st.samlMappings[pk]
		if managed, ok := q["managed"]; ok && !slices.Contains(managed, m.managed) {
			continue
		}
		if !exact(q, "name", m.name) || !exact(q, "saml_name", m.samlName) ||
			!boolMatches(q, "managed__isnull", m.managed == "") || !search(q, m.name) {
			continue
		}
		items = append(items, renderSAMLMapping(m))
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return paginate(q, items)
}

func retrieveSAMLMapping(st *state, c *call) reply {
	m := st.samlMappingFromPath(c)
	if m == nil {
		return notFound()
	}
	return reply{status: http.StatusOK, body: renderSAMLMapping(m)}
}

func createSAMLMapping(st *state, c *call) reply {
	f, bad := parseForm(c.body, false)
	if bad != nil {
		return *bad
	}
	m := &samlMapping{pk: st.newUUID()}
	st.bindSAMLMapping(f, m)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	st.samlMappings[m.pk] = m
	return reply{status: http.StatusCreated, body: renderSAMLMapping(m)}
}

func updateSAMLMapping(st *state, c *call) reply {
	stored := st.samlMappingFromPath(c)
	if stored == nil {
		return notFound()
	}
	f, bad := parseForm(c.body, c.partial)
	if bad != nil {
		return *bad
	}
	m := *stored
	st.bindSAMLMapping(f, &m)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	*stored = m
	return reply{status: http.StatusOK, body: renderSAMLMapping(stored)}
}

// destroySAMLMapping deletes the mapping and takes it off every provider,
// as for a scope mapping.
func destroySAMLMapping(st *state, c *call) reply {
	m := st.samlMappingFromPath(c)
	if m == nil {
		return notFound()
	}
	delete(st.samlMappings, m.pk)
	st.unbindPropertyMapping(m.pk)
	return reply{status: http.StatusNoContent}
}
