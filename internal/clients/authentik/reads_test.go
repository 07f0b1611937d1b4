package authentik_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	api "goauthentik.io/api/v3"

	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim/simtest"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrtest"
)

// A readFixture is a simulator holding groups, the provider's client, a
// client that writes as someone outside the provider would (its writes
// are not recorded in the shared reads) and a clock for the read age.
type readFixture struct {
	sim      *simtest.Server
	provider *authentik.Client
	outside  *api.APIClient
	groups   map[string]string // name to pk
	mu       sync.Mutex
	now      time.Time
}

func newReadFixture(t *testing.T, names ...string) *readFixture {
	t.Helper()
	f := &readFixture{sim: simtest.New(t, mrtest.Token), groups: map[string]string{}, now: time.Now()}
	conn := authentik.NewConnector(nil, authentik.DefaultReadAge)
	conn.SetReadClock(func() time.Time {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.now
	})
	var err error
	if f.provider, err = authentik.New(authentik.Config{URL: f.sim.URL, Token: mrtest.Token}, conn); err != nil {
		t.Fatal(err)
	}
	cfg := api.NewConfiguration()
	cfg.Servers = api.ServerConfigurations{{URL: f.sim.URL + authentik.APIPath}}
	cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	cfg.AddDefaultHeader("Authorization", "Bearer "+mrtest.Token)
	f.outside = api.NewAPIClient(cfg)
	for _, n := range names {
		f.groups[n] = f.create(t, n)
	}
	return f
}

func (f *readFixture) create(t *testing.T, name string) string {
	t.Helper()
	g, resp, err := f.outside.CoreAPI.CoreGroupsCreate(context.Background()).GroupRequest(*api.NewGroupRequest(name)).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		t.Fatal(err)
	}
	return g.Pk
}

// pass moves the clock past the read age.
func (f *readFixture) pass() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(authentik.DefaultReadAge + time.Second)
}

func TestFind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := map[string]struct {
		reason string
		name   string
		// outsideFirst makes the group outside the provider after the
		// list was read.
		outsideFirst bool
		want         bool
	}{
		"InList": {
			reason: "A group in the shared list is found there.",
			name:   "b",
			want:   true,
		},
		"NewerThanList": {
			reason: "A group made after the list was read is not found: the caller asks Authentik.",
			name:   "made-later", outsideFirst: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newReadFixture(t, "a", "b")
			if _, err := authentik.Groups.GetCached(ctx, f.provider, f.groups["a"]); err != nil {
				t.Fatal(err)
			}
			if tc.outsideFirst {
				f.create(t, tc.name)
			}
			g, err := authentik.Groups.FindCached(ctx, f.provider, func(g *api.Group) bool { return g.Name == tc.name })
			if err != nil {
				t.Fatal(err)
			}
			if got := g != nil; got != tc.want {
				t.Errorf("%s\nfound %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rename := func(c *api.APIClient, pk, name string) func(t *testing.T) {
		return func(t *testing.T) {
			_, resp, err := c.CoreAPI.CoreGroupsUpdate(ctx, pk).GroupRequest(*api.NewGroupRequest(name)).Execute()
			if err := authentik.Classify(resp, err); err != nil {
				t.Fatal(err)
			}
		}
	}
	remove := func(c *api.APIClient, pk string) func(t *testing.T) {
		return func(t *testing.T) {
			resp, err := c.CoreAPI.CoreGroupsDestroy(ctx, pk).Execute()
			if err := authentik.Classify(resp, err); err != nil {
				t.Fatal(err)
			}
		}
	}
	type want struct {
		// Name is the name the last read returns; "" when it finds no group.
		Name string
		// Calls are the reads Authentik answered, after the fixture's.
		Calls map[string]int
	}
	cases := map[string]struct {
		reason string
		// between happens after every group was read once; then group
		// "a" (or the one it names) is read again.
		between   func(t *testing.T, f *readFixture) string
		agePasses bool
		want      want
	}{
		"SharedList": {
			reason: "Every group is read from one list.",
			want:   want{Name: "a", Calls: map[string]int{"core_groups_list": 1}},
		},
		"OwnWrite": {
			reason: "A group the provider wrote to is read again with a GET, so the next read sees the write.",
			between: func(t *testing.T, f *readFixture) string {
				rename(f.provider.API, f.groups["a"], "a2")(t)
				return f.groups["a"]
			},
			want: want{Name: "a2", Calls: map[string]int{"core_groups_list": 1, "core_groups_update": 1, "core_groups_retrieve": 1}},
		},
		"OutsideWriteWithinAge": {
			reason: "A change made outside the provider is not seen while the list is younger than the read age.",
			between: func(t *testing.T, f *readFixture) string {
				rename(f.outside, f.groups["a"], "a2")(t)
				return f.groups["a"]
			},
			want: want{Name: "a", Calls: map[string]int{"core_groups_list": 1, "core_groups_update": 1}},
		},
		"OutsideWriteAfterAge": {
			reason: "A change made outside the provider is seen once the list is older than the read age.",
			between: func(t *testing.T, f *readFixture) string {
				rename(f.outside, f.groups["a"], "a2")(t)
				return f.groups["a"]
			},
			agePasses: true,
			want:      want{Name: "a2", Calls: map[string]int{"core_groups_list": 2, "core_groups_update": 1}},
		},
		"CreatedAfterList": {
			reason: "A group missing from a fresh list is looked up before it is called gone: it may have been made after the list, and a create must never run twice.",
			between: func(t *testing.T, f *readFixture) string {
				return f.create(t, "made-later")
			},
			want: want{Name: "made-later", Calls: map[string]int{"core_groups_list": 1, "core_groups_create": 1, "core_groups_retrieve": 1}},
		},
		"CreatedAndRemembered": {
			reason: "A group the provider made and remembered is read from what Authentik answered the create with.",
			between: func(t *testing.T, f *readFixture) string {
				g, resp, err := f.provider.API.CoreAPI.CoreGroupsCreate(ctx).GroupRequest(*api.NewGroupRequest("made-now")).Execute()
				if err := authentik.Classify(resp, err); err != nil {
					t.Fatal(err)
				}
				authentik.Groups.KeepCreated(f.provider, g)
				return g.Pk
			},
			want: want{Name: "made-now", Calls: map[string]int{"core_groups_list": 1, "core_groups_create": 1}},
		},
		"FetchedIsKept": {
			reason: "A group fetched after an outside change is read as fetched until the list is renewed.",
			between: func(t *testing.T, f *readFixture) string {
				rename(f.outside, f.groups["a"], "a2")(t)
				if _, err := authentik.Groups.GetFresh(ctx, f.provider, f.groups["a"]); err != nil {
					t.Fatal(err)
				}
				return f.groups["a"]
			},
			want: want{Name: "a2", Calls: map[string]int{"core_groups_list": 1, "core_groups_update": 1, "core_groups_retrieve": 1}},
		},
		"OwnDelete": {
			reason: "A group the provider deleted is gone at the next read.",
			between: func(t *testing.T, f *readFixture) string {
				remove(f.provider.API, f.groups["a"])(t)
				return f.groups["a"]
			},
			want: want{Calls: map[string]int{"core_groups_list": 1, "core_groups_destroy": 1, "core_groups_retrieve": 1}},
		},
		"OutsideDeleteAfterAge": {
			reason: "A group deleted outside the provider is gone once the list is older than the read age.",
			between: func(t *testing.T, f *readFixture) string {
				remove(f.outside, f.groups["a"])(t)
				return f.groups["a"]
			},
			agePasses: true,
			want:      want{Calls: map[string]int{"core_groups_list": 2, "core_groups_destroy": 1, "core_groups_retrieve": 1}},
		},
		"UnreadableList": {
			reason: "While the list cannot be read, each group is read with a GET, and the list is not asked for again until the read age has passed.",
			between: func(t *testing.T, f *readFixture) string {
				f.pass()
				f.sim.SetFault("core_groups_list", authentiksim.Fault{Status: http.StatusInternalServerError})
				for _, n := range []string{"b", "c"} {
					if _, err := authentik.Groups.GetCached(ctx, f.provider, f.groups[n]); err != nil {
						t.Fatal(err)
					}
				}
				return f.groups["a"]
			},
			// The first list, the refresh the fault answers, then one
			// GET per group.
			want: want{Name: "a", Calls: map[string]int{"core_groups_list": 2, "core_groups_retrieve": 3}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newReadFixture(t, "a", "b", "c")
			f.sim.ResetCounts()
			for n, pk := range f.groups {
				g, err := authentik.Groups.GetCached(ctx, f.provider, pk)
				if err != nil || g.Name != n {
					t.Fatalf("first read of group %s: %v, %+v", n, err, g)
				}
			}
			pk := f.groups["a"]
			if tc.between != nil {
				pk = tc.between(t, f)
			}
			if tc.agePasses {
				f.pass()
			}
			got := want{Calls: map[string]int{}}
			g, err := authentik.Groups.GetCached(ctx, f.provider, pk)
			switch {
			case err == nil:
				got.Name = g.Name
			case !authentik.IsNotFound(err):
				t.Fatalf("read: %v", err)
			}
			for op, n := range f.sim.Counts() {
				if n > 0 {
					got.Calls[op] = n
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
