package certificatekeypair

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
)

const (
	errNotKeyPair = "managed resource is not a CertificateKeyPair"
	errFindByName = "cannot look for a certificate key pair with spec.forProvider.name"
)

// candidates finds the key pair an unconfirmed create may have made, or
// that a create would collide with: key pair names are unique in
// Authentik, so it is the key pair with the spec's name. It matches when
// it holds the Secret's certificate.
func candidates(kube client.Reader, connect func(context.Context, *v1alpha1.CertificateKeyPair) (*authentik.Client, error)) mrbehavior.CandidateFinder {
	return func(ctx context.Context, mg resource.Managed) ([]mrbehavior.Candidate, error) {
		cr, ok := mg.(*v1alpha1.CertificateKeyPair)
		if !ok {
			return nil, errors.New(errNotKeyPair)
		}
		if cr.Spec.ForProvider.Name == nil {
			return nil, nil
		}
		ac, err := connect(ctx, cr)
		if err != nil {
			return nil, err
		}
		name := *cr.Spec.ForProvider.Name
		l, resp, err := ac.API.CryptoAPI.CryptoCertificatekeypairsList(ctx).Name(name).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return nil, errors.Wrap(err, errFindByName)
		}
		var out []mrbehavior.Candidate
		for i := range l.Results {
			k := &l.Results[i]
			if k.Name != name {
				continue
			}
			tls, err := readSecret(ctx, kube, cr)
			if err != nil {
				return nil, err
			}
			out = append(out, mrbehavior.Candidate{ExternalName: k.Pk, Description: fmt.Sprintf("certificate key pair %q", k.Name), Diff: Diff(cr.Spec.ForProvider, tls, k)})
		}
		return out, nil
	}
}
