package certificatekeypair

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
)

const (
	errGetSecret     = "cannot get the Secret named by spec.forProvider.tlsSecretRef"
	errNoCertificate = "spec.forProvider.tlsSecretRef: the Secret's " + corev1.TLSCertKey + " holds no PEM certificate"
)

// tlsPair is what a TLS Secret holds. Its key is only ever put in a
// request to Authentik: no method of tlsPair prints it.
type tlsPair struct {
	certificate string
	key         string
	// fingerprint is the SHA-256 fingerprint of the first certificate, as
	// Authentik writes it.
	fingerprint string
}

// readSecret reads the TLS Secret the spec names, in the resource's own
// namespace; nil when the spec names none.
func readSecret(ctx context.Context, kube client.Reader, cr *v1alpha1.CertificateKeyPair) (*tlsPair, error) {
	ref := cr.Spec.ForProvider.TLSSecretRef
	if ref == nil {
		return nil, nil
	}
	s := &corev1.Secret{}
	if err := kube.Get(ctx, types.NamespacedName{Namespace: cr.GetNamespace(), Name: ref.Name}, s); err != nil {
		return nil, errors.Wrapf(err, "%s (%s)", errGetSecret, ref.Name)
	}
	p := &tlsPair{certificate: strings.TrimSpace(string(s.Data[corev1.TLSCertKey])), key: strings.TrimSpace(string(s.Data[corev1.TLSPrivateKeyKey]))}
	fp, ok := certificateFingerprint(p.certificate)
	if !ok {
		return nil, errors.Errorf("%s (Secret %s)", errNoCertificate, ref.Name)
	}
	p.fingerprint = fp
	return p, nil
}

// certificateFingerprint is the SHA-256 fingerprint of the first
// CERTIFICATE block, the one Authentik loads: colon-separated lower-case
// hex pairs (authentik/crypto/models.py, fingerprint_sha256).
func certificateFingerprint(data string) (string, bool) {
	rest := []byte(data)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return "", false
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		sum := sha256.Sum256(b.Bytes)
		pairs := make([]string, len(sum))
		for i := range sum {
			pairs[i] = hex.EncodeToString(sum[i : i+1])
		}
		return strings.Join(pairs, ":"), true
	}
}

// request builds the body for a create or PUT: the name and the Secret's
// certificate and key.
func request(p v1alpha1.CertificateKeyPairParameters, tls *tlsPair) api.CertificateKeyPairRequest {
	r := api.NewCertificateKeyPairRequest(ptr.Deref(p.Name, ""), "")
	if tls != nil {
		r.CertificateData = tls.certificate
		r.KeyData = ptr.To(tls.key)
	}
	return *r
}

// view is what Diff compares: the name, and the certificate by its
// fingerprint, never by its data; of the key only whether Authentik holds
// one.
type view struct {
	Name                *string
	FingerprintSHA256   *string
	PrivateKeyAvailable *bool
}

// Diff compares the spec and its Secret with the key pair Authentik holds.
// Authentik never returns the certificate or the key, so the certificate
// is compared by the fingerprint Authentik reports. An empty result means
// up to date.
func Diff(spec v1alpha1.CertificateKeyPairParameters, tls *tlsPair, k *api.CertificateKeyPair) string {
	want := view{Name: spec.Name}
	got := view{}
	if spec.Name != nil {
		got.Name = ptr.To(k.Name)
	}
	if tls != nil {
		want.FingerprintSHA256 = ptr.To(tls.fingerprint)
		want.PrivateKeyAvailable = ptr.To(tls.key != "")
		got.FingerprintSHA256 = ptr.To(strings.ToLower(k.GetFingerprintSha256()))
		got.PrivateKeyAvailable = ptr.To(k.PrivateKeyAvailable)
	}
	return cmp.Diff(want, got)
}

// lateInitialize fills an unset name from Authentik and reports whether it
// did.
func lateInitialize(spec *v1alpha1.CertificateKeyPairParameters, observed v1alpha1.CertificateKeyPairParameters) bool {
	return mrbehavior.FillUnset(&spec.Name, observed.Name)
}

// observation is what status.atProvider shows of a key pair.
func observation(k *api.CertificateKeyPair) v1alpha1.CertificateKeyPairObservation {
	o := v1alpha1.CertificateKeyPairObservation{PK: ptr.To(k.Pk), PrivateKeyAvailable: ptr.To(k.PrivateKeyAvailable)}
	if v := k.GetFingerprintSha256(); v != "" {
		o.FingerprintSHA256 = ptr.To(v)
	}
	if v, ok := k.GetCertExpiryOk(); ok && v != nil {
		o.CertExpiry = ptr.To(v.UTC().Format(time.RFC3339))
	}
	if v := k.GetCertSubject(); v != "" {
		o.CertSubject = ptr.To(v)
	}
	if v := k.GetManaged(); v != "" {
		o.Managed = ptr.To(v)
	}
	return o
}
