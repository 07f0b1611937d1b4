package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// A ClusterProviderConfigSpec defines how the provider connects to one
// Authentik instance for managed resources in any namespace. Only the
// platform team should be able to write one: it may read its token from a
// Secret in any namespace or from the provider's own environment and files.
type ClusterProviderConfigSpec struct {
	// URL of the Authentik server, for example https://authentik.example.com.
	// The API path /api/v3 is appended by the provider.
	// +kubebuilder:validation:Pattern=`^https?://[^\s/]+(/.*)?$`
	URL string `json:"url"`

	// Credentials holds the Authentik API token (a token with intent "API").
	Credentials ProviderCredentials `json:"credentials"`

	// TLS configures how the Authentik server's certificate is verified.
	// +optional
	TLS *TLSConfig `json:"tls,omitempty"`

	// RequestTimeout bounds each request to Authentik, for example "30s".
	// +optional
	// +kubebuilder:default="30s"
	RequestTimeout *metav1.Duration `json:"requestTimeout,omitempty"`
}

// ProviderCredentials locates the Authentik API token of a
// ClusterProviderConfig.
type ProviderCredentials struct {
	// Source of the token. Secret reads it from the key named by secretRef.
	// +kubebuilder:validation:Enum=Secret;Environment;Filesystem
	// +kubebuilder:default=Secret
	Source xpv2.CredentialsSource `json:"source"`

	xpv2.CommonCredentialSelectors `json:",inline"`
}

// TLSConfig configures certificate verification for the Authentik server.
// +kubebuilder:validation:XValidation:rule="!(has(self.insecureSkipVerify) && self.insecureSkipVerify && has(self.caBundleSecretRef))",message="tls.insecureSkipVerify and tls.caBundleSecretRef cannot be used together"
type TLSConfig struct {
	// CABundleSecretRef selects a PEM bundle of certificate authorities that
	// sign the Authentik server's certificate, added to the system roots.
	// +optional
	CABundleSecretRef *xpv2.SecretKeySelector `json:"caBundleSecretRef,omitempty"`

	// InsecureSkipVerify turns off certificate verification. Only for test
	// installations: it lets anyone on the path read the API token.
	// +optional
	InsecureSkipVerify *bool `json:"insecureSkipVerify,omitempty"`
}

// The namespaced kind has its own spec types: whoever may write a
// ProviderConfig in a namespace must not gain credentials from elsewhere
// (the platform team's token, or the provider's own environment and files).
// A CRD rule cannot see metadata.namespace, so it cannot check that a
// Secret's namespace matches the config's; these types refuse a Secret
// namespace outright and the Secret is always read from the config's own
// namespace. The field is kept, not dropped, so a manifest copied from a
// ClusterProviderConfig is refused with an explanation instead of quietly
// reading another Secret. The provider checks the same again for objects
// the rules never saw (stored under an older CRD).

// A ProviderConfigSpec defines how the managed resources in one namespace
// connect to Authentik. Unlike a ClusterProviderConfig it reads its token
// and CA bundle only from Secrets in its own namespace.
type ProviderConfigSpec struct {
	// URL of the Authentik server, for example https://authentik.example.com.
	// The API path /api/v3 is appended by the provider.
	// +kubebuilder:validation:Pattern=`^https?://[^\s/]+(/.*)?$`
	URL string `json:"url"`

	// Credentials holds the Authentik API token (a token with intent "API"),
	// read from a Secret in this ProviderConfig's namespace.
	Credentials LocalCredentials `json:"credentials"`

	// TLS configures how the Authentik server's certificate is verified.
	// +optional
	TLS *LocalTLSConfig `json:"tls,omitempty"`

	// RequestTimeout bounds each request to Authentik, for example "30s".
	// +optional
	// +kubebuilder:default="30s"
	RequestTimeout *metav1.Duration `json:"requestTimeout,omitempty"`
}

// LocalCredentials locates the Authentik API token of a ProviderConfig: a
// key of a Secret in the ProviderConfig's own namespace.
type LocalCredentials struct {
	// Source of the token. A ProviderConfig reads it only from a Secret in
	// its own namespace; Environment and Filesystem read the provider's own
	// and are for ClusterProviderConfigs.
	// +kubebuilder:validation:XValidation:rule="self == 'Secret'",message="a ProviderConfig reads its token only from a Secret in its own namespace: spec.credentials.source must be Secret (Environment and Filesystem are for ClusterProviderConfigs)"
	// +kubebuilder:default=Secret
	Source xpv2.CredentialsSource `json:"source"`

	// SecretRef names the Secret, in this ProviderConfig's namespace, and
	// the key that holds the token.
	SecretRef LocalSecretKeySelector `json:"secretRef"`
}

// LocalTLSConfig configures certificate verification for the Authentik
// server of a ProviderConfig.
// +kubebuilder:validation:XValidation:rule="!(has(self.insecureSkipVerify) && self.insecureSkipVerify && has(self.caBundleSecretRef))",message="tls.insecureSkipVerify and tls.caBundleSecretRef cannot be used together"
type LocalTLSConfig struct {
	// CABundleSecretRef selects a PEM bundle of certificate authorities that
	// sign the Authentik server's certificate, added to the system roots. The
	// Secret is read from this ProviderConfig's namespace.
	// +optional
	CABundleSecretRef *LocalSecretKeySelector `json:"caBundleSecretRef,omitempty"`

	// InsecureSkipVerify turns off certificate verification. Only for test
	// installations: it lets anyone on the path read the API token.
	// +optional
	InsecureSkipVerify *bool `json:"insecureSkipVerify,omitempty"`
}

// A LocalSecretKeySelector names a key of a Secret in the namespace of the
// ProviderConfig that holds it.
// +kubebuilder:validation:XValidation:rule="!has(self.__namespace__) || size(self.__namespace__) == 0",message="a ProviderConfig reads Secrets only from its own namespace: leave namespace unset (a ClusterProviderConfig may name another namespace)",fieldPath=".namespace"
type LocalSecretKeySelector struct {
	// Name of the Secret, in the ProviderConfig's namespace.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Key of the Secret's data that holds the value.
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`

	// Namespace must stay unset: the Secret is always read from the
	// ProviderConfig's own namespace. It is accepted here only so that a
	// manifest naming another namespace is refused with that explanation.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// A ProviderConfigStatus reflects the observed state of a ProviderConfig
// or a ClusterProviderConfig: how many resources use it and, refreshed
// every poll interval and whenever the config or its Secret changes,
// whether Authentik answers, accepts the token and runs a supported version.
type ProviderConfigStatus struct {
	xpv2.ProviderConfigStatus `json:",inline"`

	// AuthentikVersion is the version Authentik reported at the last check,
	// empty while it cannot be reached or does not say.
	// +optional
	AuthentikVersion string `json:"authentikVersion,omitempty"`
}

// Condition types of a provider config, beside Ready. Ready is True when
// Authentik answers, accepts the token and runs a supported version (or
// does not say which); otherwise False with the reason of the first check
// that failed.
const (
	// TypeAuthentikReachable says whether Authentik's API answers at the
	// config's URL.
	TypeAuthentikReachable xpv2.ConditionType = "AuthentikReachable"
	// TypeTokenAccepted says whether Authentik accepts the config's token.
	TypeTokenAccepted xpv2.ConditionType = "TokenAccepted"
	// TypeVersionSupported says whether the Authentik version that answers
	// is in the range the provider supports.
	TypeVersionSupported xpv2.ConditionType = "VersionSupported"
	// TypeTokenPermitted says whether the token's user may create every
	// kind the provider manages (Authentik's RBAC).
	TypeTokenPermitted xpv2.ConditionType = "TokenPermitted"
	// TypeRouteDiscovery, on a ClusterProviderConfig of a provider started
	// with --enable-discovery, says whether the provider may list and watch
	// the route kinds discovery reads; a kind it may not stays off.
	TypeRouteDiscovery xpv2.ConditionType = "RouteDiscovery"
)

// Reasons of a provider config's conditions.
const (
	ReasonReachable          xpv2.ConditionReason = "Reachable"
	ReasonUnreachable        xpv2.ConditionReason = "Unreachable"
	ReasonTokenAccepted      xpv2.ConditionReason = "TokenAccepted"
	ReasonTokenRefused       xpv2.ConditionReason = "TokenRefused"
	ReasonSupportedVersion   xpv2.ConditionReason = "SupportedVersion"
	ReasonUnsupportedVersion xpv2.ConditionReason = "UnsupportedVersion"
	ReasonVersionUnknown     xpv2.ConditionReason = "VersionUnknown"
	// ReasonConfigInvalid: the config cannot be used at all (its Secret is
	// missing, or it names credentials it may not read).
	ReasonConfigInvalid xpv2.ConditionReason = "ConfigInvalid"
	// ReasonNotChecked: an earlier check failed, so this one was not made.
	ReasonNotChecked xpv2.ConditionReason = "NotChecked"
	// ReasonDiscoveryPermitted: route discovery may read every route kind.
	ReasonDiscoveryPermitted xpv2.ConditionReason = "Permitted"
	// ReasonPermissionMissing: permissions are missing, which the message
	// names: Authentik's, for a token (TokenPermitted, and then Ready), or
	// Kubernetes RBAC's, for a route kind's discovery.
	ReasonPermissionMissing xpv2.ConditionReason = "PermissionMissing"
	// ReasonPermissionsGranted: the token may create every kind.
	ReasonPermissionsGranted xpv2.ConditionReason = "PermissionsGranted"
)

// +kubebuilder:object:root=true

// A ProviderConfig configures how managed resources in its namespace reach
// Authentik.
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="REASON",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].reason"
// +kubebuilder:printcolumn:name="VERSION",type="string",JSONPath=".status.authentikVersion"
// +kubebuilder:printcolumn:name="URL",type="string",JSONPath=".spec.url"
// +kubebuilder:printcolumn:name="USERS",type="integer",JSONPath=".status.users",priority=1
// +kubebuilder:printcolumn:name="SECRET-NAME",type="string",JSONPath=".spec.credentials.secretRef.name",priority=1
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,provider,authentik},shortName=akpc
type ProviderConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ProviderConfigSpec   `json:"spec"`
	Status ProviderConfigStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ProviderConfigList contains a list of ProviderConfig.
type ProviderConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProviderConfig `json:"items"`
}

// +kubebuilder:object:root=true

// A ClusterProviderConfig configures how managed resources in any namespace
// reach Authentik.
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="REASON",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].reason"
// +kubebuilder:printcolumn:name="VERSION",type="string",JSONPath=".status.authentikVersion"
// +kubebuilder:printcolumn:name="URL",type="string",JSONPath=".spec.url"
// +kubebuilder:printcolumn:name="USERS",type="integer",JSONPath=".status.users",priority=1
// +kubebuilder:printcolumn:name="SECRET-NAME",type="string",JSONPath=".spec.credentials.secretRef.name",priority=1
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:resource:scope=Cluster,categories={crossplane,provider,authentik},shortName=akcpc
type ClusterProviderConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClusterProviderConfigSpec `json:"spec"`
	Status ProviderConfigStatus      `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClusterProviderConfigList contains a list of ClusterProviderConfig.
type ClusterProviderConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterProviderConfig `json:"items"`
}

// +kubebuilder:object:root=true

// A ProviderConfigUsage records that a managed resource uses a ProviderConfig
// or a ClusterProviderConfig, so the config is not deleted while in use.
// +kubebuilder:printcolumn:name="CONFIG-KIND",type="string",JSONPath=".providerConfigRef.kind"
// +kubebuilder:printcolumn:name="CONFIG-NAME",type="string",JSONPath=".providerConfigRef.name"
// +kubebuilder:printcolumn:name="RESOURCE-KIND",type="string",JSONPath=".resourceRef.kind"
// +kubebuilder:printcolumn:name="RESOURCE-NAME",type="string",JSONPath=".resourceRef.name"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,provider,authentik},shortName=akpcu
type ProviderConfigUsage struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	xpv2.TypedProviderConfigUsage `json:",inline"`
}

// +kubebuilder:object:root=true

// ProviderConfigUsageList contains a list of ProviderConfigUsage.
type ProviderConfigUsageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProviderConfigUsage `json:"items"`
}

// GetAuthentikVersion returns the Authentik version last reported.
func (pc *ProviderConfig) GetAuthentikVersion() string { return pc.Status.AuthentikVersion }

// SetAuthentikVersion records the Authentik version reported.
func (pc *ProviderConfig) SetAuthentikVersion(v string) { pc.Status.AuthentikVersion = v }

// GetAuthentikVersion returns the Authentik version last reported.
func (pc *ClusterProviderConfig) GetAuthentikVersion() string { return pc.Status.AuthentikVersion }

// SetAuthentikVersion records the Authentik version reported.
func (pc *ClusterProviderConfig) SetAuthentikVersion(v string) { pc.Status.AuthentikVersion = v }
