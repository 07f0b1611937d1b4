package authentiksim

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// reservedSlugs clash with OAuth2 provider endpoints
// (Application.reserved_slugs in authentik/core/models.py).
var reservedSlugs = []string{"authorize", "token", "device", "userinfo", "introspect", "revoke"}

const (
	msgReservedSlug = "The slug '%s' is reserved and cannot be used for applications."

	engineModeAll = "all"
	engineModeAny = "any"
)

type themedURLsJSON struct {
	Light *string `json:"light"`
	Dark  *string `json:"dark"`
}

type applicationJSON struct {
	PK                      string          `json:"pk"`
	Name                    string          `json:"name"`
	Slug                    string          `json:"slug"`
	Provider                *int32          `json:"provider"`
	ProviderObj             *providerJSON   `json:"provider_obj"`
	BackchannelProviders    []int32         `json:"backchannel_providers"`
	BackchannelProvidersObj []providerJSON  `json:"backchannel_providers_obj"`
	LaunchURL               *string         `json:"launch_url"`
	OpenInNewTab            bool            `json:"open_in_new_tab"`
	MetaLaunchURL           string          `json:"meta_launch_url"`
	MetaIcon                string          `json:"meta_icon"`
	MetaIconURL             *string         `json:"meta_icon_url"`
	MetaIconThemedURLs      *themedURLsJSON `json:"meta_icon_themed_urls"`
	MetaDescription         string          `json:"meta_description"`
	MetaPublisher           string          `json:"meta_publisher"`
	PolicyEngineMode        string          `json:"policy_engine_mode"`
	Group                   string          `json:"group"`
	MetaHide                bool            `json:"meta_hide"`
}

func (st *state) backchannelProviders(appPK string) []int32 {
	out := []int32{}
	for _, pk := range sortedKeys(st.providers) {
		if b := st.providers[pk].backchannelApplication; b != nil && *b == appPK {
			out = append(out, pk)
		}
	}
	return out
}

func (st *state) renderApplication(a *application) applicationJSON {
	out := applicationJSON{
		PK:                      a.pk,
		Name:                    a.name,
		Slug:                    a.slug,
		Provider:                a.provider,
		BackchannelProviders:    st.backchannelProviders(a.pk),
		BackchannelProvidersObj: []providerJSON{},
		OpenInNewTab:            a.openInNewTab,
		MetaLaunchURL:           a.metaLaunchURL,
		MetaIcon:                a.metaIcon,
		MetaDescription:         a.metaDesc,
		MetaPublisher:           a.metaPublisher,
		PolicyEngineMode:        a.engineMode,
		Group:                   a.group,
		MetaHide:                a.metaHide,
	}
	for _, pk := range out.BackchannelProviders {
		out.BackchannelProvidersObj = append(out.BackchannelProvidersObj, st.renderProvider(st.providers[pk]))
	}
	// Application.get_launch_url: the explicit launch URL, else the
	// provider's (a proxy provider launches at its external host, an OAuth2
	// provider at its first redirect URI's origin).
	if a.metaLaunchURL != "" {
		u := a.metaLaunchURL
		out.LaunchURL = &u
	}
	if a.provider != nil {
		if p := st.providers[*a.provider]; p != nil {
			obj := st.renderProvider(p)
			out.ProviderObj = &obj
			if out.LaunchURL == nil {
				u := p.externalHost
				out.LaunchURL = &u
			}
		}
		// An LDAP provider has no launch URL (LDAPProvider.launch_url).
		if p := st.ldap[*a.provider]; p != nil {
			obj := st.renderLDAPBase(p)
			out.ProviderObj = &obj
		}
		if p := st.oauth2[*a.provider]; p != nil {
			obj := st.renderOAuth2Base(p)
			out.ProviderObj = &obj
			if out.LaunchURL == nil {
				out.LaunchURL = oauth2LaunchURL(p)
			}
		}
		// SAMLProvider.launch_url is the IdP-initiated SSO path.
		if p := st.saml[*a.provider]; p != nil {
			obj := st.renderSAMLBase(p)
			out.ProviderObj = &obj
			if out.LaunchURL == nil {
				u := "/application/saml/" + a.slug + "/sso/binding/init/"
				out.LaunchURL = &u
			}
		}
	}
	if a.metaIcon != "" {
		u := a.metaIcon
		if !strings.Contains(u, "://") && !strings.HasPrefix(u, "/") {
			u = "/media/public/" + u
		}
		out.MetaIconURL = &u
		// Themed URLs exist only for icons with a %(theme)s placeholder.
		if strings.Contains(u, "%(theme)s") {
			light, dark := strings.ReplaceAll(u, "%(theme)s", "light"), strings.ReplaceAll(u, "%(theme)s", "dark")
			out.MetaIconThemedURLs = &themedURLsJSON{Light: &light, Dark: &dark}
		}
	}
	return out
}

// bindApplication applies and validates the body's fields as
// ApplicationSerializer does. backchannel is non-nil when the body set the
// backchannel provider list.
func (st *state) bindApplication(f *form, a *application) (backchannel []int32) {
	if v, ok := f.str("name", true, false); ok {
		a.name = v
	}
	if v, ok := f.slug("slug", true); ok {
		switch {
		case st.slugTaken(v, a.pk):
			f.errs.add("slug", fmt.Sprintf(msgUnique, "Application", "slug"))
		case slices.Contains(reservedSlugs, v):
			f.errs.add("slug", fmt.Sprintf(msgReservedSlug, v))
		default:
			a.slug = v
		}
	}
	if f.has("provider") {
		v, ok := f.intRef("provider", true, st.providerExists)
		switch {
		case !ok:
		case v != nil && st.providerAssignedElsewhere(*v, a.pk):
			// Application.provider is a OneToOneField: one application per
			// provider.
			f.errs.add("provider", fmt.Sprintf(msgUnique, "Application", "provider"))
		default:
			a.provider = v
		}
	}
	if v, ok := f.intRefs("backchannel_providers", false, func(pk int32) bool { return st.providers[pk] != nil }); ok {
		backchannel = v
	}
	if v, ok := f.boolean("open_in_new_tab"); ok {
		a.openInNewTab = v
	}
	if v, ok := f.formattedURL("meta_launch_url"); ok {
		a.metaLaunchURL = v
	}
	if v, ok := f.str("meta_icon", false, true); ok {
		a.metaIcon = v
	}
	if v, ok := f.str("meta_description", false, true); ok {
		a.metaDesc = v
	}
	if v, ok := f.str("meta_publisher", false, true); ok {
		a.metaPublisher = v
	}
	if v, ok := f.choice("policy_engine_mode", engineModeAll, engineModeAny); ok {
		a.engineMode = v
	}
	if v, ok := f.str("group", false, true); ok {
		a.group = v
	}
	if v, ok := f.boolean("meta_hide"); ok {
		a.metaHide = v
	}
	return backchannel
}

func (st *state) slugTaken(slug, self string) bool {
	a := st.applicationBySlug(slug)
	return a != nil && a.pk != self
}

func (st *state) providerAssignedElsewhere(provider int32, self string) bool {
	a := st.applicationOf(provider)
	return a != nil && a.pk != self
}

// setBackchannel makes exactly the given providers backchannel providers of
// the application.
func (st *state) setBackchannel(appPK string, pks []int32) {
	for _, p := range st.providers {
		if p.backchannelApplication != nil && *p.backchannelApplication == appPK {
			p.backchannelApplication = nil
		}
	}
	for _, pk := range pks {
		app := appPK
		st.providers[pk].backchannelApplication = &app
	}
}

// tokenUserPasses evaluates a binding target's policies for the API
// token's user, who belongs to no simulated group: group, user and policy
// bindings all fail for it unless negated. Without enabled bindings every
// user passes, as in Authentik's PolicyEngine.
func (st *state) tokenUserPasses(target, mode string) bool {
	var results []bool
	for _, pk := range sortedKeys(st.bindings) {
		b := st.bindings[pk]
		if b.target != target || !b.enabled {
			continue
		}
		results = append(results, b.negate)
	}
	if len(results) == 0 {
		return true
	}
	if mode == engineModeAll {
		return !slices.Contains(results, false)
	}
	return slices.Contains(results, true)
}

// listApplications is Authentik's custom list: unless a superuser asks for
// the full list, it shows only applications the caller may access. That is
// why clients should look an application up by slug, not by listing.
func listApplications(st *state, c *call) reply {
	q := c.query
	full, _ := boolParam(q, "superuser_full_list")
	withLaunchURL, _ := boolParam(q, "only_with_launch_url")
	items := []applicationJSON{}
	for _, pk := range sortedKeys(st.applications) {
		a := st.applications[pk]
		if !exact(q, "name", a.name) || !exact(q, "slug", a.slug) || !exact(q, "group", a.group) ||
			!exact(q, "meta_launch_url", a.metaLaunchURL) || !exact(q, "meta_description", a.metaDesc) ||
			!exact(q, "meta_publisher", a.metaPublisher) ||
			!search(q, a.name, a.slug, a.metaLaunchURL, a.metaDesc, a.metaPublisher, a.group) {
			continue
		}
		if !full && !st.tokenUserPasses(a.pk, a.engineMode) {
			continue
		}
		rendered := st.renderApplication(a)
		if withLaunchURL && rendered.LaunchURL == nil {
			continue
		}
		items = append(items, rendered)
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return paginate(q, items)
}

func retrieveApplication(st *state, c *call) reply {
	a := st.applicationBySlug(c.params["slug"])
	if a == nil {
		return notFound()
	}
	return reply{status: http.StatusOK, body: st.renderApplication(a)}
}

func createApplication(st *state, c *call) reply {
	f, bad := parseForm(c.body, false)
	if bad != nil {
		return *bad
	}
	a := &application{pk: st.newUUID(), engineMode: engineModeAny}
	backchannel := st.bindApplication(f, a)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	st.applications[a.pk] = a
	if backchannel != nil {
		st.setBackchannel(a.pk, backchannel)
	}
	return reply{status: http.StatusCreated, body: st.renderApplication(a)}
}

// updateApplication serves PUT and PATCH. A body without provider keeps the
// current one; null detaches it.
func updateApplication(st *state, c *call) reply {
	stored := st.applicationBySlug(c.params["slug"])
	if stored == nil {
		return notFound()
	}
	f, bad := parseForm(c.body, c.partial)
	if bad != nil {
		return *bad
	}
	a := *stored
	backchannel := st.bindApplication(f, &a)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	*stored = a
	if backchannel != nil {
		st.setBackchannel(a.pk, backchannel)
	}
	return reply{status: http.StatusOK, body: st.renderApplication(stored)}
}

func destroyApplication(st *state, c *call) reply {
	a := st.applicationBySlug(c.params["slug"])
	if a == nil {
		return notFound()
	}
	st.deleteApplication(a.pk)
	return reply{status: http.StatusNoContent}
}
