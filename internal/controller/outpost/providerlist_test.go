package outpost

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/google/go-cmp/cmp"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

// racer is a transport through which, after each of the first n writes of
// an outpost's provider list, a writer outside the provider writes back the
// list it read before that write, as a second process doing its own
// read-modify-write would.
type racer struct {
	env  *mrtest.Env
	id   string
	mu   sync.Mutex
	n    int
	read []int32
}

func (r *racer) RoundTrip(req *http.Request) (*http.Response, error) {
	isList := strings.HasSuffix(req.URL.Path, "/outposts/instances/"+r.id+"/")
	if isList && req.Method == http.MethodPatch {
		r.mu.Lock()
		r.read = providersOf(r.env.T, r.env, r.id)
		r.mu.Unlock()
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !isList || req.Method != http.MethodPatch || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n > 0 {
		r.n--
		setProviders(r.env.T, r.env, r.id, r.read...)
	}
	return resp, nil
}

// clientThrough is a client for the simulator whose requests pass rt, and
// nothing else: it shares no reads with the Env's clients.
func clientThrough(env *mrtest.Env, rt http.RoundTripper) *authentik.Client {
	env.T.Helper()
	c, err := authentik.New(authentik.Config{URL: env.Sim.URL, Token: mrtest.Token}, nil)
	if err != nil {
		env.T.Fatal(err)
	}
	c.API.GetConfig().HTTPClient = &http.Client{Transport: rt, Timeout: 10 * time.Second}
	return c
}

func TestListEditorApply(t *testing.T) {
	type want struct {
		Providers []int32
		Writes    int
		ErrHas    string
		NotFound  bool
		// Mismatches and Rewrites are what the outpost's metrics counted.
		Mismatches, Rewrites float64
	}
	cases := map[string]struct {
		reason string
		before func(mine, other int32) []int32
		edit   func(mine int32) authentik.OutpostEdit
		races  int
		id     string
		want   func(mine, other int32) want
	}{
		"AddKeepsOthers": {
			reason: "Adding a provider writes once and keeps the providers already there.",
			before: func(_, other int32) []int32 { return []int32{other} },
			edit:   func(mine int32) authentik.OutpostEdit { return authentik.OutpostEdit{Add: []int32{mine}} },
			want:   func(mine, other int32) want { return want{Providers: sorted(mine, other), Writes: 1} },
		},
		"AlreadyThere": {
			reason: "A list that holds the edit already is not written.",
			before: func(mine, other int32) []int32 { return []int32{mine, other} },
			edit:   func(mine int32) authentik.OutpostEdit { return authentik.OutpostEdit{Add: []int32{mine}} },
			want:   func(mine, other int32) want { return want{Providers: sorted(mine, other)} },
		},
		"BeforeWriteFailureWritesNothing": {
			reason: "A list that lacks the edit runs BeforeWrite first; when it fails nothing is written.",
			before: func(_, other int32) []int32 { return []int32{other} },
			edit: func(mine int32) authentik.OutpostEdit {
				return authentik.OutpostEdit{Add: []int32{mine}, BeforeWrite: func(context.Context) error { return errors.New("intent not recorded") }}
			},
			want: func(_, other int32) want {
				return want{Providers: sorted(other), ErrHas: "cannot prepare to write the provider list of outpost"}
			},
		},
		"NoBeforeWriteWithoutWrite": {
			reason: "A list that holds the edit already does not run BeforeWrite.",
			before: func(mine, other int32) []int32 { return []int32{mine, other} },
			edit: func(mine int32) authentik.OutpostEdit {
				return authentik.OutpostEdit{Add: []int32{mine}, BeforeWrite: func(context.Context) error { return errors.New("must not run") }}
			},
			want: func(mine, other int32) want { return want{Providers: sorted(mine, other)} },
		},
		"RemoveKeepsOthers": {
			reason: "Removing a provider keeps every other.",
			before: func(mine, other int32) []int32 { return []int32{mine, other} },
			edit:   func(mine int32) authentik.OutpostEdit { return authentik.OutpostEdit{Remove: []int32{mine}} },
			want:   func(_, other int32) want { return want{Providers: sorted(other), Writes: 1} },
		},
		"LostWriteIsRepeated": {
			reason: "A write another process overwrote right after is noticed on the read back and made again, keeping that process's list.",
			before: func(_, other int32) []int32 { return []int32{other} },
			edit:   func(mine int32) authentik.OutpostEdit { return authentik.OutpostEdit{Add: []int32{mine}} },
			races:  1,
			want: func(mine, other int32) want {
				return want{Providers: sorted(mine, other), Writes: 2, Mismatches: 1, Rewrites: 1}
			},
		},
		"KeepsLosingGivesUp": {
			reason: "A write that keeps being overwritten is given up after authentik.DefaultListWrites writes, with an error that says so.",
			before: func(_, other int32) []int32 { return []int32{other} },
			edit:   func(mine int32) authentik.OutpostEdit { return authentik.OutpostEdit{Add: []int32{mine}} },
			races:  100,
			want: func(_, other int32) want {
				return want{Providers: sorted(other), Writes: authentik.DefaultListWrites, Mismatches: authentik.DefaultListWrites, Rewrites: authentik.DefaultListWrites - 1, ErrHas: "another writer outside this provider keeps replacing the provider list"}
			},
		},
		"RefusalNamesField": {
			reason: "Authentik's 400 names the field the caller maps providers to.",
			before: func(_, other int32) []int32 { return []int32{other} },
			edit: func(int32) authentik.OutpostEdit {
				return authentik.OutpostEdit{Add: []int32{9999}, FieldPaths: map[string]string{"providers": "spec.forProvider.providerId"}}
			},
			want: func(_, other int32) want {
				return want{Providers: sorted(other), ErrHas: `spec.forProvider.providerId (providers): Invalid pk "9999" - object does not exist.`}
			},
		},
		"MissingOutpost": {
			reason: "An outpost that does not exist is Authentik's 404.",
			before: func(_, other int32) []int32 { return []int32{other} },
			edit:   func(mine int32) authentik.OutpostEdit { return authentik.OutpostEdit{Add: []int32{mine}} },
			id:     "00000000-0000-4000-8000-000000000000",
			want:   func(_, other int32) want { return want{Providers: sorted(other), NotFound: true, ErrHas: "Not found."} },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := mrtest.New(t)
			id := env.Sim.Fixtures().EmbeddedOutpost
			mine, other := newProvider(t, env, "longhorn"), newProvider(t, env, "grafana")
			setProviders(t, env, id, tc.before(mine, other)...)
			target := id
			if tc.id != "" {
				target = tc.id
			}
			c := clientThrough(env, &racer{env: env, id: id, n: tc.races})
			env.Sim.ResetCounts()
			outpost := map[string]string{"outpost": strings.ToLower(target)}
			writesBefore := metrics.Value(ctrlmetrics.Registry, metrics.NameOutpostListWrites, outpost)
			mismatchesBefore := metrics.Value(ctrlmetrics.Registry, metrics.NameOutpostListMismatches, outpost)
			rewritesBefore := metrics.Value(ctrlmetrics.Registry, metrics.NameOutpostListRewrites, outpost)

			_, writes, err := authentik.NewOutpostLists(authentik.SerializePerOutpost).Apply(context.Background(), c, target, tc.edit(mine))

			got := want{Providers: providersOf(t, env, id), Writes: writes, NotFound: authentik.IsNotFound(err),
				Mismatches: metrics.Value(ctrlmetrics.Registry, metrics.NameOutpostListMismatches, outpost) - mismatchesBefore,
				Rewrites:   metrics.Value(ctrlmetrics.Registry, metrics.NameOutpostListRewrites, outpost) - rewritesBefore,
			}
			if n := metrics.Value(ctrlmetrics.Registry, metrics.NameOutpostListWrites, outpost) - writesBefore; n != float64(writes) {
				t.Errorf("%s\nthe writes metric counted %v writes, Apply made %d", tc.reason, n, writes)
			}
			w := tc.want(mine, other)
			if err != nil && w.ErrHas != "" && strings.Contains(err.Error(), w.ErrHas) {
				got.ErrHas = w.ErrHas
			}
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s\nerror: %v", tc.reason, diff, err)
			}
			if n := env.Sim.Counts()["outposts_instances_partial_update"]; err == nil && n != tc.races+writes {
				t.Errorf("%s\n%d PATCHes, want %d", tc.reason, n, writes+tc.races)
			}
		})
	}
}

func TestListEditorBatches(t *testing.T) {
	t.Parallel()
	const edits = 20
	type want struct {
		Missing []int32
		Failed  []int32
	}
	cases := map[string]struct {
		reason string
		// bad is a provider pk Authentik refuses, added with the others.
		bad  int32
		want func(seeded int32) want
	}{
		"AllLand": {
			reason: "Edits of one outpost that arrive together are written in a few batches, and every one lands, keeping the provider already there.",
			want:   func(int32) want { return want{} },
		},
		"RefusedEditFailsAlone": {
			reason: "A batch Authentik refuses is split into its edits: only the refused one fails.",
			bad:    9999,
			want:   func(int32) want { return want{Missing: []int32{9999}, Failed: []int32{9999}} },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mrtest.New(t)
			id := env.Sim.Fixtures().EmbeddedOutpost
			seeded := newProvider(t, env, "seeded")
			setProviders(t, env, id, seeded)
			pks := make([]int32, 0, edits+1)
			for i := range edits {
				pks = append(pks, newProvider(t, env, fmt.Sprintf("app-%02d", i)))
			}
			if tc.bad != 0 {
				pks = append(pks, tc.bad)
			}
			slow := authentiksim.Fault{Latency: 10 * time.Millisecond}
			env.Sim.SetFault("outposts_instances_retrieve", slow)
			env.Sim.SetFault("outposts_instances_partial_update", slow)
			env.Sim.ResetCounts()

			lists := authentik.NewOutpostLists(authentik.SerializePerOutpost)
			var mu sync.Mutex
			got := want{}
			var wg sync.WaitGroup
			for _, pk := range pks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, writes, err := lists.Apply(context.Background(), env.Authentik, id, authentik.OutpostEdit{Add: []int32{pk}})
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						got.Failed = append(got.Failed, pk)
					} else if writes != 1 {
						t.Errorf("adding %d: %d writes, want 1", pk, writes)
					}
				}()
			}
			wg.Wait()
			env.Sim.ClearFaults()
			patches := env.Sim.Counts()["outposts_instances_partial_update"]

			served := providersOf(t, env, id)
			for _, pk := range append(pks, seeded) {
				if !slices.Contains(served, pk) {
					got.Missing = append(got.Missing, pk)
				}
			}
			if diff := cmp.Diff(tc.want(seeded), got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			t.Logf("%d edits in %d PATCHes", len(pks), patches)
			if tc.bad == 0 && patches > edits/2 {
				t.Errorf("%s\n%d PATCHes for %d edits, want at most %d", tc.reason, patches, edits, edits/2)
			}
		})
	}
}

func sorted(pks ...int32) []int32 { return slices.Sorted(slices.Values(pks)) }

// TestListEditorJoinsReadBack: edits of one outpost that arrive one after
// another while the list is being written join the batch under way after
// its read back, which serves as their read: one read per write and one
// to start, rather than a read before and a read back per write.
func TestListEditorJoinsReadBack(t *testing.T) {
	t.Parallel()
	const edits = 6
	type want struct {
		Missing []int32
		Reads   int
		Writes  []int
	}
	env := mrtest.New(t)
	id := env.Sim.Fixtures().EmbeddedOutpost
	seeded := newProvider(t, env, "seeded")
	setProviders(t, env, id, seeded)
	pks := make([]int32, 0, edits)
	for i := range edits {
		pks = append(pks, newProvider(t, env, fmt.Sprintf("app-%02d", i)))
	}
	// Each edit arrives while the write before it is still under way.
	env.Sim.SetFault("outposts_instances_partial_update", authentiksim.Fault{Latency: 50 * time.Millisecond})
	env.Sim.ResetCounts()

	lists := authentik.NewOutpostLists(authentik.SerializePerOutpost)
	writes := make([]int, edits)
	var wg sync.WaitGroup
	for i, pk := range pks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, n, err := lists.Apply(context.Background(), env.Authentik, id, authentik.OutpostEdit{Add: []int32{pk}})
			if err != nil {
				t.Errorf("adding %d: %v", pk, err)
			}
			writes[i] = n
		}()
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	env.Sim.ClearFaults()
	counts := env.Sim.Counts()
	patches := counts["outposts_instances_partial_update"]

	got := want{Reads: counts["outposts_instances_retrieve"], Writes: writes}
	served := providersOf(t, env, id)
	for _, pk := range append(pks, seeded) {
		if !slices.Contains(served, pk) {
			got.Missing = append(got.Missing, pk)
		}
	}
	wantWrites := make([]int, edits)
	for i := range wantWrites {
		wantWrites[i] = 1
	}
	if diff := cmp.Diff(want{Reads: patches + 1, Writes: wantWrites}, got); diff != "" {
		t.Errorf("%d edits in %d PATCHes: -want, +got:\n%s", edits, patches, diff)
	}
}
