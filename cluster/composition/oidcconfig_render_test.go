//go:build render && linux

package composition

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The example OIDCConfigs, rendered as they are.
var (
	grafanaOIDCXR = filepath.Join(oidcExamplesDir, "grafana.yaml")
	immichOIDCXR  = filepath.Join(oidcExamplesDir, "immich.yaml")
	argocdOIDCXR  = filepath.Join(oidcExamplesDir, "argocd.yaml")
)

func renderOIDCConfig(t *testing.T, xr, observed string) (string, error) {
	t.Helper()
	return renderWith(t, oidcXRDFile, oidcCompositionFile, xr, observed)
}

// What the Grafana example composes; detached while its group is not bound.
func grafanaOIDCComposed(detached bool) string {
	detach := ""
	if detached {
		detach = "\n      detachProvider: true"
	}
	return `
composed:
- kind: Application
  namespace: monitoring
  name: grafana
  resource: application
  labels: {gitops.io/oidcconfig: grafana}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider:
      name: Grafana
      slug: grafana-oidc
      providerRef: {kind: OAuth2Provider, name: grafana}
      policyEngineMode: any` + detach + `
      requiredGroups: [platform]
      metaLaunchUrl: https://grafana.k8s.example.com
      group: Monitoring
      metaDescription: Dashboards and alerts
- kind: ExpressionPolicy
  namespace: monitoring
  name: grafana-access
  resource: access-policy
  labels: {gitops.io/oidcconfig: grafana}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider: {name: "grafana-oidc: allowed groups", expression: 'return ak_is_group_member(request.user, name="platform")'}
- kind: OAuth2Provider
  namespace: monitoring
  name: grafana
  resource: oauth2provider
  labels: {gitops.io/oidcconfig: grafana}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    writeConnectionSecretToRef: {name: grafana-oidc}
    forProvider:
      name: grafana-oidc
      clientType: confidential
      redirectUris: [{url: https://grafana.k8s.example.com/login/generic_oauth, matchingMode: strict}]
      scopeMappings: [goauthentik.io/providers/oauth2/scope-openid, goauthentik.io/providers/oauth2/scope-email, goauthentik.io/providers/oauth2/scope-profile]
      signingKey: authentik Self-signed Certificate
- kind: PolicyBinding
  namespace: monitoring
  name: grafana-access
  resource: access-policy-binding
  labels: {gitops.io/oidcconfig: grafana}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider: {applicationRef: {name: grafana}, policyRef: {name: grafana-access}, order: 1000}
- kind: PolicyBinding
  namespace: monitoring
  name: grafana-platform-` + groupHash("platform") + `
  resource: policybinding-platform
  labels: {gitops.io/oidcconfig: grafana}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider: {applicationRef: {name: grafana}, groupName: platform, order: 0}
`
}

// groupHash is the end of a group's PolicyBinding's name: the first six
// hex digits of the group's SHA-256, as the Composition's sha256sum gives.
func groupHash(group string) string {
	sum := sha256.Sum256([]byte(group))
	return hex.EncodeToString(sum[:])[:6]
}

// The platform group's binding once the group was deleted in Authentik.
const (
	platformDeletedMessage = `group "platform" bound by this PolicyBinding no longer exists in Authentik`
	platformDeleted        = `[{type: Ready, status: "False", reason: Unavailable, lastTransitionTime: "2026-01-01T00:00:00Z", message: '` + platformDeletedMessage + `'}, {type: Synced, status: "False", reason: ReconcileError, lastTransitionTime: "2026-01-01T00:00:00Z", message: 'observe failed: ` + platformDeletedMessage + `'}]`
)

// observedGrafanaOIDC is what Crossplane observes of the Grafana example's
// composed resources: the provider (with its issuer once known), the
// application (detached or serving), the platform group's binding and the
// access policy's binding ("" when it does not exist).
func observedGrafanaOIDC(issuer string, detached bool, providerName, binding, access string) string {
	spec := "{name: Grafana, slug: grafana-oidc, providerRef: {kind: OAuth2Provider, name: grafana}, provider: 11}"
	if detached {
		spec = "{name: Grafana, slug: grafana-oidc, providerRef: {kind: OAuth2Provider, name: grafana}, provider: 11, detachProvider: true}"
	}
	atProvider := "{pk: 11, clientId: grafana-client}"
	if issuer != "" {
		atProvider = "{pk: 11, clientId: grafana-client, issuer: " + issuer + "}"
	}
	appStatus := "{pk: 6a1f2c3a-0000-4000-8000-000000000011, launchUrl: https://grafana.k8s.example.com}"
	if providerName != "" {
		appStatus = "{pk: 6a1f2c3a-0000-4000-8000-000000000011, launchUrl: https://grafana.k8s.example.com, providerName: " + providerName + "}"
	}
	return `
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: OAuth2Provider
metadata:
  name: grafana
  namespace: monitoring
  annotations: {crossplane.io/composition-resource-name: oauth2provider, crossplane.io/external-name: "11"}
status:
  atProvider: ` + atProvider + `
  conditions: ` + ready + `
---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: Application
metadata:
  name: grafana
  namespace: monitoring
  annotations: {crossplane.io/composition-resource-name: application, crossplane.io/external-name: grafana-oidc}
spec:
  forProvider: ` + spec + `
status:
  atProvider: ` + appStatus + `
  conditions: ` + ready + `
---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: PolicyBinding
metadata:
  name: grafana-platform-` + groupHash("platform") + `
  namespace: monitoring
  annotations: {crossplane.io/composition-resource-name: policybinding-platform}
status:
  conditions: ` + binding + `
` + accessBindingObserved(access)
}

// accessBindingObserved is the observed binding of the Grafana example's
// access policy with the given conditions, "" for none.
func accessBindingObserved(conditions string) string {
	if conditions == "" {
		return ""
	}
	return `---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ExpressionPolicy
metadata:
  name: grafana-access
  namespace: monitoring
  annotations: {crossplane.io/composition-resource-name: access-policy}
status:
  conditions: ` + ready + `
---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: PolicyBinding
metadata:
  name: grafana-access
  namespace: monitoring
  annotations: {crossplane.io/composition-resource-name: access-policy-binding}
status:
  conditions: ` + conditions + `
`
}

// What the Argo CD example composes: the provider offers the groups claim
// it composes, by reference, beside Authentik's default scopes.
const argocdOIDCComposed = `
composed:
- kind: Application
  namespace: argocd
  name: argocd
  resource: application
  labels: {gitops.io/oidcconfig: argocd}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider: {name: Argo CD, slug: argocd_argocd, providerRef: {kind: OAuth2Provider, name: argocd}, policyEngineMode: any, metaLaunchUrl: https://argocd.example.com}
- kind: OAuth2Provider
  namespace: argocd
  name: argocd
  resource: oauth2provider
  labels: {gitops.io/oidcconfig: argocd}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    writeConnectionSecretToRef: {name: argocd-oidc}
    forProvider:
      name: argocd/argocd
      clientType: confidential
      redirectUris: [{url: https://argocd.example.com/auth/callback, matchingMode: strict}]
      scopeMappings: [goauthentik.io/providers/oauth2/scope-openid, goauthentik.io/providers/oauth2/scope-email, goauthentik.io/providers/oauth2/scope-profile]
      scopeMappingRefs: [{name: argocd-groups}]
      signingKey: authentik Self-signed Certificate
- kind: ScopeMapping
  namespace: argocd
  name: argocd-groups
  resource: groups-scope-mapping
  labels: {gitops.io/oidcconfig: argocd}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider:
      name: "argocd/argocd: groups claim"
      scopeName: groups
      description: See which groups you are in
      expression: 'return {"groups": [group.name for group in request.user.all_groups()]}'
`

// observedArgoCDOIDC is what Crossplane observes of the Argo CD example
// once Authentik serves it: the provider with its issuer, the application
// using it and the groups claim's mapping.
const observedArgoCDOIDC = `
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: OAuth2Provider
metadata:
  name: argocd
  namespace: argocd
  annotations: {crossplane.io/composition-resource-name: oauth2provider, crossplane.io/external-name: "12"}
status:
  atProvider: {pk: 12, clientId: argocd-client, issuer: https://authentik.example.com/application/o/argocd_argocd/}
  conditions: ` + ready + `
---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: Application
metadata:
  name: argocd
  namespace: argocd
  annotations: {crossplane.io/composition-resource-name: application, crossplane.io/external-name: argocd_argocd}
spec:
  forProvider: {name: Argo CD, slug: argocd_argocd, providerRef: {kind: OAuth2Provider, name: argocd}, provider: 12}
status:
  atProvider: {pk: 6a1f2c3a-0000-4000-8000-000000000012, launchUrl: https://argocd.example.com, providerName: argocd/argocd}
  conditions: ` + ready + `
---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ScopeMapping
metadata:
  name: argocd-groups
  namespace: argocd
  annotations: {crossplane.io/composition-resource-name: groups-scope-mapping, crossplane.io/external-name: 6a1f2c3a-0000-4000-8000-000000000013}
status:
  atProvider: {pk: 6a1f2c3a-0000-4000-8000-000000000013}
  conditions: ` + ready + `
`

func TestRenderOIDCConfig(t *testing.T) {
	const issuer = "https://authentik.example.com/application/o/grafana-oidc/"
	cases := map[string]struct {
		reason   string
		xr       string
		observed string
		want     string
	}{
		"GrafanaFirstRender": {
			reason: "The example composes a confidential OAuth2Provider writing its credentials to the named Secret, an Application that refers to it by kind and name but is detached, and one PolicyBinding for its group; nothing exists yet, so it is not Ready and not served.",
			xr:     grafanaOIDCXR,
			want: `
ready: "False"
why: 'Unready resources: access-policy, access-policy-binding, application, and 2 more'
status:
  access: not served
  accessReason: 'the application gets its provider once every allowed group is bound: group "platform": its policy binding does not exist in Authentik yet; access policy: its policy binding does not exist in Authentik yet'
` + grafanaOIDCComposed(true),
		},
		"GroupBoundAttaches": {
			reason:   "Once the PolicyBinding is Ready the Application is no longer detached; until Authentik's application has the provider and the issuer is known neither counts as Ready.",
			xr:       grafanaOIDCXR,
			observed: observedGrafanaOIDC("", true, "", ready, ready),
			want: `
ready: "False"
why: 'Unready resources: application, oauth2provider'
status:
  providerPk: 11
  clientId: grafana-client
  applicationSlug: grafana-oidc
  launchUrl: https://grafana.k8s.example.com
  access: not served
  accessReason: waiting for the application to use the provider
` + grafanaOIDCComposed(false),
		},
		"Served": {
			reason:   "With the binding Ready, the application serving the provider and the issuer known, the OIDCConfig is Ready and says who can log in; the status has the client id and issuer, never the secret.",
			xr:       grafanaOIDCXR,
			observed: observedGrafanaOIDC(issuer, false, "grafana-oidc", ready, ready),
			want: `
ready: "True"
status:
  providerPk: 11
  clientId: grafana-client
  issuer: ` + issuer + `
  applicationSlug: grafana-oidc
  launchUrl: https://grafana.k8s.example.com
  access: restricted to platform
  accessReason: ""
` + grafanaOIDCComposed(false),
		},
		"AccessPolicyPendingStaysDetached": {
			reason:   "A new OIDCConfig's application gets its provider only once the access policy is bound too, beside every group.",
			xr:       grafanaOIDCXR,
			observed: observedGrafanaOIDC("", true, "", ready, ""),
			want: `
ready: "False"
why: 'Unready resources: access-policy, access-policy-binding, application, and 1 more'
status:
  providerPk: 11
  clientId: grafana-client
  applicationSlug: grafana-oidc
  launchUrl: https://grafana.k8s.example.com
  access: not served
  accessReason: 'the application gets its provider once every allowed group is bound: access policy: its policy binding does not exist in Authentik yet'
` + grafanaOIDCComposed(true),
		},
		"AccessPolicyAddedToServedOIDCConfig": {
			reason:   "An OIDCConfig made before the access policy existed keeps serving while the policy is added: the application is not detached first.",
			xr:       grafanaOIDCXR,
			observed: observedGrafanaOIDC(issuer, false, "grafana-oidc", ready, ""),
			want: `
ready: "False"
why: 'Unready resources: access-policy, access-policy-binding'
status:
  providerPk: 11
  clientId: grafana-client
  issuer: ` + issuer + `
  applicationSlug: grafana-oidc
  launchUrl: https://grafana.k8s.example.com
  access: restricted to platform
  accessReason: ""
` + grafanaOIDCComposed(false),
		},
		"GroupDeletedDetaches": {
			reason:   "A binding that is no longer Ready (its group was deleted) detaches the provider again at once, and the status says why in the binding's words.",
			xr:       grafanaOIDCXR,
			observed: observedGrafanaOIDC(issuer, false, "grafana-oidc", platformDeleted, ready),
			want: `
ready: "False"
why: 'Unready resources: application, policybinding-platform'
status:
  providerPk: 11
  clientId: grafana-client
  issuer: ` + issuer + `
  applicationSlug: grafana-oidc
  launchUrl: https://grafana.k8s.example.com
  access: not served
  accessReason: 'the application gets its provider once every allowed group is bound: group "platform": ` + platformDeletedMessage + `'
` + grafanaOIDCComposed(true),
		},
		"GroupsClaimFirstRender": {
			reason: "groupsClaim composes a ScopeMapping for the groups scope, which the OAuth2Provider offers by reference beside the default scopes; without allowedGroups the application gets its provider at once.",
			xr:     argocdOIDCXR,
			want: `
ready: "False"
why: 'Unready resources: application, groups-scope-mapping, and oauth2provider'
status:
  access: not served
  accessReason: waiting for the application to use the provider
` + argocdOIDCComposed,
		},
		"GroupsClaimServed": {
			reason:   "With the mapping Ready, the application serving the provider and the issuer known, the OIDCConfig is Ready.",
			xr:       argocdOIDCXR,
			observed: observedArgoCDOIDC,
			want: `
ready: "True"
status:
  providerPk: 12
  clientId: argocd-client
  issuer: https://authentik.example.com/application/o/argocd_argocd/
  applicationSlug: argocd_argocd
  launchUrl: https://argocd.example.com
  access: open to every user
  accessReason: ""
` + argocdOIDCComposed,
		},
		"MinimalOpen": {
			reason: "Without allowedGroups the application gets its provider at once; names default to the namespace and name, the client to confidential with Authentik's openid, email and profile scopes and its self-signed key.",
			xr:     immichOIDCXR,
			want: `
ready: "False"
why: 'Unready resources: application, oauth2provider'
status:
  access: not served
  accessReason: waiting for the application to use the provider
composed:
- kind: Application
  namespace: media
  name: immich
  resource: application
  labels: {gitops.io/oidcconfig: immich}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider: {name: immich, slug: media_immich, providerRef: {kind: OAuth2Provider, name: immich}, policyEngineMode: any}
- kind: OAuth2Provider
  namespace: media
  name: immich
  resource: oauth2provider
  labels: {gitops.io/oidcconfig: immich}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    writeConnectionSecretToRef: {name: immich-oidc}
    forProvider:
      name: media/immich
      clientType: confidential
      redirectUris: [{url: https://photos.example.com/auth/login, matchingMode: strict}, {url: "app.immich:///oauth-callback", matchingMode: strict}]
      scopeMappings: [goauthentik.io/providers/oauth2/scope-openid, goauthentik.io/providers/oauth2/scope-email, goauthentik.io/providers/oauth2/scope-profile]
      signingKey: authentik Self-signed Certificate
`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := renderOIDCConfig(t, tc.xr, tc.observed)
			if err != nil {
				t.Fatalf("%s\n%v", tc.reason, err)
			}
			if diff := cmp.Diff(mustRendered(t, tc.want), summarize(t, out), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\ncrank render: -want, +got:\n%s", tc.reason, diff)
			}
			if strings.Contains(out, "client_secret") || strings.Contains(out, "clientSecret") {
				t.Errorf("%s\nthe rendered objects name a client secret:\n%s", tc.reason, out)
			}
		})
	}
}

func TestValidateRenderedOIDCConfigs(t *testing.T) {
	runs := map[string][2]string{
		"grafana":        {grafanaOIDCXR, ""},
		"grafana-served": {grafanaOIDCXR, observedGrafanaOIDC("https://authentik.example.com/application/o/grafana-oidc/", false, "grafana-oidc", ready, ready)},
		"immich":         {immichOIDCXR, ""},
		"argocd":         {argocdOIDCXR, ""},
		"argocd-served":  {argocdOIDCXR, observedArgoCDOIDC},
	}
	checkRenderedValidate(t, oidcXRDFile, oidcCompositionFile, oidcExamplesDir, runs)
}

func TestValidateRefusesBrokenOIDCConfigs(t *testing.T) {
	want := map[string]string{
		"no-secret-name":              "spec.credentialsSecretName: Required value",
		"no-redirect-uris":            "spec.redirectUris: Invalid value: 0: spec.redirectUris in body should have at least 1 items",
		"redirect-uri-without-scheme": "spec.redirectUris must be URLs such as https://app.example.com/oauth/callback",
		"secret-name-upper-case":      "spec.credentialsSecretName must be a Kubernetes Secret name",
		"bad-client-type":             `spec.clientType: Unsupported value: "private": supported values: "confidential", "public"`,
		"reserved-slug":               "spec.authentikConfig.application.slug must not be one of Authentik's reserved slugs",
		"groups-claim-not-boolean":    `spec.authentikConfig.groupsClaim: Invalid value: "string": spec.authentikConfig.groupsClaim in body must be of type boolean`,
	}
	checkRefusals(t, "OIDCConfig", "oidcconfigs-broken.yaml", want)
}

// TestValidateRefusesBrokenScopeMappings: the ScopeMapping CRD, and the
// OAuth2Provider fields that name scope mappings, refuse bad manifests
// naming the field.
func TestValidateRefusesBrokenScopeMappings(t *testing.T) {
	checkRefusals(t, "ScopeMapping", "managed-broken.yaml", map[string]string{
		"no-scope-name":         "spec.forProvider.scopeName is required unless managementPolicies only observe",
		"no-expression":         "spec.forProvider.expression is required unless managementPolicies only observe",
		"scope-name-with-space": `spec.forProvider.scopeName: Invalid value: "groups email": spec.forProvider.scopeName in body should match`,
		"empty-expression":      "spec.forProvider.expression: Invalid value: \"\": spec.forProvider.expression in body should be at least 1 chars long",
	})
	checkRefusals(t, "OAuth2Provider", "managed-broken.yaml", map[string]string{
		"scope-mapping-id-not-uuid":      `spec.forProvider.scopeMappingIds[0]: Invalid value: "groups": spec.forProvider.scopeMappingIds[0] in body must be of type uuid`,
		"scope-mapping-ref-without-name": "spec.forProvider.scopeMappingRefs[0].name: Required value",
	})
}
