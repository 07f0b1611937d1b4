// Package certificatekeypair manages Authentik certificate key pairs made
// from Kubernetes TLS Secrets. When the Secret's certificate is replaced
// (cert-manager renews it), the key pair is rewritten in place, so what
// signs with it keeps referring to it. The private key goes to Authentik
// only: it is never logged, put in an event, a diff or status.
package certificatekeypair

import (
	"context"

	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

const (
	errExternalName = "the external name must be the key pair's UUID"
	errGet          = "cannot get certificate key pair"
	errCreate       = "cannot create certificate key pair"
	errUpdate       = "cannot update certificate key pair"
	errDelete       = "cannot delete certificate key pair"
)

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

// ReconcilerOptions are the options particular to CertificateKeyPairs: the
// connector and, in place of the default name initializer (the UUID is
// Authentik's to choose), the adopter for unconfirmed creates. kube reads
// the TLS Secret.
func ReconcilerOptions(kube client.Client, conn *authentik.Connector) []managed.ReconcilerOption {
	c := mrsetup.NewConnector[*v1alpha1.CertificateKeyPair](conn, func(ac *authentik.Client) *external {
		return &external{client: ac, kube: kube}
	})
	return []managed.ReconcilerOption{
		managed.WithTypedExternalConnector(mrbehavior.ObserveAfterCreate[*v1alpha1.CertificateKeyPair](c)),
		managed.WithInitializers(&mrbehavior.Adopter{Kube: kube, Find: candidates(kube, c.Client)}),
	}
}

// SetupGated adds a controller that reconciles CertificateKeyPairs once the
// CertificateKeyPair CRD exists.
func SetupGated(mgr ctrl.Manager, o controller.Options, conn *authentik.Connector) error {
	mrsetup.SetupGated(mgr, o, conn, Kind, ReconcilerOptions)
	return nil
}

// external reconciles one CertificateKeyPair with Authentik.
type external struct {
	client *authentik.Client
	kube   client.Reader
}

func (e *external) api() *api.CryptoAPIService { return e.client.API.CryptoAPI }

// Observe reads the key pair by its UUID and compares it with the spec and
// the certificate in its Secret.
func (e *external) Observe(ctx context.Context, cr *v1alpha1.CertificateKeyPair) (managed.ExternalObservation, error) {
	en := meta.GetExternalName(cr)
	if en == "" {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	id, err := mrbehavior.ExternalUUID(en, errExternalName)
	if err != nil {
		return managed.ExternalObservation{}, err
	}
	k, err := authentik.CertificateKeyPairs.GetCached(ctx, e.client, id)
	if err != nil {
		if authentik.IsNotFound(err) {
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		return managed.ExternalObservation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errGet)
	}
	tls, err := readSecret(ctx, e.kube, cr)
	if err != nil {
		return managed.ExternalObservation{}, err
	}

	diff := Diff(cr.Spec.ForProvider, tls, k)
	lateInit := LateInitialize(&cr.Spec.ForProvider, k)
	cr.Status.AtProvider = observation(k)
	cr.SetConditions(xpv2.Available())

	return managed.ExternalObservation{
		ResourceExists:          true,
		ResourceUpToDate:        diff == "",
		ResourceLateInitialized: lateInit,
		Diff:                    diff,
	}, nil
}

// Create makes the key pair from the Secret and records its UUID as the
// external name.
func (e *external) Create(ctx context.Context, cr *v1alpha1.CertificateKeyPair) (managed.ExternalCreation, error) {
	if adopted, err := mrbehavior.AdoptOnCreate(ctx, cr, candidates(e.kube, e.connected)); adopted || err != nil {
		return managed.ExternalCreation{}, err
	}
	tls, err := readSecret(ctx, e.kube, cr)
	if err != nil {
		return managed.ExternalCreation{}, err
	}
	k, resp, err := e.api().CryptoCertificatekeypairsCreate(ctx).CertificateKeyPairRequest(request(cr.Spec.ForProvider, tls)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		if authentik.CreateMayHaveSucceeded(err) {
			// Authentik may have made the key pair although its response
			// was lost or unreadable; the adopter looks for it before
			// creating again.
			mrbehavior.MarkCreateUnconfirmed(cr)
		}
		return managed.ExternalCreation{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errCreate)
	}
	authentik.CertificateKeyPairs.KeepCreated(e.client, k)
	meta.SetExternalName(cr, k.Pk)
	cr.Status.AtProvider = observation(k)
	return managed.ExternalCreation{}, nil
}

// Update writes the name and the Secret's certificate and key with PUT, to
// the same UUID, so providers that sign with the key pair keep it.
func (e *external) Update(ctx context.Context, cr *v1alpha1.CertificateKeyPair) (managed.ExternalUpdate, error) {
	id, err := mrbehavior.ExternalUUID(meta.GetExternalName(cr), errExternalName)
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	tls, err := readSecret(ctx, e.kube, cr)
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	if tls == nil {
		// Without a Secret there is no certificate to write; PATCH keeps
		// Authentik's.
		k, resp, err := e.api().CryptoCertificatekeypairsPartialUpdate(ctx, id).PatchedCertificateKeyPairRequest(api.PatchedCertificateKeyPairRequest{Name: cr.Spec.ForProvider.Name}).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return managed.ExternalUpdate{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errUpdate)
		}
		cr.Status.AtProvider = observation(k)
		return managed.ExternalUpdate{}, nil
	}
	k, resp, err := e.api().CryptoCertificatekeypairsUpdate(ctx, id).CertificateKeyPairRequest(request(cr.Spec.ForProvider, tls)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return managed.ExternalUpdate{}, errors.Wrap(authentik.WithFieldPaths(err, fieldPaths), errUpdate)
	}
	cr.Status.AtProvider = observation(k)
	return managed.ExternalUpdate{}, nil
}

// Delete removes the key pair; one that is already gone counts as deleted.
// Authentik unsets it on the providers that used it.
func (e *external) Delete(ctx context.Context, cr *v1alpha1.CertificateKeyPair) (managed.ExternalDelete, error) {
	cr.SetConditions(xpv2.Deleting())
	id, err := mrbehavior.ExternalUUID(meta.GetExternalName(cr), errExternalName)
	if err != nil {
		return managed.ExternalDelete{}, err
	}
	resp, err := e.api().CryptoCertificatekeypairsDestroy(ctx, id).Execute()
	if err := authentik.Classify(resp, err); err != nil && !authentik.IsNotFound(err) {
		return managed.ExternalDelete{}, errors.Wrap(err, errDelete)
	}
	return managed.ExternalDelete{}, nil
}

// connected is the client this external client uses, for finding what
// exists before a create.
func (e *external) connected(context.Context, *v1alpha1.CertificateKeyPair) (*authentik.Client, error) {
	return e.client, nil
}

// Disconnect releases nothing: HTTP connections are pooled per config.
func (e *external) Disconnect(_ context.Context) error { return nil }
