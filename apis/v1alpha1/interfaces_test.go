package v1alpha1

import (
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
)

// The method sets angryjet generates must keep satisfying crossplane-runtime.
// These checks live in a test file so a clean tree can still run angryjet.
var (
	_ resource.ProviderConfig           = &ProviderConfig{}
	_ resource.ProviderConfig           = &ClusterProviderConfig{}
	_ resource.TypedProviderConfigUsage = &ProviderConfigUsage{}
	_ resource.ProviderConfigUsageList  = &ProviderConfigUsageList{}

	_ resource.ModernManaged = &ProxyProvider{}
	_ resource.ManagedList   = &ProxyProviderList{}

	_ resource.ModernManaged = &LDAPProvider{}
	_ resource.ManagedList   = &LDAPProviderList{}

	_ resource.ModernManaged = &OAuth2Provider{}
	_ resource.ManagedList   = &OAuth2ProviderList{}

	_ resource.ModernManaged = &Application{}
	_ resource.ManagedList   = &ApplicationList{}

	_ resource.ModernManaged = &Group{}
	_ resource.ManagedList   = &GroupList{}

	_ resource.ModernManaged = &ExpressionPolicy{}
	_ resource.ManagedList   = &ExpressionPolicyList{}

	_ resource.ModernManaged = &GroupMembership{}
	_ resource.ManagedList   = &GroupMembershipList{}

	_ resource.ModernManaged = &User{}
	_ resource.ManagedList   = &UserList{}

	_ resource.ModernManaged = &ScopeMapping{}
	_ resource.ManagedList   = &ScopeMappingList{}

	_ resource.ModernManaged = &SAMLPropertyMapping{}
	_ resource.ManagedList   = &SAMLPropertyMappingList{}

	_ resource.ModernManaged = &CertificateKeyPair{}
	_ resource.ManagedList   = &CertificateKeyPairList{}

	_ resource.ModernManaged = &SAMLProvider{}
	_ resource.ManagedList   = &SAMLProviderList{}

	_ resource.ModernManaged = &PolicyBinding{}
	_ resource.ManagedList   = &PolicyBindingList{}

	_ resource.ModernManaged = &Outpost{}
	_ resource.ManagedList   = &OutpostList{}

	_ resource.ModernManaged = &OutpostBinding{}
	_ resource.ManagedList   = &OutpostBindingList{}
)
