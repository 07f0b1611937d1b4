package authentiksim

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// OAuth2 providers are simulated only as far as a provider of another kind
// matters to proxy providers: a name taken across every provider type, and
// the generic provider list that shows every type. Their token endpoints
// and signing keys are not simulated.

const (
	clientTypeConfidential = "confidential"
	clientTypePublic       = "public"

	matchingModeStrict = "strict"
	matchingModeRegex  = "regex"

	// ClientTypes and RedirectURIMatchingMode in
	// authentik/providers/oauth2/models.py; generate_id and generate_key in
	// authentik/lib/generators.py make 40 and 128 characters.
	clientSecretLength = 128
)

type oauth2Provider struct {
	pk                 int32
	name               string
	authenticationFlow *string
	authorizationFlow  string
	invalidationFlow   *string
	propertyMappings   []string
	clientType         string
	clientID           string
	clientSecret       string
	redirectURIs       []redirectURIJSON
}

type oauth2ProviderJSON struct {
	providerJSON
	ClientType   string            `json:"client_type"`
	ClientID     string            `json:"client_id"`
	ClientSecret string            `json:"client_secret"`
	RedirectURIs []redirectURIJSON `json:"redirect_uris"`
}

// renderOAuth2 is OAuth2ProviderSerializer
// (authentik/providers/oauth2/api/providers.py), the fields simulated.
func (st *state) renderOAuth2(p *oauth2Provider) oauth2ProviderJSON {
	return oauth2ProviderJSON{
		providerJSON: st.renderOAuth2Base(p),
		ClientType:   p.clientType,
		ClientID:     p.clientID,
		ClientSecret: p.clientSecret,
		RedirectURIs: append([]redirectURIJSON{}, p.redirectURIs...),
	}
}

// renderOAuth2Base is the generic ProviderSerializer view of an OAuth2
// provider (authentik/core/api/providers.py).
func (st *state) renderOAuth2Base(p *oauth2Provider) providerJSON {
	out := providerJSON{
		PK:                 p.pk,
		Name:               p.name,
		AuthenticationFlow: p.authenticationFlow,
		AuthorizationFlow:  p.authorizationFlow,
		InvalidationFlow:   p.invalidationFlow,
		PropertyMappings:   append([]string{}, p.propertyMappings...),
		Component:          "ak-provider-oauth2-form",
		VerboseName:        "OAuth2/OpenID Provider",
		VerboseNamePlural:  "OAuth2/OpenID Providers",
		MetaModelName:      "authentik_providers_oauth2.oauth2provider",
	}
	if a := st.applicationOf(p.pk); a != nil {
		out.AssignedApplicationSlug, out.AssignedApplicationName = &a.slug, &a.name
	}
	return out
}

// bindOAuth2 applies the simulated fields of a request body to p.
func (st *state) bindOAuth2(f *form, p *oauth2Provider) {
	if v, ok := f.str("name", true, false); ok {
		if st.providerNameTaken(v, p.pk) {
			f.errs.add("name", fmt.Sprintf(msgUnique, "provider", "name"))
		} else {
			p.name = v
		}
	}
	if v, ok := f.uuidRef("authentication_flow", false, true, st.flowExists); ok {
		p.authenticationFlow = v
	}
	if v, ok := f.uuidRef("authorization_flow", true, false, st.flowExists); ok {
		p.authorizationFlow = *v
	}
	if v, ok := f.uuidRef("invalidation_flow", true, false, st.flowExists); ok {
		p.invalidationFlow = v
	}
	if v, ok := f.uuidRefs("property_mappings", false, func(pk string) bool { return st.mappings[pk] != nil }); ok {
		p.propertyMappings = v
	}
	if v, ok := f.choice("client_type", clientTypeConfidential, clientTypePublic); ok {
		p.clientType = v
	}
	if v, ok := formList[redirectURIJSON](f, "redirect_uris", true); ok {
		for i := range v {
			if v[i].MatchingMode != matchingModeStrict && v[i].MatchingMode != matchingModeRegex {
				f.errs.add("redirect_uris", fmt.Sprintf(msgBadChoice, v[i].MatchingMode))
				return
			}
			if strings.TrimSpace(v[i].URL) == "" {
				f.errs.add("redirect_uris", msgBlank)
				return
			}
			v[i].RedirectURIType = "authorization"
		}
		p.redirectURIs = v
	}
}

func (st *state) oauth2FromPath(c *call) *oauth2Provider {
	n, err := strconv.ParseInt(c.params["id"], 10, 32)
	if err != nil {
		return nil
	}
	return st.oauth2[int32(n)]
}

func listOAuth2Providers(st *state, c *call) reply {
	items := []oauth2ProviderJSON{}
	for _, pk := range sortedKeys(st.oauth2) {
		p := st.oauth2[pk]
		if !iexact(c.query, "name__iexact", p.name) || !search(c.query, p.name) {
			continue
		}
		items = append(items, st.renderOAuth2(p))
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return paginate(c.query, items)
}

func retrieveOAuth2Provider(st *state, c *call) reply {
	p := st.oauth2FromPath(c)
	if p == nil {
		return notFound()
	}
	return reply{status: http.StatusOK, body: st.renderOAuth2(p)}
}

func createOAuth2Provider(st *state, c *call) reply {
	f, bad := parseForm(c.body, false)
	if bad != nil {
		return *bad
	}
	p := &oauth2Provider{clientType: clientTypeConfidential, propertyMappings: []string{}}
	st.bindOAuth2(f, p)
	if len(f.errs) > 0 {
		return invalid(f.errs)
	}
	p.pk = st.nextProvider
	st.nextProvider++
	p.clientID = st.newClientID()
	p.clientSecret = st.newSecret(clientSecretLength)
	st.oauth2[p.pk] = p
	return reply{status: http.StatusCreated, body: st.renderOAuth2(p)}
}

func destroyOAuth2Provider(st *state, c *call) reply {
	p := st.oauth2FromPath(c)
	if p == nil {
		return notFound()
	}
	st.deleteProvider(p.pk)
	return reply{status: http.StatusNoContent}
}

// allProviders is every provider of every type, as ProviderViewSet's
// queryset (Provider.objects.select_subclasses()) has them, by pk.
func (st *state) allProviders() []providerJSON {
	var out []providerJSON
	for _, pk := range sortedKeys(st.providers) {
		out = append(out, st.renderProvider(st.providers[pk]))
	}
	for _, pk := range sortedKeys(st.oauth2) {
		out = append(out, st.renderOAuth2Base(st.oauth2[pk]))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].PK < out[j].PK })
	return out
}

// listAllProviders is ProviderViewSet.list (authentik/core/api/providers.py):
// filter application__isnull, search over the name and the application's
// name.
func listAllProviders(st *state, c *call) reply {
	items := []providerJSON{}
	for _, p := range st.allProviders() {
		appName := ""
		if p.AssignedApplicationName != nil {
			appName = *p.AssignedApplicationName
		}
		if !boolMatches(c.query, "application__isnull", p.AssignedApplicationSlug == nil) || !search(c.query, p.Name, appName) {
			continue
		}
		items = append(items, p)
	}
	return paginate(c.query, items)
}

func retrieveAnyProvider(st *state, c *call) reply {
	n, err := strconv.ParseInt(c.params["id"], 10, 32)
	if err != nil {
		return notFound()
	}
	for _, p := range st.allProviders() {
		if p.PK == int32(n) {
			return reply{status: http.StatusOK, body: p}
		}
	}
	return notFound()
}
