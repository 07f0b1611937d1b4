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
	}
	checkRefusals(t, "LDAPProvider", "ldapproviders-broken.yaml", want)
}
