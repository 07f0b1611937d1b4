package authentik

import api "goauthentik.io/api/v3"

// SAMLLegacyIssuerKey is the key of a SAML provider's issuer before
// Authentik 2026.5 renamed it issuer_override (SAMLProviderSerializer in
// authentik/providers/saml/api/providers.py). The 2026.5 client keeps it
// among an answer's unknown keys.
const SAMLLegacyIssuerKey = "issuer"

// SAMLIssuer is the issuer a SAML provider's answer holds, under the key
// its release uses; false when it holds none.
func SAMLIssuer(p *api.SAMLProvider) (string, bool) {
	if p.IssuerOverride != nil {
		return *p.IssuerOverride, true
	}
	v, ok := p.AdditionalProperties[SAMLLegacyIssuerKey].(string)
	return v, ok
}

// SAMLIssuerFields are the request fields that set a SAML provider's
// issuer on every release: Authentik ignores the key its release does not
// know, as it ignores every unknown key.
func SAMLIssuerFields(issuer string) (override *string, extra map[string]any) {
	return &issuer, map[string]any{SAMLLegacyIssuerKey: issuer}
}
