package authentiksim

// Fixtures are the ids of objects a fresh Authentik install has and that
// the simulated API offers no endpoint to look up (scope mappings,
// policies, certificates), for tests that need to refer to them.
type Fixtures struct {
	// Flows maps each flow's slug to its pk.
	Flows map[string]string
	// EmbeddedOutpost is the pk of "authentik Embedded Outpost".
	EmbeddedOutpost string
	// ScopeMappings maps each scope mapping's managed name to its pk.
	ScopeMappings map[string]string
	// DefaultScopeMappings are the pks Authentik adds to every proxy
	// provider's property_mappings on each save.
	DefaultScopeMappings []string
	// Policy is the pk of the expression policy
	// default-source-enrollment-if-sso.
	Policy string
	// Certificate is the pk of "authentik Self-signed Certificate".
	Certificate string
}

// Fixtures returns the current ids of the seeded objects.
func (s *Server) Fixtures() Fixtures {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	st := s.state
	fx := Fixtures{Flows: map[string]string{}, ScopeMappings: map[string]string{}}
	for pk, f := range st.flows {
		fx.Flows[f.slug] = pk
	}
	for pk, o := range st.outposts {
		if o.isEmbedded() {
			fx.EmbeddedOutpost = pk
		}
	}
	for pk, m := range st.mappings {
		fx.ScopeMappings[m.managed] = pk
	}
	for _, managed := range proxyDefaultScopes {
		if m := st.mappingByManaged(managed); m != nil {
			fx.DefaultScopeMappings = append(fx.DefaultScopeMappings, m.pk)
		}
	}
	for pk, p := range st.policies {
		if p.name == seededPolicyName {
			fx.Policy = pk
		}
	}
	for pk, k := range st.certificates {
		if k.name == seededCertificateName {
			fx.Certificate = pk
		}
	}
	return fx
}
