package mrtest

import (
	"context"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// Spec is the managed resource spec of every kind's test resource: the
// Env's ClusterProviderConfig, every management action.
func Spec() xpv2.ManagedResourceSpec {
	return xpv2.ManagedResourceSpec{
		ProviderConfigReference: &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: ConfigName},
		ManagementPolicies:      xpv2.ManagementPolicies{xpv2.ManagementActionAll},
	}
}

// SpecWritingTo is Spec with the connection details written to the
// Secret named secret.
func SpecWritingTo(secret string) xpv2.ManagedResourceSpec {
	s := Spec()
	s.WriteConnectionSecretToReference = &xpv2.LocalSecretReference{Name: secret}
	return s
}

// A Status is what a test compares of a resource's status.
type Status struct {
	Ready  corev1.ConditionStatus
	Synced corev1.ConditionStatus
	// SyncedMessage and ReadyMessage are the text asked for, if the
	// condition says it.
	SyncedMessage string
	ReadyMessage  string
	ExternalName  string
}

// Status reads mg back and summarises its status; the zero Status if the
// API server no longer has it, and mg is then left as it was.
func (e *Env) Status(mg resource.Managed, messageHas string) Status {
	if err := e.Kube.Get(context.Background(), client.ObjectKeyFromObject(mg), mg); err != nil {
		return Status{}
	}
	s := Status{
		Ready:        mg.GetCondition(xpv2.TypeReady).Status,
		Synced:       mg.GetCondition(xpv2.TypeSynced).Status,
		ExternalName: meta.GetExternalName(mg),
	}
	if messageHas != "" && strings.Contains(mg.GetCondition(xpv2.TypeSynced).Message, messageHas) {
		s.SyncedMessage = messageHas
	}
	if messageHas != "" && strings.Contains(mg.GetCondition(xpv2.TypeReady).Message, messageHas) {
		s.ReadyMessage = messageHas
	}
	return s
}

// Response is Authentik's response to a request a test sends outside the
// provider, with an HTTP error classified as the provider's client does.
func Response[O any](o O, resp *http.Response, err error) (O, error) {
	return o, authentik.Classify(resp, err)
}

// Must is Response for a request that must succeed: the function it
// returns fails t on an error.
func Must[O any](o O, resp *http.Response, err error) func(testing.TB) O {
	return func(t testing.TB) O {
		t.Helper()
		if err := authentik.Classify(resp, err); err != nil {
			t.Fatal(err)
		}
		return o
	}
}

// Build applies mods to a kind's test resource cr and returns it.
func Build[T any](cr T, mods ...func(T)) T {
	for _, m := range mods {
		m(cr)
	}
	return cr
}
