package authentiksim

import (
	"fmt"
	"sort"
)

// SAML provider choices and messages, from authentik/providers/saml/models.py
// (SAMLBindings, the SAMLProvider field defaults) and
// authentik/common/saml/constants.py (the digest and signature algorithms).
const (
	samlBindingRedirect = "redirect"
	samlBindingPost     = "post"

	// samlIssuerDefault is SAMLProvider.issuer's default before 2026.5.
	samlIssuerDefault = "authentik"

	// msgSigningWithoutSigning is SAMLProviderSerializer.validate
	// (authentik/providers/saml/api/providers.py).
	msgSigningWithoutSigning = "With a signing keypair selected, at least one of 'Sign assertion' and 'Sign Response' must be selected."
)

var (
	samlDigestAlgorithms = []string{
		"http://www.w3.org/2000/09/xmldsig#sha1", "http://www.w3.org/2001/04/xmlenc#sha256",
		"http://www.w3.org/2001/04/xmldsig-more#sha384", "http://www.w3.org/2001/04/xmlenc#sha512",
	}
	samlSignatureAlgorithms = []string{
		"http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
		"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
		"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
		"http://www.w3.org/2000/09/xmldsig#dsa-sha1",
	}
)

// samlProvider is a SAMLProvider row (with its Provider base).
type samlProvider struct {
	providerBase
	acsURL               string
	audience             string
	issuer               string
	spBinding            string
	assertionNotBefore   string
	assertionNotOnOrAft  string
	sessionNotOnOrAfter  string
	digestAlgorithm      string
	signatureAlgorithm   string
	signingKP            *string
	verificationKP       *string
	encryptionKP         *string
	signAssertion        bool
	signResponse         bool
	defaultRelayState    string
	nameIDMapping        *string
	authnContextClassRef *string
}

// newSAMLProvider has the model defaults of SAMLProvider but the issuer's,
// which is the line's (see samlProviders).
func newSAMLProvider() *samlProvider {
	return &samlProvider{
		spBinding:           samlBindingRedirect,
		assertionNotBefore:  "minutes=-5",
		assertionNotOnOrAft: "minutes=5",
		sessionNotOnOrAfter: "minutes=86400",
		digestAlgorithm:     samlDigestAlgorithms[1],
		signatureAlgorithm:  samlSignatureAlgorithms[1],
		signAssertion:       true,
		providerBase:        providerBase{propertyMappings: []string{}},
	}
}

// samlIssuerOverride tells whether the line names the issuer
// issuer_override (2026.5 and later) rather than issuer.
func (st *state) samlIssuerOverride() bool {
	return st.line.index() >= mustLine("2026.5").index()
}

func mustLine(name string) Line {
	l, err := LookupLine(name)
	if err != nil {
		panic(err)
	}
	return l
}

// samlProviderJSON is SAMLProviderSerializer's answer. The issuer is
// rendered apart under the line's key; keys a line lacks are taken out by
// lineDifferences.
type samlProviderJSON struct {
	providerJSON
	AcsURL                      string  `json:"acs_url"`
	SlsURL                      string  `json:"sls_url"`
	Audience                    string  `json:"audience"`
	IssuerOverride              *string `json:"issuer_override,omitempty"`
	Issuer                      *string `json:"issuer,omitempty"`
	AssertionValidNotBefore     string  `json:"assertion_valid_not_before"`
	AssertionValidNotOnOrAfter  string  `json:"assertion_valid_not_on_or_after"`
	SessionValidNotOnOrAfter    string  `json:"session_valid_not_on_or_after"`
	NameIDMapping               *string `json:"name_id_mapping"`
	AuthnContextClassRefMapping *string `json:"authn_context_class_ref_mapping"`
	DigestAlgorithm             string  `json:"digest_algorithm"`
	SignatureAlgorithm          string  `json:"signature_algorithm"`
	SigningKP                   *string `json:"signing_kp"`
	VerificationKP              *string `json:"verification_kp"`
	EncryptionKP                *string `json:"encryption_kp"`
	SignAssertion               bool    `json:"sign_assertion"`
	SignResponse                bool    `json:"sign_response"`
	SignLogoutRequest           bool    `json:"sign_logout_request"`
	SignLogoutResponse          bool    `json:"sign_logout_response"`
	SpBinding                   string  `json:"sp_binding"`
	SlsBinding                  string  `json:"sls_binding"`
	LogoutMethod                string  `json:"logout_method"`
	DefaultRelayState           string  `json:"default_relay_state"`
	DefaultNameIDPolicy         string  `json:"default_name_id_policy"`
	URLDownloadMetadata         string  `json:"url_download_metadata"`
	URLIssuer                   string  `json:"url_issuer"`
	URLUnified                  string  `json:"url_unified"`
	URLUnifiedInit              string  `json:"url_unified_init"`
	URLSsoPost                  string  `json:"url_sso_post"`
	URLSsoRedirect              string  `json:"url_sso_redirect"`
	URLSsoInit                  string  `json:"url_sso_init"`
	URLSloPost                  string  `json:"url_slo_post"`
	URLSloRedirect              string  `json:"url_slo_redirect"`
}

// renderSAMLBase is the generic ProviderSerializer view of a SAML provider
// (component and verbose names from SAMLProvider in models.py).
func (st *state) renderSAMLBase(p *samlProvider) providerJSON {
	return st.renderProviderBase(&p.providerBase, providerJSON{
		Component:         "ak-provider-saml-form",
		VerboseName:       "SAML Provider",
		VerboseNamePlural: "SAML Providers",
		MetaModelName:     "authentik_providers_saml.samlprovider",
	})
}

// renderSAML answers as SAMLProviderSerializer does. Its URL fields are
// "-" while no application uses the provider (get_url_sso_post and the
// others catch RelatedObjectDoesNotExist); below an application's slug
// they follow authentik/providers/saml/urls.py.
func (st *state) renderSAML(p *samlProvider, baseURL string) samlProviderJSON {
	out := samlProviderJSON{
		providerJSON:                st.renderSAMLBase(p),
		AcsURL:                      p.acsURL,
		Audience:                    p.audience,
		AssertionValidNotBefore:     p.assertionNotBefore,
		AssertionValidNotOnOrAfter:  p.assertionNotOnOrAft,
		SessionValidNotOnOrAfter:    p.sessionNotOnOrAfter,
		NameIDMapping:               p.nameIDMapping,
		AuthnContextClassRefMapping: p.authnContextClassRef,
		DigestAlgorithm:             p.digestAlgorithm,
		SignatureAlgorithm:          p.signatureAlgorithm,
		SigningKP:                   p.signingKP,
		VerificationKP:              p.verificationKP,
		EncryptionKP:                p.encryptionKP,
		SignAssertion:               p.signAssertion,
		SignResponse:                p.signResponse,
		SpBinding:                   p.spBinding,
		SlsBinding:                  samlBindingRedirect,
		LogoutMethod:                "frontchannel_iframe",
		DefaultRelayState:           p.defaultRelayState,
		DefaultNameIDPolicy:         "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
		URLDownloadMetadata:         fmt.Sprintf("%sapi/v3/providers/saml/%d/metadata/?download", baseURL, p.pk),
	}
	issuer := p.issuer
	if st.samlIssuerOverride() {
		out.IssuerOverride = &issuer
	} else {
		out.Issuer = &issuer
	}
	urls := []*string{&out.URLSsoPost, &out.URLSsoRedirect, &out.URLSsoInit, &out.URLSloPost, &out.URLSloRedirect, &out.URLUnified, &out.URLUnifiedInit}
	for _, u := range urls {
		*u = "-"
	}
	if a := st.applicationOf(p.pk); a != nil {
		root := baseURL + "application/saml/" + a.slug + "/"
		for u, suffix := range map[*string]string{
			&out.URLSsoPost: "sso/binding/post/", &out.URLSsoRedirect: "sso/binding/redirect/", &out.URLSsoInit: "sso/binding/init/",
			&out.URLSloPost: "slo/binding/post/", &out.URLSloRedirect: "slo/binding/redirect/",
			&out.URLUnified: "", &out.URLUnifiedInit: "init/",
		} {
			*u = root + suffix
		}
	}
	// 2026.5's url_issuer is the issuer the provider signs as: the
	// override, or the metadata URL standing in for Authentik's default.
	out.URLIssuer = p.issuer
	if out.URLIssuer == "" {
		out.URLIssuer = out.URLDownloadMetadata
	}
	return out
}

// bindSAML applies the fields present in a request body to p, validating
// them as SAMLProviderSerializer does; errors go to f.errs. Before 2026.5
// the issuer is "issuer" (a TextField that may not be blank); since, it is
// "issuer_override" (blank allowed). A key the line lacks is ignored, as
// DRF ignores unknown keys.
func (st *state) bindSAML(f *form, p *samlProvider) {
	st.bindProviderBase(f, &p.providerBase)
	// acs_url is a URLField; Django's URLValidator also allows ftp, which
	// nobody uses as an ACS.
	if v, ok := f.httpURL("acs_url", true, false); ok {
		p.acsURL = v
	}
	if v, ok := f.str("audience", false, true); ok {
		p.audience = v
	}
	if st.samlIssuerOverride() {
		if v, ok := f.str("issuer_override", false, true); ok {
			p.issuer = v
		}
	} else if v, ok := f.str("issuer", false, false); ok {
		p.issuer = v
	}
	if v, ok := f.choice("sp_binding", samlBindingRedirect, samlBindingPost); ok {
		p.spBinding = v
	}
	for key, dst := range map[string]*string{
		"assertion_valid_not_before":      &p.assertionNotBefore,
		"assertion_valid_not_on_or_after": &p.assertionNotOnOrAft,
		"session_valid_not_on_or_after":   &p.sessionNotOnOrAfter,
	} {
		if v, ok := timedeltaField(f, key); ok {
			*dst = v
		}
	}
	if v, ok := f.choice("digest_algorithm", samlDigestAlgorithms...); ok {
		p.digestAlgorithm = v
	}
	if v, ok := f.choice("signature_algorithm", samlSignatureAlgorithms...); ok {
		p.signatureAlgorithm = v
	}
	keyExists := func(pk string) bool { return st.certificates[pk] != nil }
	for key, dst := range map[string]**string{"signing_kp": &p.signingKP, "verification_kp": &p.verificationKP, "encryption_kp": &p.encryptionKP} {
		if v, ok := f.uuidRef(key, false, true, keyExists); ok {
			*dst = v
		}
	}
	if v, ok := f.boolean("sign_assertion"); ok {
		p.signAssertion = v
	}
	if v, ok := f.boolean("sign_response"); ok {
		p.signResponse = v
	}
	if v, ok := f.str("default_relay_state", false, true); ok {
		p.defaultRelayState = v
	}
}

// checkSAMLSigning is SAMLProviderSerializer.validate: it reads the request's
// attributes only, so a body with a signing key must also set
// sign_assertion or sign_response to true, whatever is stored.
func checkSAMLSigning(f *form) *reply {
	if !f.has("signing_kp") || f.isNull("signing_kp") {
		return nil
	}
	assertion, _ := f.boolean("sign_assertion")
	response, _ := f.boolean("sign_response")
	if assertion || response {
		return nil
	}
	r := nonField(msgSigningWithoutSigning)
	return &r
}

// listSAMLProviders filters on the SAMLProviderViewSet filterset fields the
// provider and its tests use, searches names and orders by name.
func listSAMLProviders(st *state, c *call) reply {
	q := c.query
	items := []samlProviderJSON{}
	for _, pk := range sortedKeys(st.saml) {
		p := st.saml[pk]
		if !exact(q, "name", p.name) || !exact(q, "acs_url", p.acsURL) || !search(q, p.name) {
			continue
		}
		items = append(items, st.renderSAML(p, c.baseURL))
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return paginate(q, items)
}

// samlProviders is SAMLProviderViewSet. Before 2026.5 a provider created
// without an issuer gets the model's default, "authentik"; since, the
// override's default is empty.
var samlProviders = providerType[samlProvider]{
	store: func(st *state) map[int32]*samlProvider { return st.saml },
	base:  func(p *samlProvider) *providerBase { return &p.providerBase },
	fresh: newSAMLProvider,
	bind:  (*state).bindSAML,
	check: checkSAMLSigning,
	save: func(st *state, f *form, p *samlProvider, created bool) {
		if created && !st.samlIssuerOverride() && !f.has("issuer") {
			p.issuer = samlIssuerDefault
		}
	},
	render: func(st *state, p *samlProvider, baseURL string) any { return st.renderSAML(p, baseURL) },
}
