package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// CertificateKeyPairParameters are the fields of an Authentik certificate
// key pair that this resource manages.
type CertificateKeyPairParameters struct {
	// Name of the key pair. Key pair names are unique in Authentik.
	// +optional
	// +kubebuilder:validation:MinLength=1
	Name *string `json:"name,omitempty"`

	// TLSSecretRef names a Secret in this resource's namespace holding the
	// PEM certificate under tls.crt and its private key under tls.key, as a
	// kubernetes.io/tls Secret that cert-manager writes. When the
	// certificate in the Secret changes, the key pair in Authentik is
	// rewritten in place and keeps its UUID. The private key is sent to
	// Authentik and never logged nor shown in status.
	// +optional
	TLSSecretRef *xpv2.LocalSecretReference `json:"tlsSecretRef,omitempty"`
}

// CertificateKeyPairObservation is the key pair as Authentik reports it.
type CertificateKeyPairObservation struct {
	// PK is the key pair's UUID in Authentik, which providers name as
	// their signing key.
	PK *string `json:"pk,omitempty"`

	// FingerprintSHA256 is the SHA-256 fingerprint of the certificate
	// Authentik holds, colon-separated hex pairs.
	FingerprintSHA256 *string `json:"fingerprintSha256,omitempty"`

	// CertExpiry is when the certificate Authentik holds expires.
	CertExpiry *string `json:"certExpiry,omitempty"`

	// CertSubject is the certificate's subject as an RFC 4514 string.
	CertSubject *string `json:"certSubject,omitempty"`

	// PrivateKeyAvailable tells whether Authentik holds the private key,
	// which signing needs.
	PrivateKeyAvailable *bool `json:"privateKeyAvailable,omitempty"`

	// Managed is the key of a key pair that Authentik itself manages;
	// empty for the key pairs users make.
	Managed *string `json:"managed,omitempty"`
}

// A CertificateKeyPairSpec defines the desired state of a
// CertificateKeyPair.
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.name)",message="spec.forProvider.name is required unless managementPolicies only observe"
// +kubebuilder:validation:XValidation:rule="!('*' in self.managementPolicies || 'Create' in self.managementPolicies || 'Update' in self.managementPolicies) || has(self.forProvider.tlsSecretRef)",message="spec.forProvider.tlsSecretRef is required unless managementPolicies only observe"
type CertificateKeyPairSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	Adoption                 `json:",inline"`
	ForProvider              CertificateKeyPairParameters `json:"forProvider"`
}

// A CertificateKeyPairStatus represents the observed state of a
// CertificateKeyPair.
type CertificateKeyPairStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 CertificateKeyPairObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A CertificateKeyPair is an Authentik certificate key pair made from a
// Kubernetes TLS Secret, for example one cert-manager renews: Authentik's
// copy follows the Secret's certificate. Providers sign tokens and
// assertions with it. The external name is the key pair's UUID, which
// Authentik assigns.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="EXTERNAL-NAME",type="string",JSONPath=".metadata.annotations.crossplane\\.io/external-name"
// +kubebuilder:printcolumn:name="EXPIRES",type="string",JSONPath=".status.atProvider.certExpiry"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,authentik},shortName=akcert
type CertificateKeyPair struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   CertificateKeyPairSpec   `json:"spec"`
	Status CertificateKeyPairStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// CertificateKeyPairList contains a list of CertificateKeyPair.
type CertificateKeyPairList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CertificateKeyPair `json:"items"`
}

// CertificateKeyPair type metadata.
var (
	CertificateKeyPairKind, CertificateKeyPairGroupKind, CertificateKeyPairGroupVersionKind = kindOf(CertificateKeyPair{})
)

func init() {
	SchemeBuilder.Register(&CertificateKeyPair{}, &CertificateKeyPairList{})
}
