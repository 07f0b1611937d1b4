package authentik

import (
	"context"
	"slices"
	"strings"

	"k8s.io/utils/ptr"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
)

// ErrNoSigningKey says that a spec's signingKey names no key pair.
const ErrNoSigningKey = "spec.forProvider.signingKey: no certificate key pair is named"

const errManyKeys = "spec.forProvider.signingKey: several certificate key pairs are named"

// SigningKeyUUID is the UUID of the certificate key pair k names, by UUID
// or by a name that must name exactly one; nil when k names none.
func (c *Client) SigningKeyUUID(ctx context.Context, k v1alpha1.SigningKeyParameters) (*string, error) {
	if k.SigningKeyID != nil {
		return ptr.To(strings.ToLower(*k.SigningKeyID)), nil
	}
	if k.SigningKey == nil {
		return nil, nil
	}
	uuids, err := c.signingKeys(ctx, *k.SigningKey)
	if err != nil {
		return nil, err
	}
	if len(uuids) > 1 {
		return nil, errors.Errorf("%s %q (%s); rename all but one in Authentik", errManyKeys, *k.SigningKey, strings.Join(uuids, ", "))
	}
	return &uuids[0], nil
}

// ObservedSigningKey is the key pair a provider signs with (key, a UUID;
// nil for none) in the shape of spec: by UUID, and by spec's name when
// that names it.
func (c *Client) ObservedSigningKey(ctx context.Context, spec v1alpha1.SigningKeyParameters, key *string) (v1alpha1.SigningKeyParameters, error) {
	var o v1alpha1.SigningKeyParameters
	if key != nil {
		o.SigningKey = key
		o.SigningKeyID = ptr.To(strings.ToLower(*key))
	}
	if spec.SigningKey == nil {
		return o, nil
	}
	uuids, err := c.signingKeys(ctx, *spec.SigningKey)
	if err != nil {
		return v1alpha1.SigningKeyParameters{}, err
	}
	if o.SigningKey != nil && slices.Contains(uuids, strings.ToLower(*o.SigningKey)) {
		o.SigningKey = spec.SigningKey
	}
	return o, nil
}

// signingKeys are the UUIDs of the key pairs named name; at least one.
func (c *Client) signingKeys(ctx context.Context, name string) ([]string, error) {
	uuids, err := c.CertificateKeyPairUUIDs(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(uuids) == 0 {
		return nil, errors.Errorf("%s %q", ErrNoSigningKey, name)
	}
	return uuids, nil
}
