package outpost

import (
	"context"
	"slices"
	"strings"
	"sync"

	api "goauthentik.io/api/v3"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

const (
	errReadList   = "cannot read the provider list of outpost"
	errWriteList  = "cannot write the provider list of outpost"
	errWaitList   = "gave up waiting to edit the provider list of outpost"
	errListRaced  = "another writer outside this provider keeps replacing the provider list of outpost"
	errBeforeEdit = "cannot prepare to write the provider list of outpost"

	// DefaultWrites is how many times an edit writes the list before it
	// gives up on a writer that keeps replacing it.
	DefaultWrites = 3
)

// Serialization says whether a ListEditor lets only one edit of an outpost's
// provider list run at a time within this process.
type Serialization bool

const (
	// SerializePerOutpost runs edits of the same outpost on the same
	// Authentik one after another. The provider must always use it.
	SerializePerOutpost Serialization = true

	// Unserialized lets edits of one outpost overlap, as they would from
	// several processes. It exists for tests that show what the
	// serialization prevents.
	Unserialized Serialization = false
)

// A ListEditor adds providers to and removes them from outposts' provider
// lists. Authentik stores the list as one field that every write replaces
// and has no locking or version check, so adding one provider is a
// read-modify-write that loses any change another writer made in between.
// The editor serializes the edits of each outpost within this process and
// reads the list back after each write: a change another writer outside
// the process dropped is written again, a bounded number of times.
type ListEditor struct {
	locks     *keyedLocks // nil when Unserialized
	maxWrites int
}

// NewListEditor returns an editor that writes each edit at most
// DefaultWrites times.
func NewListEditor(s Serialization) *ListEditor {
	l := &ListEditor{maxWrites: DefaultWrites}
	if s == SerializePerOutpost {
		l.locks = &keyedLocks{locks: map[string]*keyedLock{}}
	}
	return l
}

// SharedListEditor is the editor every controller of this process uses, so
// that an Outpost and its OutpostBindings never overlap either.
var SharedListEditor = NewListEditor(SerializePerOutpost)

// An Edit is a change of one outpost's provider list.
type Edit struct {
	// Add are providers the list must contain.
	Add []int32
	// Remove are providers the list must not contain.
	Remove []int32
	// FieldPaths name, for Authentik's request fields, the resource field
	// the user sets, so that a refused write says what to change.
	FieldPaths map[string]string
	// BeforeWrite, if set, runs once the list is known to lack the edit
	// and before the first write; an error stops the edit unwritten. It
	// lets a caller record that it is about to write, so that a crash
	// right after the write cannot make it mistake its own change for
	// someone else's.
	BeforeWrite func(ctx context.Context) error
}

// satisfiedBy tells whether the list already holds the edit.
func (e Edit) satisfiedBy(providers []int32) bool {
	for _, pk := range e.Add {
		if !slices.Contains(providers, pk) {
			return false
		}
	}
	for _, pk := range e.Remove {
		if slices.Contains(providers, pk) {
			return false
		}
	}
	return true
}

// applyTo returns providers with the edit made, every other entry kept in
// its place.
func (e Edit) applyTo(providers []int32) []int32 {
	out := make([]int32, 0, len(providers)+len(e.Add))
	for _, pk := range providers {
		if !slices.Contains(e.Remove, pk) {
			out = append(out, pk)
		}
	}
	for _, pk := range e.Add {
		if !slices.Contains(out, pk) && !slices.Contains(e.Remove, pk) {
			out = append(out, pk)
		}
	}
	return out
}

// Apply makes the edit on the outpost with UUID id and returns the outpost
// as last read and how many times it wrote the list (0 when the list held
// the edit already). It writes only when the list lacks the edit, and with PATCH
// of the providers field alone, so no other field is overwritten and
// Authentik's type check (which runs only when the type is sent) is not
// triggered. A missing outpost is reported as Authentik's 404.
func (l *ListEditor) Apply(ctx context.Context, c *authentik.Client, id string, e Edit) (*api.Outpost, int, error) {
	if l.locks != nil {
		unlock, err := l.locks.lock(ctx, listKey(c, id))
		if err != nil {
			return nil, 0, errors.Wrapf(err, "%s %s", errWaitList, id)
		}
		defer unlock()
	}
	outposts := c.API.OutpostsAPI
	o, resp, err := outposts.OutpostsInstancesRetrieve(ctx, id).Execute()
	if err := authentik.Classify(resp, err); err != nil {
		return nil, 0, errors.Wrapf(err, "%s %s", errReadList, id)
	}
	if e.BeforeWrite != nil && !e.satisfiedBy(o.Providers) {
		if err := e.BeforeWrite(ctx); err != nil {
			return nil, 0, errors.Wrapf(err, "%s %s", errBeforeEdit, id)
		}
	}
	writes, mismatches := 0, 0
	defer func() { metrics.OutpostListEdit(strings.ToLower(id), writes, mismatches) }()
	for ; !e.satisfiedBy(o.Providers); writes++ {
		if writes > 0 {
			// The list read back after the last write lacks the edit.
			mismatches++
		}
		if writes == l.maxWrites {
			return nil, writes, errors.Errorf("%s %s: the change was lost after %d writes", errListRaced, id, writes)
		}
		req := api.PatchedOutpostRequest{Providers: e.applyTo(o.Providers)}
		_, resp, err := outposts.OutpostsInstancesPartialUpdate(ctx, id).PatchedOutpostRequest(req).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			return nil, writes, errors.Wrapf(authentik.WithFieldPaths(err, e.FieldPaths), "%s %s", errWriteList, id)
		}
		// Read the list back rather than trusting the answer: a writer
		// that read the list before this write may have replaced it since.
		o, resp, err = outposts.OutpostsInstancesRetrieve(ctx, id).Execute()
		if err := authentik.Classify(resp, err); err != nil {
			writes++
			return nil, writes, errors.Wrapf(err, "%s %s", errReadList, id)
		}
	}
	return o, writes, nil
}

// listKey names an outpost on one Authentik server.
func listKey(c *authentik.Client, id string) string {
	server := ""
	if s := c.API.GetConfig().Servers; len(s) > 0 {
		server = strings.TrimRight(s[0].URL, "/")
	}
	return server + " " + strings.ToLower(id)
}

// keyedLocks are mutexes by key, made on first use and dropped when no
// one holds or waits for them. A waiter gives up when its context ends.
type keyedLocks struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	held  chan struct{}
	users int
}

func (k *keyedLocks) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	l, ok := k.locks[key]
	if !ok {
		l = &keyedLock{held: make(chan struct{}, 1)}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()

	select {
	case l.held <- struct{}{}:
		return func() {
			<-l.held
			k.release(key, l)
		}, nil
	case <-ctx.Done():
		k.release(key, l)
		return nil, ctx.Err()
	}
}

func (k *keyedLocks) release(key string, l *keyedLock) {
	k.mu.Lock()
	defer k.mu.Unlock()
	l.users--
	if l.users == 0 {
		delete(k.locks, key)
	}
}
