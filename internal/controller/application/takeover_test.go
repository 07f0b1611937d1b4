package application

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// TestNoTakeover: an application whose slug is taken is never managed
// without consent, so a second team's resource cannot change or delete the
// first team's application.
func TestNoTakeover(t *testing.T) {
	t.Parallel()
	mrtest.RunTakeover(t, mrtest.Takeover{
		Kind:    Kind,
		Options: mrtest.OptionsOf(ReconcilerOptions),
		Existing: func(t *testing.T, e *mrtest.Env) string {
			proxyProvider(t, e, providerKind)
			return existingApplication(t, e, appSlug, nil).Slug
		},
		Resource: func(_ *mrtest.Env, adopt bool) resource.Managed {
			return application(func(cr *v1alpha1.Application) { cr.Spec.AdoptExisting = adopt })
		},
		Path: func(slug string) string { return "/core/applications/" + slug + "/" },
		Count: func(t *testing.T, e *mrtest.Env) int {
			l, resp, err := e.Authentik.API.CoreAPI.CoreApplicationsList(context.Background()).SuperuserFullList(true).Slug(appSlug).Execute()
			if err := authentik.Classify(resp, err); err != nil {
				t.Fatal(err)
			}
			return len(l.Results)
		},
		ListBefore: func(t *testing.T, e *mrtest.Env) {
			c := e.ClientAs(&v1alpha1.Application{})
			if _, err := authentik.Applications.FindCached(context.Background(), c, func(*api.Application) bool { return false }); err != nil {
				t.Fatal(err)
			}
		},
	})
}

// TestTakeOverByProvider: with consent, an application is taken over only
// if it has no provider or already belongs to the resource's provider; it
// keeps its slug and pk and is brought to the spec with an update. One that
// belongs to another provider is refused and left as it is.
func TestTakeOverByProvider(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		// owner is whose application exists: "ours", "none" or "other".
		owner string
		want  takeoverResult
	}{
		"OurProvider": {
			reason: "The Jobs' application of the provider being taken over is adopted and updated in place.",
			owner:  "ours",
			want:   takeoverResult{ExternalName: appSlug, Ready: corev1.ConditionTrue, SamePK: true, Name: appName, OwnedByOurs: true, Writes: map[string]int{"core_applications_update": 1}},
		},
		"NoProvider": {
			reason: "An application without a provider is adopted and given the resource's provider.",
			owner:  "none",
			want:   takeoverResult{ExternalName: appSlug, Ready: corev1.ConditionTrue, SamePK: true, Name: appName, OwnedByOurs: true, Writes: map[string]int{"core_applications_update": 1}},
		},
		"OtherProvider": {
			reason: "An application of another provider is refused, named, and not written to.",
			owner:  "other",
			want:   takeoverResult{Ready: corev1.ConditionFalse, SamePK: true, Name: "Existing " + appSlug, Refused: true, Writes: map[string]int{}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			ours := proxyProvider(t, env, providerKind)
			var owner *int32
			switch tc.owner {
			case "ours":
				owner = &ours
			case "other":
				owner = ptr.To(authentikProvider(t, env, "grafana"))
			}
			existing := existingApplication(t, env, appSlug, owner)
			env.Sim.ResetCounts()

			cr := application(func(cr *v1alpha1.Application) { cr.Spec.AdoptExisting = true })
			env.Create(cr)
			r := env.Reconciler(Kind, ReconcilerOptions(env.Kube, env.Connector)...)
			if tc.owner == "other" {
				for range 3 {
					_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
				}
				env.Get(cr)
			} else {
				env.Settle(r, cr)
			}
			a, err := retrieve(env, appSlug)
			if err != nil {
				t.Fatal(err)
			}
			synced := cr.GetCondition(xpv2.TypeSynced)
			got := takeoverResult{
				ExternalName: meta.GetExternalName(cr),
				Ready:        cr.GetCondition(xpv2.TypeReady).Status,
				SamePK:       a.Pk == existing.Pk,
				Name:         a.Name,
				OwnedByOurs:  a.Provider.Get() != nil && *a.Provider.Get() == ours,
				Refused:      strings.Contains(synced.Message, `application "Existing longhorn" (longhorn) exists in Authentik but is never taken over by this resource, even with spec.adoptExisting, so nothing was changed: it belongs to provider "grafana-proxy"`),
				Writes:       env.Sim.WriteCounts(),
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, synced)
			}
		})
	}
}

type takeoverResult struct {
	ExternalName string
	Ready        corev1.ConditionStatus
	SamePK       bool
	Name         string
	OwnedByOurs  bool
	Refused      bool
	Writes       map[string]int
}
