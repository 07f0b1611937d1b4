package authentik

import api "goauthentik.io/api/v3"

// The generated client's UnmarshalJSON gives every object it decodes, and
// every object nested in one, a map of the keys its schema does not name
// (AdditionalProperties). It decodes the whole object into that map and
// then deletes the known keys, so an empty map keeps room for every key the
// object had, and the shared lists hold every object of a collection.
// Nothing reads them, and an empty map and none encode alike.

func dropEmpty(m *map[string]any) {
	if len(*m) == 0 {
		*m = nil
	}
}

func trimProvider(p *api.Provider) {
	if p != nil {
		dropEmpty(&p.AdditionalProperties)
	}
}

func trimRedirectURIs(uris []api.RedirectURI) {
	for i := range uris {
		dropEmpty(&uris[i].AdditionalProperties)
	}
}

func trimProxyProvider(p *api.ProxyProvider) {
	dropEmpty(&p.AdditionalProperties)
	trimRedirectURIs(p.RedirectUris)
}

func trimOAuth2Provider(p *api.OAuth2Provider) {
	dropEmpty(&p.AdditionalProperties)
	trimRedirectURIs(p.RedirectUris)
}

// trimSAMLProvider keeps of the unknown keys only issuer, which releases
// before 2026.5 send in place of issuer_override.
func trimSAMLProvider(p *api.SAMLProvider) {
	issuer, ok := p.AdditionalProperties[SAMLLegacyIssuerKey]
	p.AdditionalProperties = nil
	if ok {
		p.AdditionalProperties = map[string]any{SAMLLegacyIssuerKey: issuer}
	}
}

func trimLDAPProvider(p *api.LDAPProvider) {
	dropEmpty(&p.AdditionalProperties)
}

func trimApplication(a *api.Application) {
	dropEmpty(&a.AdditionalProperties)
	trimProvider(a.ProviderObj.Get())
	for i := range a.BackchannelProvidersObj {
		trimProvider(&a.BackchannelProvidersObj[i])
	}
	if u := a.MetaIconThemedUrls.Get(); u != nil {
		dropEmpty(&u.AdditionalProperties)
	}
}

func trimUser(u *api.User) {
	dropEmpty(&u.AdditionalProperties)
	u.GroupsObj = nil
	u.RolesObj = nil
}

func trimGroup(g *api.Group) {
	dropEmpty(&g.AdditionalProperties)
	for i := range g.ParentsObj {
		dropEmpty(&g.ParentsObj[i].AdditionalProperties)
	}
	for i := range g.ChildrenObj {
		dropEmpty(&g.ChildrenObj[i].AdditionalProperties)
	}
	for i := range g.UsersObj {
		dropEmpty(&g.UsersObj[i].AdditionalProperties)
	}
	for i := range g.RolesObj {
		dropEmpty(&g.RolesObj[i].AdditionalProperties)
	}
	for i := range g.InheritedRolesObj {
		dropEmpty(&g.InheritedRolesObj[i].AdditionalProperties)
	}
}

func trimPolicyBinding(b *api.PolicyBinding) {
	dropEmpty(&b.AdditionalProperties)
	if p := b.PolicyObj.Get(); p != nil {
		dropEmpty(&p.AdditionalProperties)
	}
	if g := b.GroupObj.Get(); g != nil {
		dropEmpty(&g.AdditionalProperties)
	}
	if u := b.UserObj.Get(); u != nil {
		dropEmpty(&u.AdditionalProperties)
	}
}

func trimExpressionPolicy(p *api.ExpressionPolicy) {
	dropEmpty(&p.AdditionalProperties)
}

func trimScopeMapping(m *api.ScopeMapping) {
	dropEmpty(&m.AdditionalProperties)
}

func trimSAMLPropertyMapping(m *api.SAMLPropertyMapping) {
	dropEmpty(&m.AdditionalProperties)
}

func trimCertificateKeyPair(k *api.CertificateKeyPair) {
	dropEmpty(&k.AdditionalProperties)
}

func trimOutpost(o *api.Outpost) {
	dropEmpty(&o.AdditionalProperties)
	for i := range o.ProvidersObj {
		trimProvider(&o.ProvidersObj[i])
	}
	if s := o.ServiceConnectionObj.Get(); s != nil {
		dropEmpty(&s.AdditionalProperties)
	}
}
