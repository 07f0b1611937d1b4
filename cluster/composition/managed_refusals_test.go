//go:build render && linux

package composition

import "testing"

func TestValidateRefusesBrokenUsers(t *testing.T) {
	want := map[string]string{
		"no-username":              "spec.forProvider.username is required unless managementPolicies only observe",
		"bad-type":                 `spec.forProvider.type: Unsupported value: "robot"`,
		"path-with-trailing-slash": "spec.forProvider.path: Invalid value",
	}
	checkRefusals(t, "User", "users-broken.yaml", want)
}

func TestValidateRefusesBrokenGroupMemberships(t *testing.T) {
	want := map[string]string{
		"no-group":  "one of spec.forProvider.group, groupRef or groupSelector is required unless managementPolicies only observe",
		"no-user":   "one of spec.forProvider.user, userRef or userSelector is required unless managementPolicies only observe",
		"user-zero": "spec.forProvider.user: Invalid value",
	}
	checkRefusals(t, "GroupMembership", "groupmemberships-broken.yaml", want)
}

func TestValidateRefusesBrokenLDAPProviders(t *testing.T) {
	want := map[string]string{
		"no-name":             "spec.forProvider.name is required unless managementPolicies only observe",
		"bad-bind-mode":       `spec.forProvider.bindMode: Unsupported value: "ldap"`,
		"certificate-by-name": `spec.forProvider.certificateId: Invalid value: "authentik Self-signed Certificate"`,
		"blank-base-dn":       `spec.forProvider.baseDN: Invalid value: " "`,
		"certificate-twice":   "spec.forProvider.certificate names the key pair by name; spec.forProvider.certificateRef and certificateId name it otherwise: set one",
	}
	checkRefusals(t, "LDAPProvider", "ldapproviders-broken.yaml", want)
}

// TestValidateRefusesBrokenSAMLPropertyMappings: the SAMLPropertyMapping
// CRD, and the SAMLProvider fields that name property mappings, refuse bad
// manifests naming the field.
func TestValidateRefusesBrokenSAMLPropertyMappings(t *testing.T) {
	checkRefusals(t, "SAMLPropertyMapping", "samlpropertymappings-broken.yaml", map[string]string{
		"no-saml-name":              "spec.forProvider.samlName is required unless managementPolicies only observe",
		"no-expression":             "spec.forProvider.expression is required unless managementPolicies only observe",
		"saml-name-with-space":      `spec.forProvider.samlName: Invalid value: " uid"`,
		"friendly-name-with-spaces": `spec.forProvider.friendlyName: Invalid value: "User ID "`,
	})
	checkRefusals(t, "SAMLProvider", "samlpropertymappings-broken.yaml", map[string]string{
		"property-mapping-id-not-uuid":      `spec.forProvider.propertyMappingIds[0]: Invalid value: "uid": spec.forProvider.propertyMappingIds[0] in body must be of type uuid`,
		"property-mapping-ref-without-name": "spec.forProvider.propertyMappingRefs[0].name: Required value",
	})
}

// TestValidateRefusesBrokenProxyProviderCertificates: a ProxyProvider's
// TLS certificate is a UUID or a reference with a name.
func TestValidateRefusesBrokenProxyProviderCertificates(t *testing.T) {
	checkRefusals(t, "ProxyProvider", "proxyproviders-broken.yaml", map[string]string{
		"certificate-ref-without-name": "spec.forProvider.certificateRef.name: Required value",
		"certificate-by-name":          `spec.forProvider.certificate: Invalid value: "longhorn-tls"`,
	})
}
