// Package certificatekeypair manages Authentik certificate key pairs made
// from Kubernetes TLS Secrets. When the Secret's certificate is replaced
// (cert-manager renews it), the key pair is rewritten in place, so what
// signs with it keeps referring to it. The private key goes to Authentik
// only: it is never logged, put in an event, a diff or status.
package certificatekeypair

import (
	"context"
	"net/http"

	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrexternal"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

const errExternalName = "the external name must be the key pair's UUID"

// fieldPaths maps Authentik's request fields to this resource's fields, so
// Authentik's validation messages name what the user has to change.
var fieldPaths = map[string]string{
	"name":             "spec.forProvider.name",
	"certificate_data": "spec.forProvider.tlsSecretRef",
	"key_data":         "spec.forProvider.tlsSecretRef",
	// What Authentik reports of the certificate and key it holds.
	"fingerprint_sha256":    "spec.forProvider.tlsSecretRef",
	"private_key_available": "spec.forProvider.tlsSecretRef",
}

// Kind describes the CertificateKeyPair managed resource. A TLS Secret
// whose certificate changes (cert-manager renewed it) wakes the key pairs
// made from it, rather than leaving Authentik's copy to the next poll.
var Kind = mrsetup.Kind{
	GroupVersionKind: v1alpha1.CertificateKeyPairGroupVersionKind,
	GroupKind:        v1alpha1.CertificateKeyPairGroupKind,
	Object:           &v1alpha1.CertificateKeyPair{},
	List:             &v1alpha1.CertificateKeyPairList{},
	Dependencies: []mrbehavior.Dependency{{
		Object: &corev1.Secret{},
		Value:  secretFingerprint,
		Names: func(mg resource.Managed) []string {
			if r := mg.(*v1alpha1.CertificateKeyPair).Spec.ForProvider.TLSSecretRef; r != nil {
				return []string{r.Name}
			}
			return nil
		},
	}},
}

// secretFingerprint is the fingerprint of a TLS Secret's certificate; ""
// when it holds none.
func secretFingerprint(o client.Object) string {
	s, ok := o.(*corev1.Secret)
	if !ok {
		return ""
	}
	fp, _ := certificateFingerprint(string(s.Data[corev1.TLSCertKey]))
	return fp
}

// keyPairs is how a CertificateKeyPair is reconciled; kube reads its TLS
// Secret. Observe compares the spec and the Secret's certificate with the
// key pair. Update writes the name and the Secret's certificate and key
// with PUT, to the same UUID, so providers that sign with the key pair
// keep it. Authentik unsets a deleted key pair on the providers that used
// it. Key pair names are unique in Authentik, so what a create would
// collide with is the key pair with the spec's name; it matches when it
// holds the Secret's certificate.
func keyPairs(kube client.Reader) *mrexternal.Kind[*v1alpha1.CertificateKeyPair, v1alpha1.CertificateKeyPairParameters, api.CertificateKeyPair, string] {
	return &mrexternal.Kind[*v1alpha1.CertificateKeyPair, v1alpha1.CertificateKeyPairParameters, api.CertificateKeyPair, string]{
		Collection:      authentik.CertificateKeyPairs,
		FieldPaths:      fieldPaths,
		Noun:            "certificate key pair",
		ErrExternalName: errExternalName,
		ErrFindByName:   "cannot look for a certificate key pair with spec.forProvider.name",
		Spec: func(cr *v1alpha1.CertificateKeyPair) *v1alpha1.CertificateKeyPairParameters {
			return &cr.Spec.ForProvider
		},
		Compare: func(ctx context.Context, _ *authentik.Client, cr *v1alpha1.CertificateKeyPair, k *api.CertificateKeyPair) (v1alpha1.CertificateKeyPairParameters, string, error) {
			tls, err := readSecret(ctx, kube, cr)
			if err != nil {
				return v1alpha1.CertificateKeyPairParameters{}, "", err
			}
			return v1alpha1.CertificateKeyPairParameters{Name: ptr.To(k.Name)}, Diff(cr.Spec.ForProvider, tls, k), nil
		},
		LateInitialize: lateInitialize,
		Observe: func(cr *v1alpha1.CertificateKeyPair, k *api.CertificateKeyPair) {
			cr.Status.AtProvider = observation(k)
		},
		Create: func(ctx context.Context, c *authentik.Client, cr *v1alpha1.CertificateKeyPair) (*api.CertificateKeyPair, *http.Response, error) {
			tls, err := readSecret(ctx, kube, cr)
			if err != nil {
				return nil, nil, mrexternal.Unsent(err)
			}
			return c.API.CryptoAPI.CryptoCertificatekeypairsCreate(ctx).CertificateKeyPairRequest(request(cr.Spec.ForProvider, tls)).Execute()
		},
		Update: func(ctx context.Context, c *authentik.Client, id string, cr *v1alpha1.CertificateKeyPair, _ mrexternal.Read[v1alpha1.CertificateKeyPairParameters, api.CertificateKeyPair]) (*api.CertificateKeyPair, *http.Response, error) {
			tls, err := readSecret(ctx, kube, cr)
			if err != nil {
				return nil, nil, mrexternal.Unsent(err)
			}
			if tls == nil {
				// Without a Secret there is no certificate to write; PATCH
				// keeps Authentik's.
				return c.API.CryptoAPI.CryptoCertificatekeypairsPartialUpdate(ctx, id).PatchedCertificateKeyPairRequest(api.PatchedCertificateKeyPairRequest{Name: cr.Spec.ForProvider.Name}).Execute()
			}
			return c.API.CryptoAPI.CryptoCertificatekeypairsUpdate(ctx, id).CertificateKeyPairRequest(request(cr.Spec.ForProvider, tls)).Execute()
		},
		Delete: func(ctx context.Context, c *authentik.Client, id string) (*http.Response, error) {
			return c.API.CryptoAPI.CryptoCertificatekeypairsDestroy(ctx, id).Execute()
		},
		Name: func(cr *v1alpha1.CertificateKeyPair) *string { return cr.Spec.ForProvider.Name },
		List: func(ctx context.Context, c *authentik.Client, name string) ([]api.CertificateKeyPair, *http.Response, error) {
			return mrexternal.Results(c.API.CryptoAPI.CryptoCertificatekeypairsList(ctx).Name(name).Execute())
		},
		ObjectName: func(k *api.CertificateKeyPair) string { return k.Name },
	}
}

// ReconcilerOptions are the options particular to CertificateKeyPairs: the
// connector and, in place of the default name initializer (the UUID is
// Authentik's to choose), the adopter for unconfirmed creates. kube reads
// the TLS Secret.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	return keyPairs(kube).ReconcilerOptions(kube, conn)
}

// SetupGated adds a controller that reconciles CertificateKeyPairs once the
// CertificateKeyPair CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}
