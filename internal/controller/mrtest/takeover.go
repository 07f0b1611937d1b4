package mrtest

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

// RefusedTakeover is what the Synced condition of a resource says when an
// object it did not make exists with its key.
const RefusedTakeover = "already exists in Authentik and this resource did not create it, so nothing was changed; to manage it set spec.adoptExisting: true"

// A Takeover describes, for one kind, an object that exists in Authentik
// before a managed resource naming the same object (by name, slug, or
// group and application) is created.
type Takeover struct {
	Kind    mrsetup.Kind
	Options func(e *Env) []managed.ReconcilerOption
	// Existing makes the object in Authentik and returns the external name
	// a resource managing it has.
	Existing func(t *testing.T, e *Env) string
	// Resource is a managed resource whose create would make an object with
	// the existing one's key; adopt sets spec.adoptExisting.
	Resource func(e *Env, adopt bool) resource.Managed
	// Path is the existing object's API path below /api/v3.
	Path func(externalName string) string
	// Count is how many objects in Authentik have the key.
	Count func(t *testing.T, e *Env) int
	// ListBefore, if set, reads the shared list the kind's resources read
	// before the object is made, so that the list does not show it and
	// the resource only learns of it from Authentik refusing its create:
	// each case runs that way too.
	ListBefore func(t *testing.T, e *Env)
}

// takeoverOutcome is what a Takeover case checks.
type takeoverOutcome struct {
	Objects      int
	ExternalName string
	Ready        corev1.ConditionStatus
	Synced       corev1.ConditionStatus
	Refused      bool
	Unchanged    bool
}

// RunTakeover checks that an existing object is never adopted without
// consent (and stays byte-identical in Authentik's answers), and that it is
// adopted without a duplicate with spec.adoptExisting or its external name.
func RunTakeover(t *testing.T, tk Takeover) {
	cases := map[string]struct {
		reason  string
		adopt   bool
		name    bool
		refused bool
		// listBefore reads the shared list before the object is made.
		listBefore bool
	}{
		"NoConsent": {
			reason:  "An object the resource did not make is left unchanged and the resource says so.",
			refused: true,
		},
		"AdoptExisting": {
			reason: "spec.adoptExisting adopts the existing object instead of making another.",
			adopt:  true,
		},
		"ExternalName": {
			reason: "The object's id as the external name adopts it.",
			name:   true,
		},
	}
	if tk.ListBefore != nil {
		listed := make(map[string]bool, len(cases))
		for name := range cases {
			listed[name] = true
		}
		for name := range listed {
			tc := cases[name]
			tc.listBefore = true
			tc.reason += " The shared list was read before the object was made."
			cases[name+"SinceListed"] = tc
		}
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := New(t)
			if tc.listBefore {
				tk.ListBefore(t, e)
			}
			id := tk.Existing(t, e)
			before := e.RawJSON(t, tk.Path(id))
			mg := tk.Resource(e, tc.adopt)
			if tc.name {
				meta.SetExternalName(mg, id)
			}
			e.Create(mg)
			r := e.Reconciler(tk.Kind, tk.Options(e)...)
			key := types.NamespacedName{Namespace: mg.GetNamespace(), Name: mg.GetName()}
			if tc.refused {
				for range 3 {
					_, _ = e.Reconcile(r, key)
				}
				e.Get(mg)
			} else {
				e.Settle(r, mg)
			}
			synced := mg.GetCondition(xpv2.TypeSynced)
			got := takeoverOutcome{
				Objects:      tk.Count(t, e),
				ExternalName: meta.GetExternalName(mg),
				Ready:        mg.GetCondition(xpv2.TypeReady).Status,
				Synced:       synced.Status,
				Refused:      strings.Contains(synced.Message, RefusedTakeover),
				Unchanged:    cmp.Equal(before, e.RawJSON(t, tk.Path(id))),
			}
			want := takeoverOutcome{Objects: 1, ExternalName: id, Ready: corev1.ConditionTrue, Synced: corev1.ConditionTrue, Unchanged: got.Unchanged}
			if tc.refused {
				want = takeoverOutcome{Objects: 1, Ready: corev1.ConditionFalse, Synced: corev1.ConditionFalse, Refused: true, Unchanged: true}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, synced)
			}
		})
	}
}

// An OtherType describes, for a provider kind, a provider of another type
// that exists in Authentik with the name a managed resource's create would
// use: Authentik's provider names are unique across types.
type OtherType struct {
	Kind    mrsetup.Kind
	Options func(e *Env) []managed.ReconcilerOption
	// Other makes the provider of the other type and returns its API path
	// below /api/v3 and what the resource's Synced condition must say of it.
	Other func(t *testing.T, e *Env) (path, obstacle string)
	// Resource is a managed resource of the kind with the other provider's
	// name; adopt sets spec.adoptExisting.
	Resource func(e *Env, adopt bool) resource.Managed
	// Count is how many providers of the kind have the name.
	Count func(t *testing.T, e *Env) int
}

// otherTypeOutcome is what an OtherType case checks.
type otherTypeOutcome struct {
	Objects       int
	ExternalName  string
	Synced        corev1.ConditionStatus
	NamesObstacle bool
	// AcceptedWrites counts the writes Authentik accepted: a create it
	// refuses on the name changes nothing.
	AcceptedWrites int
	Unchanged      bool
}

// RunOtherType checks that a provider of another type with the resource's
// name is never taken over, not even with consent: Authentik accepts no
// write from the resource (a create may be sent, and refused on the name,
// when the kind learns of a taken name that way), the resource names the other provider as the obstacle, and
// leaves it byte-identical in Authentik's answers.
func RunOtherType(t *testing.T, ot OtherType) {
	cases := map[string]struct {
		reason string
		adopt  bool
	}{
		"NoConsent": {reason: "Without consent the provider of the other type is named and left alone."},
		"AdoptExisting": {
			reason: "spec.adoptExisting does not stretch to a provider of another type.",
			adopt:  true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := New(t)
			path, obstacle := ot.Other(t, e)
			before := e.RawJSON(t, path)
			accepted := e.Sim.Writes()

			mg := ot.Resource(e, tc.adopt)
			e.Create(mg)
			r := e.Reconciler(ot.Kind, ot.Options(e)...)
			for range 3 {
				_, _ = e.Reconcile(r, types.NamespacedName{Namespace: mg.GetNamespace(), Name: mg.GetName()})
			}
			e.Get(mg)
			synced := mg.GetCondition(xpv2.TypeSynced)
			got := otherTypeOutcome{
				Objects:        ot.Count(t, e),
				ExternalName:   meta.GetExternalName(mg),
				Synced:         synced.Status,
				NamesObstacle:  strings.Contains(synced.Message, obstacle),
				AcceptedWrites: e.Sim.Writes() - accepted,
				Unchanged:      before == e.RawJSON(t, path),
			}
			want := otherTypeOutcome{Synced: corev1.ConditionFalse, NamesObstacle: true, Unchanged: true}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nSynced: %+v", tc.reason, diff, synced)
			}
		})
	}
}

// RawJSON is the simulator's answer to GET path, byte for byte.
func (e *Env) RawJSON(t *testing.T, path string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, e.Sim.URL+"/api/v3"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// A Fixture describes a kind keyed by Authentik for the checks such kinds
// share: takeover, altered responses and an unreadable create.
type Fixture struct {
	Kind    mrsetup.Kind
	Options func(e *Env) []managed.ReconcilerOption
	// Resource is a new resource of the kind; adopt sets
	// spec.adoptExisting.
	Resource func(adopt bool) resource.Managed
	// Prepare, if set, makes what the resource needs in a new Env (a
	// Secret it names, a parent it refers to).
	Prepare func(t *testing.T, e *Env)
	// Path is the kind's collection below /api/v3, with a slash at each
	// end.
	Path string
	// CreateOp is the operation id of the kind's create.
	CreateOp string
	// Existing makes an object with the resource's name and returns its
	// external name.
	Existing func(t *testing.T, e *Env) string
	// Count is how many objects in Authentik have the resource's name.
	Count func(t *testing.T, e *Env) int
	// ListBefore, if set, is Takeover's ListBefore.
	ListBefore func(t *testing.T, e *Env)
	// Other, if set, is OtherType's Other, for a provider kind.
	Other func(t *testing.T, e *Env) (path, obstacle string)
}

func (f Fixture) env(t *testing.T, objs ...client.Object) *Env {
	e := New(t, objs...)
	if f.Prepare != nil {
		f.Prepare(t, e)
	}
	return e
}

// RunTakeover runs RunTakeover for the kind.
func (f Fixture) RunTakeover(t *testing.T) {
	RunTakeover(t, Takeover{
		Kind:    f.Kind,
		Options: f.Options,
		Existing: func(t *testing.T, e *Env) string {
			if f.Prepare != nil {
				f.Prepare(t, e)
			}
			return f.Existing(t, e)
		},
		Resource:   func(_ *Env, adopt bool) resource.Managed { return f.Resource(adopt) },
		Path:       func(id string) string { return f.Path + id + "/" },
		Count:      f.Count,
		ListBefore: f.ListBefore,
	})
}

// RunOtherType runs RunOtherType for the kind.
func (f Fixture) RunOtherType(t *testing.T) {
	RunOtherType(t, OtherType{
		Kind:     f.Kind,
		Options:  f.Options,
		Other:    f.Other,
		Resource: func(_ *Env, adopt bool) resource.Managed { return f.Resource(adopt) },
		Count:    f.Count,
	})
}

// RunResponses checks each case with CheckResponses on a new resource.
func (f Fixture) RunResponses(t *testing.T, cases map[string]ResponseCase) {
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cr := f.Resource(false)
			e := f.env(t, cr)
			e.CheckResponses(e.Reconciler(f.Kind, f.Options(e)...), cr, tc)
		})
	}
}

// RunUnreadableCreate runs CheckUnreadableCreate on a new resource.
func (f Fixture) RunUnreadableCreate(t *testing.T) {
	cr := f.Resource(false)
	e := f.env(t, cr)
	e.CheckUnreadableCreate(e.Reconciler(f.Kind, f.Options(e)...), cr, f.CreateOp, UnreadableCreate(f.Path), func() int { return f.Count(t, e) })
}

// DeleteOutside deletes the object at path below /api/v3 as someone other
// than the provider does: the connector's shared reads do not learn of it.
func (e *Env) DeleteOutside(t *testing.T, path string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodDelete, e.Sim.URL+"/api/v3"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE %s: %d", path, resp.StatusCode)
	}
}

// OtherProxyProvider makes a forward-auth proxy provider named name, the
// provider of another type for the SAML and LDAP kinds, and returns its
// API path below /api/v3 and how a resource's message names it.
func (e *Env) OtherProxyProvider(t *testing.T, name, host string) (path, named string) {
	t.Helper()
	flows := e.Sim.Fixtures().Flows
	req := api.NewProxyProviderRequest(name, flows[authentik.DefaultAuthorizationFlow], flows[authentik.DefaultInvalidationFlow], host)
	req.SetMode(api.PROXYMODE_FORWARD_SINGLE)
	pk := strconv.Itoa(int(Must(e.Authentik.API.ProvidersAPI.ProvidersProxyCreate(context.Background()).ProxyProviderRequest(*req).Execute())(t).Pk))
	return "/providers/proxy/" + pk + "/", `Proxy Provider "` + name + `" (` + pk + `)`
}
