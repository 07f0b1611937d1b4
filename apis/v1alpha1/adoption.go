package v1alpha1

// Adoption is the user's consent to manage an object that exists in
// Authentik already. Every managed kind has it, under the same name, so a
// Composition can set it for any of them.
type Adoption struct {
	// AdoptExisting lets this resource manage an object that already exists
	// in Authentik with the same unique key (the name; an application's
	// slug; a binding of the same group to the same application; a provider
	// already on the outpost): it is brought to this spec and deleted with
	// this resource. Off by default: such an object is left unchanged and
	// the Synced condition says it exists. Setting the
	// crossplane.io/external-name annotation to the object's id consents
	// too.
	// +optional
	AdoptExisting bool `json:"adoptExisting,omitempty"`
}

// AdoptsExisting reports whether the user consented to adopt an existing
// object.
func (a Adoption) AdoptsExisting() bool { return a.AdoptExisting }

// AdoptsExisting reports whether spec.adoptExisting is set.
func (mg *ProxyProvider) AdoptsExisting() bool { return mg.Spec.AdoptsExisting() }

// AdoptsExisting reports whether spec.adoptExisting is set.
func (mg *Application) AdoptsExisting() bool { return mg.Spec.AdoptsExisting() }

// AdoptsExisting reports whether spec.adoptExisting is set.
func (mg *Group) AdoptsExisting() bool { return mg.Spec.AdoptsExisting() }

// AdoptsExisting reports whether spec.adoptExisting is set.
func (mg *Outpost) AdoptsExisting() bool { return mg.Spec.AdoptsExisting() }

// AdoptsExisting reports whether spec.adoptExisting is set.
func (mg *PolicyBinding) AdoptsExisting() bool { return mg.Spec.AdoptsExisting() }

// AdoptsExisting reports whether spec.adoptExisting is set.
func (mg *OutpostBinding) AdoptsExisting() bool { return mg.Spec.AdoptsExisting() }

// AdoptsExisting reports whether spec.adoptExisting is set.
func (mg *OAuth2Provider) AdoptsExisting() bool { return mg.Spec.AdoptsExisting() }

// AdoptsExisting reports whether spec.adoptExisting is set.
func (mg *ExpressionPolicy) AdoptsExisting() bool { return mg.Spec.AdoptsExisting() }

// AdoptsExisting reports whether spec.adoptExisting is set.
func (mg *ScopeMapping) AdoptsExisting() bool { return mg.Spec.AdoptsExisting() }

// AdoptsExisting reports whether spec.adoptExisting is set.
func (mg *SAMLPropertyMapping) AdoptsExisting() bool { return mg.Spec.AdoptsExisting() }

// AdoptsExisting reports whether spec.adoptExisting is set.
func (mg *User) AdoptsExisting() bool { return mg.Spec.AdoptsExisting() }

// AdoptsExisting reports whether spec.adoptExisting is set.
func (mg *GroupMembership) AdoptsExisting() bool { return mg.Spec.AdoptsExisting() }

// AdoptsExisting reports whether spec.adoptExisting is set.
func (mg *CertificateKeyPair) AdoptsExisting() bool { return mg.Spec.AdoptsExisting() }

// AdoptsExisting reports whether spec.adoptExisting is set.
func (mg *SAMLProvider) AdoptsExisting() bool { return mg.Spec.AdoptsExisting() }

// AdoptsExisting reports whether spec.adoptExisting is set.
func (mg *LDAPProvider) AdoptsExisting() bool { return mg.Spec.AdoptsExisting() }
