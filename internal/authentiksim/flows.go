package authentiksim

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// flowBackgroundURL is where Authentik serves the stock flow background.
const flowBackgroundURL = "/static/dist/assets/images/flow_background.jpg"

type flowJSON struct {
	PK                    string          `json:"pk"`
	PolicyBindingModelPtr string          `json:"policybindingmodel_ptr_id"`
	Name                  string          `json:"name"`
	Slug                  string          `json:"slug"`
	Title                 string          `json:"title"`
	Designation           string          `json:"designation"`
	Background            string          `json:"background"`
	BackgroundURL         string          `json:"background_url"`
	BackgroundThemedURLs  *themedURLsJSON `json:"background_themed_urls"`
	Stages                []string        `json:"stages"`
	Policies              []string        `json:"policies"`
	CacheCount            int             `json:"cache_count"`
	PolicyEngineMode      string          `json:"policy_engine_mode"`
	CompatibilityMode     bool            `json:"compatibility_mode"`
	ExportURL             string          `json:"export_url"`
	Layout                string          `json:"layout"`
	DeniedAction          string          `json:"denied_action"`
	Authentication        string          `json:"authentication"`
}

func (st *state) renderFlow(f *flow) flowJSON {
	policies := []string{}
	for _, pk := range sortedKeys(st.bindings) {
		if b := st.bindings[pk]; b.target == f.pk && b.policy != nil {
			policies = append(policies, *b.policy)
		}
	}
	background := flowBackgroundURL
	if f.background != "" {
		background = f.background
	}
	return flowJSON{
		PK:                    f.pk,
		PolicyBindingModelPtr: f.pk,
		Name:                  f.name,
		Slug:                  f.slug,
		Title:                 f.title,
		Designation:           f.designation,
		Background:            f.background,
		BackgroundURL:         background,
		Stages:                []string{},
		Policies:              policies,
		PolicyEngineMode:      f.engineMode,
		CompatibilityMode:     f.compatibility,
		ExportURL:             apiPrefix + "/flows/instances/" + f.slug + "/export/",
		Layout:                f.layout,
		DeniedAction:          f.deniedAction,
		Authentication:        f.authentication,
	}
}

var (
	flowDesignations    = []string{"authentication", "authorization", "invalidation", "enrollment", "unenrollment", "recovery", "stage_configuration"}
	flowLayouts         = []string{"stacked", "content_left", "content_right", "sidebar_left", "sidebar_right", "sidebar_left_frame_background", "sidebar_right_frame_background"}
	flowDeniedActions   = []string{"message_continue", "message", "continue"}
	flowAuthentications = []string{"none", "require_authenticated", "require_unauthenticated", "require_superuser", "require_redirect", "require_outpost", "require_token"}
)

// listFlows orders by slug, as FlowViewSet does.
func listFlows(st *state, c *call) reply {
	q := c.query
	items := []flowJSON{}
	for _, pk := range sortedKeys(st.flows) {
		f := st.flows[pk]
		if !exact(q, "slug", f.slug) || !exact(q, "name", f.name) || !exact(q, "designation", f.designation) ||
			!exact(q, "denied_action", f.deniedAction) || !exact(q, "flow_uuid", f.pk) ||
			!search(q, f.name, f.slug, f.title) {
			continue
		}
		items = append(items, st.renderFlow(f))
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Slug < items[j].Slug })
	return paginate(q, items)
}

func retrieveFlow(st *state, c *call) reply {
	f := st.flowBySlug(c.params["slug"])
	if f == nil {
		return notFound()
	}
	return reply{status: http.StatusOK, body: st.renderFlow(f)}
}

// createFlow lets tests make a flow of their own to delete; the default
// flows are shared by everything a test creates.
func createFlow(st *state, c *call) reply {
	form, bad := parseForm(c.body, false)
	if bad != nil {
		return *bad
	}
	f := &flow{pk: st.newUUID(), layout: "stacked", deniedAction: "message_continue", engineMode: engineModeAny, authentication: "none"}
	if v, ok := form.str("name", true, false); ok {
		f.name = v
	}
	if v, ok := form.slug("slug", true); ok {
		if st.flowBySlug(v) != nil {
			form.errs.add("slug", fmt.Sprintf(msgUnique, "Flow", "slug"))
		} else {
			f.slug = v
		}
	}
	if v, ok := form.str("title", true, false); ok {
		f.title = v
	}
	if form.present("designation", true) {
		if v, ok := form.choice("designation", flowDesignations...); ok {
			f.designation = v
		}
	}
	if v, ok := form.str("background", false, true); ok {
		f.background = v
	}
	if v, ok := form.choice("policy_engine_mode", engineModeAll, engineModeAny); ok {
		f.engineMode = v
	}
	if v, ok := form.boolean("compatibility_mode"); ok {
		f.compatibility = v
	}
	if v, ok := form.choice("layout", flowLayouts...); ok {
		f.layout = v
	}
	if v, ok := form.choice("denied_action", flowDeniedActions...); ok {
		f.deniedAction = v
	}
	if v, ok := form.choice("authentication", flowAuthentications...); ok {
		f.authentication = v
	}
	if len(form.errs) > 0 {
		return invalid(form.errs)
	}
	st.flows[f.pk] = f
	return reply{status: http.StatusCreated, body: st.renderFlow(f)}
}

func destroyFlow(st *state, c *call) reply {
	f := st.flowBySlug(c.params["slug"])
	if f == nil {
		return notFound()
	}
	st.deleteFlow(f.pk)
	return reply{status: http.StatusNoContent}
}

// flowExists reports whether a flow has the primary key pk.
func (st *state) flowExists(pk string) bool { return st.flows[strings.ToLower(pk)] != nil }
