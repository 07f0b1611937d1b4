package v1alpha1

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// SigningKeyParameters name the certificate key pair a provider signs
// with (a SAML provider its responses, an OAuth2 provider its tokens):
// by name, by UUID or by a CertificateKeyPair reference.
type SigningKeyParameters struct {
	// SigningKey is the name of the certificate key pair that signs, for
	// example "authentik Self-signed Certificate". Unset, a SAML provider
	// signs nothing and an OAuth2 provider signs its tokens with the
	// client secret (HS256).
	// +optional
	// +kubebuilder:validation:MinLength=1
	SigningKey *string `json:"signingKey,omitempty"`

	// SigningKeyID is the UUID of the certificate key pair that signs;
	// signingKeyRef fills it. Use it or signingKey, not both.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`
	SigningKeyID *string `json:"signingKeyId,omitempty"`

	// SigningKeyRef names a CertificateKeyPair in this resource's namespace
	// that signs, resolved on every reconcile into signingKeyId. The
	// provider waits for the key pair's UUID. A renewed certificate keeps
	// the key pair's UUID, so the provider is not rewritten.
	// +optional
	SigningKeyRef *xpv2.Reference `json:"signingKeyRef,omitempty"`
}

// resolveSigningKey sets signingKeyId from the CertificateKeyPair
// signingKeyRef names, if it names one.
func (k *SigningKeyParameters) resolveSigningKey(ctx context.Context, c client.Reader, mg resource.Managed) error {
	if k.SigningKeyRef == nil {
		return nil
	}
	id, err := resolveKeyPair(ctx, c, mg, k.SigningKeyRef, "spec.forProvider.signingKeyRef")
	if err != nil {
		return err
	}
	k.SigningKeyID = id
	return nil
}
