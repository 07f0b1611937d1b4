package config

import (
	"context"
	"maps"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/group"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

const teamSecretName = "team-token"

func teamConfigObj(url string, finalizers ...string) *v1alpha1.ProviderConfig {
	return &v1alpha1.ProviderConfig{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: teamConfig, Finalizers: finalizers},
		Spec:       mrtest.LocalConfigSpec(url, teamSecretName),
	}
}

func secretObj(name string, finalizers ...string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: name, Finalizers: finalizers},
		Data:       map[string][]byte{mrtest.SecretKey: []byte(mrtest.Token)},
	}
}

func groupUsing(kind, config string) *v1alpha1.Group {
	return &v1alpha1.Group{
		ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "admins", UID: "6d1f2c3a-0000-4000-8000-0000000000dd"},
		Spec: v1alpha1.GroupSpec{
			ManagedResourceSpec: xpv2.ManagedResourceSpec{
				ProviderConfigReference: &xpv2.ProviderConfigReference{Kind: kind, Name: config},
				ManagementPolicies:      xpv2.ManagementPolicies{xpv2.ManagementActionAll},
			},
			ForProvider: v1alpha1.GroupParameters{Name: ptr.To("team-admins")},
		},
	}
}

// guarded reports, by label, which of the objects carry the guard's
// finalizer ("held"), which do not ("free") and which are gone.
func guarded(t *testing.T, kube client.Client, objs map[string]client.Object) map[string]string {
	t.Helper()
	out := map[string]string{}
	for key, o := range objs {
		err := kube.Get(context.Background(), client.ObjectKeyFromObject(o), o)
		switch {
		case kerrors.IsNotFound(err):
			out[key] = "gone"
		case err != nil:
			t.Fatal(err)
		case meta.FinalizerExists(o, finalizerCredentialsInUse):
			out[key] = "held"
		default:
			out[key] = "free"
		}
	}
	return out
}

// TestCredentialsGuard reconciles one namespace and reads which configs and
// Secrets the guard holds.
func TestCredentialsGuard(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		objs   []client.Object
		want   map[string]string
	}{
		"HoldsUsedConfig": {
			reason: "A managed resource uses the namespace's ProviderConfig: the config and its token Secret are held.",
			objs:   []client.Object{teamConfigObj("https://a"), secretObj(teamSecretName), groupUsing(v1alpha1.ProviderConfigKind, teamConfig)},
			want:   map[string]string{"ProviderConfig": "held", "Secret": "held", "other Secret": "free"},
		},
		"HoldsForEveryManagedKind": {
			reason: "Any managed kind counts as a user, not only the one the other cases use.",
			objs: []client.Object{teamConfigObj("https://a"), secretObj(teamSecretName), &v1alpha1.Application{
				ObjectMeta: metav1.ObjectMeta{Namespace: mrtest.Namespace, Name: "app"},
				Spec: v1alpha1.ApplicationSpec{ManagedResourceSpec: xpv2.ManagedResourceSpec{
					ProviderConfigReference: &xpv2.ProviderConfigReference{Kind: v1alpha1.ProviderConfigKind, Name: teamConfig},
				}},
			}},
			want: map[string]string{"ProviderConfig": "held", "Secret": "held", "other Secret": "free"},
		},
		"ReleasesUnusedConfig": {
			reason: "No managed resource uses the config any more: the guard lets go of it and its Secret.",
			objs:   []client.Object{teamConfigObj("https://a", finalizerCredentialsInUse), secretObj(teamSecretName, finalizerCredentialsInUse)},
			want:   map[string]string{"ProviderConfig": "free", "Secret": "free", "other Secret": "free"},
		},
		"ClusterConfigOfTheSameName": {
			reason: "A resource using the ClusterProviderConfig of the same name does not use the namespace's config.",
			objs:   []client.Object{teamConfigObj("https://a"), secretObj(teamSecretName), groupUsing(v1alpha1.ClusterProviderConfigKind, teamConfig)},
			want:   map[string]string{"ProviderConfig": "free", "Secret": "free", "other Secret": "free"},
		},
		"SecretNoLongerRead": {
			reason: "The config now reads another Secret: the one it read before is released.",
			objs:   []client.Object{teamConfigObj("https://a"), secretObj(teamSecretName), secretObj("unrelated", finalizerCredentialsInUse), groupUsing(v1alpha1.ProviderConfigKind, teamConfig)},
			want:   map[string]string{"ProviderConfig": "held", "Secret": "held", "other Secret": "free"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			objs := tc.objs
			if !hasSecret(objs, "unrelated") {
				objs = append(objs, secretObj("unrelated"))
			}
			env := mrtest.New(t, objs...)
			if _, err := env.Reconcile(newCredentialsGuard(env.Kube), types.NamespacedName{Name: mrtest.Namespace}); err != nil {
				t.Fatal(err)
			}
			got := guarded(t, env.Kube, map[string]client.Object{"ProviderConfig": teamConfigObj(""), "Secret": secretObj(teamSecretName), "other Secret": secretObj("unrelated")})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestNamespaceDeletionKeepsCredentials deletes, as the namespace controller
// does, a namespace holding a managed resource, the ProviderConfig it uses,
// the config's token Secret and its usage, all at once. The resource still
// deletes what it made in Authentik, and then the config and Secret go.
func TestNamespaceDeletionKeepsCredentials(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reason string
		guard  bool
		want   map[string]string
	}{
		"Guarded": {
			reason: "The guard keeps the config and Secret readable until the resource is gone, then lets them go.",
			guard:  true,
			want:   map[string]string{"Group": "gone", "Authentik group": "gone", "ProviderConfig": "gone", "Secret": "gone"},
		},
		"Unguarded": {
			reason: "Without the guard the Secret goes first and the resource can never delete its group.",
			want:   map[string]string{"Group": "stuck", "Authentik group": "left", "ProviderConfig": "gone", "Secret": "gone"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			ctx := context.Background()
			env.Create(secretObj(teamSecretName))
			// crossplane-runtime's usage reconciler holds the config while
			// usages exist; the namespace's sweep deletes the usages too.
			env.Create(teamConfigObj(env.Sim.URL, "in-use.crossplane.io"))
			cr := groupUsing(v1alpha1.ProviderConfigKind, teamConfig)
			env.Create(cr)
			r := env.Reconciler(group.Kind, group.ReconcilerOptions(env.Kube, env.Connector)...)
			env.Settle(r, cr)
			guard := newCredentialsGuard(env.Kube)
			ns := types.NamespacedName{Name: mrtest.Namespace}
			if tc.guard {
				if _, err := env.Reconcile(guard, ns); err != nil {
					t.Fatal(err)
				}
			}

			// The namespace controller's sweep: everything is deleted;
			// the usages, which have no finalizer, go at once, and with
			// them the config's in-use finalizer.
			usages := &v1alpha1.ProviderConfigUsageList{}
			if err := env.Kube.List(ctx, usages, client.InNamespace(mrtest.Namespace)); err != nil {
				t.Fatal(err)
			}
			for i := range usages.Items {
				env.Delete(&usages.Items[i])
			}
			env.Delete(secretObj(teamSecretName))
			pc := teamConfigObj("")
			env.Delete(pc)
			env.Get(pc)
			meta.RemoveFinalizer(pc, "in-use.crossplane.io")
			if err := env.Kube.Update(ctx, pc); client.IgnoreNotFound(err) != nil {
				t.Fatal(err)
			}
			env.Delete(cr)

			got := map[string]string{"Group": "stuck", "Authentik group": "left"}
			for range 5 {
				_, _ = env.Reconcile(r, client.ObjectKeyFromObject(cr))
				if tc.guard {
					if _, err := env.Reconcile(guard, ns); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := env.Kube.Get(ctx, client.ObjectKeyFromObject(cr), &v1alpha1.Group{}); kerrors.IsNotFound(err) {
				got["Group"] = "gone"
			}
			l, resp, err := env.Authentik.API.CoreAPI.CoreGroupsList(ctx).Name("team-admins").Execute()
			if err := authentik.Classify(resp, err); err != nil {
				t.Fatal(err)
			}
			if len(l.Results) == 0 {
				got["Authentik group"] = "gone"
			}
			maps.Copy(got, guarded(t, env.Kube, map[string]client.Object{"ProviderConfig": teamConfigObj(""), "Secret": secretObj(teamSecretName)}))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func hasSecret(objs []client.Object, name string) bool {
	for _, o := range objs {
		if s, ok := o.(*corev1.Secret); ok && s.Name == name {
			return true
		}
	}
	return false
}
