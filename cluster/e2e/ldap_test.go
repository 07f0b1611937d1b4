//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	api "goauthentik.io/api/v3"
	"k8s.io/apimachinery/pkg/types"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// TestLDAPProviderServedByLDAPOutpost: an LDAPProvider, its Application
// and an Outpost of type ldap that names it by reference (kind
// LDAPProvider) become Ready; the outpost serves the provider (the
// simulator's service record); a base DN changed in Authentik is
// reverted; deleting the resources deletes the outpost and the provider.
func TestLDAPProviderServedByLDAPOutpost(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	const ns, name, dn = "default", "e2e-ldap", "DC=ldap,DC=e2e,DC=example,DC=com"
	objects := fmt.Sprintf(`apiVersion: authentik.m.crossplane.io/v1alpha1
kind: LDAPProvider
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  forProvider: {name: %[2]s, baseDN: "%[3]s", bindMode: cached, searchMode: direct, mfaSupport: false}
  providerConfigRef: {kind: ClusterProviderConfig, name: default}
---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: Application
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  forProvider:
    name: E2E LDAP
    slug: %[2]s
    providerRef: {kind: LDAPProvider, name: %[2]s}
  providerConfigRef: {kind: ClusterProviderConfig, name: default}
---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: Outpost
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  forProvider:
    name: %[2]s
    type: ldap
    providerRefs: [{kind: LDAPProvider, name: %[2]s}]
  providerConfigRef: {kind: ClusterProviderConfig, name: default}
`, ns, name, dn)
	t.Cleanup(func() {
		for _, kind := range []string{"outpost", "application", "ldapprovider"} {
			_, _ = e.kubectl("", "delete", kind, name, "-n", ns, "--ignore-not-found", "--timeout=90s")
		}
	})
	if out, err := e.kubectl(objects, "apply", "-f", "-"); err != nil {
		t.Fatalf("apply: %v: %s", err, out)
	}
	for _, kind := range []string{"ldapprovider", "application", "outpost"} {
		if out, err := e.kubectl("", "wait", "--for=condition=Ready", kind+"/"+name, "-n", ns, "--timeout=90s"); err != nil {
			t.Fatalf("the %s did not become Ready: %v: %s", kind, err, out)
		}
	}
	cr := &v1alpha1.LDAPProvider{}
	if err := e.kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, cr); err != nil {
		t.Fatal(err)
	}
	pk64, err := strconv.ParseInt(meta.GetExternalName(cr), 10, 32)
	if err != nil {
		t.Fatalf("external name %q is no pk", meta.GetExternalName(cr))
	}
	pk := int32(pk64)
	p, resp, err := e.ak.API.ProvidersAPI.ProvidersLdapRetrieve(ctx, pk).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	if p.GetBaseDn() != dn || p.GetBindMode() != api.LDAPAPIACCESSMODE_CACHED || p.GetMfaSupport() || p.GetAssignedApplicationSlug() != name {
		t.Errorf("the LDAP provider in Authentik: base DN %q, bind mode %q, MFA %v, application %q", p.GetBaseDn(), p.GetBindMode(), p.GetMfaSupport(), p.GetAssignedApplicationSlug())
	}
	eventually(t, "the ldap outpost serving the provider", func() (bool, string) {
		r := serviceRecord(t, strconv.Itoa(int(pk)))
		return len(r) == 1 && r[0].Serving && r[0].ProviderName == name, fmt.Sprintf("%+v", r)
	})

	// Someone changes the base DN in the UI.
	patch := api.NewPatchedLDAPProviderRequest()
	patch.SetBaseDn("DC=changed")
	if _, resp, err := e.ak.API.ProvidersAPI.ProvidersLdapPartialUpdate(ctx, pk).PatchedLDAPProviderRequest(*patch).Execute(); authentik.Classify(resp, err) != nil {
		t.Fatal(authentik.Classify(resp, err))
	}
	eventually(t, "the base DN restored", func() (bool, string) {
		got, resp, err := e.ak.API.ProvidersAPI.ProvidersLdapRetrieve(ctx, pk).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return false, err.Error()
		}
		return got.GetBaseDn() == dn, got.GetBaseDn()
	})

	for _, kind := range []string{"outpost", "application", "ldapprovider"} {
		if out, err := e.kubectl("", "delete", kind, name, "-n", ns, "--timeout=90s"); err != nil {
			t.Fatalf("delete %s: %v: %s", kind, err, out)
		}
	}
	if _, resp, err := e.ak.API.ProvidersAPI.ProvidersLdapRetrieve(ctx, pk).Execute(); !authentik.IsNotFound(authentik.Classify(resp, err)) {
		t.Errorf("the LDAP provider after its resource was deleted: want not found, got %v", authentik.Classify(resp, err))
	}
	if r := serviceRecord(t, strconv.Itoa(int(pk))); len(r) != 1 || r[0].Serving {
		t.Errorf("service record after the delete: %+v, want one record no longer serving", r)
	}
}
