package mrtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

// SigningPair is the name of the CertificateKeyPair resource a
// SigningKeyRef's provider names in signingKeyRef.
const SigningPair = "signing-pair"

// A SigningKeyRef describes a provider kind that signs with a
// CertificateKeyPair named by spec.forProvider.signingKeyRef, resolved into
// signingKeyId.
type SigningKeyRef[T resource.Managed] struct {
	Kind    mrsetup.Kind
	Options func(e *Env) []managed.ReconcilerOption
	// Resource is a provider whose signingKeyRef names SigningPair.
	Resource func() T
	// SetRef points the resource's signingKeyRef at another name.
	SetRef func(cr T, name string)
	// SigningKeyID is the resource's spec.forProvider.signingKeyId.
	SigningKeyID func(cr T) string
	// SigningKeys are the signing keys of the providers in Authentik with
	// the resource's name, one per provider.
	SigningKeys func(t *testing.T, e *Env) []string
	// SetOtherKey makes the provider in Authentik sign with key.
	SetOtherKey func(t *testing.T, e *Env, cr T, key string)
	// Observe is the kind's external client's Observe of cr.
	Observe func(e *Env, cr T) (managed.ExternalObservation, error)
	// RefPath and IDField name the reference and the field it fills, for
	// a kind whose are not spec.forProvider.signingKeyRef and SigningKeyID
	// (a proxy provider's certificateRef fills Certificate).
	RefPath, IDField string
}

// keyPairResource is the CertificateKeyPair resource SigningPair with the
// given external name ("" for none yet).
func keyPairResource(externalName string) *v1alpha1.CertificateKeyPair {
	k := &v1alpha1.CertificateKeyPair{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: SigningPair}}
	if externalName != "" {
		meta.SetExternalName(k, externalName)
	}
	return k
}

// RunSigningKeyRef checks that the key pair named by reference signs, that
// a renewed key pair (same UUID) leaves the provider unwritten, that
// another key set in Authentik is drift named by signingKeyId and
// restored, that a key pair made again is followed, that a missing
// CertificateKeyPair is named, and that the provider waits for its key
// pair's UUID.
func RunSigningKeyRef[T resource.Managed](t *testing.T, s SigningKeyRef[T]) {
	if s.RefPath == "" {
		s.RefPath, s.IDField = "spec.forProvider.signingKeyRef", "SigningKeyID"
	}
	cases := map[string]struct {
		reason string
		// steps run with the UUID of the key pair the resource names; they
		// return the key pair the provider must then sign with, "" when no
		// provider may exist.
		steps      func(t *testing.T, e *Env, r reconcile.Reconciler, cr T, pair string) string
		messageHas string
		ready      corev1.ConditionStatus
		synced     corev1.ConditionStatus
	}{
		"RefIsWritten": {
			reason: "The key pair named by reference signs; its UUID is recorded in signingKeyId.",
			steps: func(t *testing.T, e *Env, r reconcile.Reconciler, cr T, pair string) string {
				e.Settle(r, cr)
				if got := s.SigningKeyID(cr); got != pair {
					t.Errorf("spec.forProvider.signingKeyId = %q, want %q", got, pair)
				}
				return pair
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"RenewedKeyPairLeavesProvider": {
			reason: "A key pair whose certificate is replaced keeps its UUID, so the provider is not written and keeps its pk.",
			steps: func(t *testing.T, e *Env, r reconcile.Reconciler, cr T, pair string) string {
				e.Settle(r, cr)
				pk := meta.GetExternalName(cr)
				if _, resp, err := e.Authentik.API.CryptoAPI.CryptoCertificatekeypairsUpdate(context.Background(), pair).CertificateKeyPairRequest(KeyPairRequest(t, SigningPair)).Execute(); authentik.Classify(resp, err) != nil {
					t.Fatal(authentik.Classify(resp, err))
				}
				e.PassReadAge()
				e.NoWrites(r, cr)
				if got := meta.GetExternalName(cr); got != pk {
					t.Errorf("external name after the renewal = %s, want %s", got, pk)
				}
				return pair
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"OtherKeyInAuthentikIsRestored": {
			reason: "Another signing key set in Authentik is drift, named by UUID in signingKeyId, and restored.",
			steps: func(t *testing.T, e *Env, r reconcile.Reconciler, cr T, pair string) string {
				e.Settle(r, cr)
				s.SetOtherKey(t, e, cr, e.Sim.Fixtures().Certificate)
				obs, err := s.Observe(e, cr.DeepCopyObject().(T))
				if err != nil {
					t.Fatal(err)
				}
				if obs.ResourceUpToDate || !strings.Contains(obs.Diff, s.IDField) || !strings.Contains(obs.Diff, pair) {
					t.Errorf("Observe after the signing key was changed: upToDate=%v diff=%q; want %s naming %s", obs.ResourceUpToDate, obs.Diff, s.IDField, pair)
				}
				e.PassReadAge()
				e.Settle(r, cr)
				return pair
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"KeyPairMadeAgainIsFollowed": {
			reason: "A CertificateKeyPair whose key pair was made again with a new UUID is followed on the next reconcile.",
			steps: func(t *testing.T, e *Env, r reconcile.Reconciler, cr T, _ string) string {
				e.Settle(r, cr)
				again := e.KeyPair(t, "signing again")
				k := keyPairResource("")
				e.Get(k)
				meta.SetExternalName(k, again)
				if err := e.Kube.Update(context.Background(), k); err != nil {
					t.Fatal(err)
				}
				e.Settle(r, cr)
				return again
			},
			ready: corev1.ConditionTrue, synced: corev1.ConditionTrue,
		},
		"MissingKeyPairNamesField": {
			reason: "A reference to a CertificateKeyPair that does not exist is reported on signingKeyRef, and nothing is made.",
			steps: func(t *testing.T, e *Env, r reconcile.Reconciler, cr T, _ string) string {
				s.SetRef(cr, "missing")
				if err := e.Kube.Update(context.Background(), cr); err != nil {
					t.Fatal(err)
				}
				_, _ = e.Reconcile(r, client.ObjectKeyFromObject(cr))
				return ""
			},
			messageHas: s.RefPath,
			ready:      corev1.ConditionUnknown, synced: corev1.ConditionFalse,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cr := s.Resource()
			e := New(t, cr)
			pair := e.KeyPair(t, SigningPair)
			e.Create(keyPairResource(pair))
			r := e.Reconciler(s.Kind, s.Options(e)...)
			want := tc.steps(t, e, r, cr, pair)

			e.Get(cr)
			type result struct {
				Ready, Synced corev1.ConditionStatus
				Message       bool
			}
			got := result{cr.GetCondition(xpv2.TypeReady).Status, cr.GetCondition(xpv2.TypeSynced).Status, strings.Contains(cr.GetCondition(xpv2.TypeSynced).Message, tc.messageHas)}
			if diff := cmp.Diff(result{tc.ready, tc.synced, true}, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, cr.GetCondition(xpv2.TypeSynced))
			}
			wantKeys := []string{}
			if want != "" {
				wantKeys = []string{want}
			}
			if diff := cmp.Diff(wantKeys, s.SigningKeys(t, e)); diff != "" {
				t.Errorf("%s\nthe providers' signing keys in Authentik: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
	t.Run("WaitsForKeyPair", func(t *testing.T) {
		t.Parallel()
		waitsForKeyPair(t, s)
	})
}

// A KeyPairRef is a kind whose resources name a CertificateKeyPair by
// reference (signingKeyRef, certificateRef).
type KeyPairRef[T resource.Managed] struct {
	Kind    mrsetup.Kind
	Options func(e *Env) []managed.ReconcilerOption
	// Resource is a resource whose reference names SigningPair.
	Resource func() T
	// Keys are the key pairs of the resource's objects in Authentik, one
	// per object.
	Keys func(t *testing.T, e *Env) []string
}

func waitsForKeyPair[T resource.Managed](t *testing.T, s SigningKeyRef[T]) {
	WaitsForKeyPair(t, KeyPairRef[T]{Kind: s.Kind, Options: s.Options, Resource: s.Resource, Keys: s.SigningKeys})
}

// WaitsForKeyPair checks that a resource whose reference names a
// CertificateKeyPair without a UUID yet waits, writing nothing, and is
// woken once the key pair has one.
func WaitsForKeyPair[T resource.Managed](t *testing.T, s KeyPairRef[T]) {
	t.Helper()
	cr := s.Resource()
	e := New(t, cr)
	pair := e.KeyPair(t, SigningPair)
	pending := keyPairResource("")
	e.Create(pending)
	r := mrbehavior.WaitsForDependencies(e.Kube, s.Kind.Object, s.Kind.Dependencies, e.Reconciler(s.Kind, s.Options(e)...), time.Minute)

	res, err := e.Reconcile(r, client.ObjectKeyFromObject(cr))
	if err != nil || res.RequeueAfter != time.Minute || e.Changes(cr) != 0 || len(s.Keys(t, e)) != 0 {
		t.Errorf("while the key pair has no UUID: result %+v, error %v, %d writes; want a wait of a poll, no write and no object", res, err, e.Changes(cr))
	}
	e.Get(pending)
	meta.SetExternalName(pending, pair)
	if err := e.Kube.Update(context.Background(), pending); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range s.Kind.Dependencies {
		if _, ok := d.Object.(*v1alpha1.CertificateKeyPair); ok && d.Value(pending) == pair {
			names = append(names, d.Names(cr)...)
		}
	}
	if diff := cmp.Diff([]string{SigningPair}, names); diff != "" {
		t.Errorf("the CertificateKeyPair dependency names the reference and resolves to the UUID: -want, +got:\n%s", diff)
	}
	e.Settle(r, cr)
	if diff := cmp.Diff([]string{pair}, s.Keys(t, e)); diff != "" {
		t.Errorf("the object uses its key pair once it has its UUID: -want, +got:\n%s", diff)
	}
}
