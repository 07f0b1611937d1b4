package authentik

import (
	"context"
	"slices"
	"strings"
	"sync"

	api "goauthentik.io/api/v3"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

const (
	errReadList   = "cannot read the provider list of outpost"
	errWriteList  = "cannot write the provider list of outpost"
	errWaitList   = "gave up waiting to edit the provider list of outpost"
	errListRaced  = "another writer outside this provider keeps replacing the provider list of outpost"
	errBeforeEdit = "cannot prepare to write the provider list of outpost"

	// DefaultListWrites is how many times an edit writes the list before it
	// gives up on a writer that keeps replacing it.
	DefaultListWrites = 3
)

// Serialization says whether an OutpostLists editor lets only one edit of an outpost's
// provider list run at a time within this process.
type Serialization bool

const (
	// SerializePerOutpost runs edits of the same outpost on the same
	// Authentik one batch after another. The provider must always use it.
	SerializePerOutpost Serialization = true

	// Unserialized lets edits of one outpost overlap, as they would from
	// several processes. It exists for tests that show what the
	// serialization prevents.
	Unserialized Serialization = false
)

// An OutpostLists editor adds providers to and removes them from outposts' provider
// lists. Authentik stores the list as one field that every write replaces
// and has no locking or version check, so adding one provider is a
// read-modify-write that loses any change another writer made in between.
// The editor serializes the edits of each outpost within this process and
// reads the list back after each write: a change another writer outside
// the process dropped is written again, a bounded number of times.
//
// Edits of one outpost that wait while another batch is written are
// written together: one read, one write of the list with every edit made
// in the order they came, one read back. A hundred bindings created at
// once cost three requests per batch, not three each one after another.
type OutpostLists struct {
	serialize bool
	maxWrites int

	mu sync.Mutex
	// queues holds the edits waiting per outpost; an outpost is in it
	// while a goroutine writes its batches.
	queues map[string][]*pendingEdit
}

// NewOutpostLists returns an editor that writes each edit at most
// DefaultListWrites times.
func NewOutpostLists(s Serialization) *OutpostLists {
	return &OutpostLists{serialize: bool(s), maxWrites: DefaultListWrites, queues: map[string][]*pendingEdit{}}
}

// An OutpostEdit is a change of one outpost's provider list.
type OutpostEdit struct {
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
func (e OutpostEdit) satisfiedBy(providers []int32) bool {
	return e.heldBy(providers, nil)
}

// heldBy tells whether the list holds the edit as made before the later
// edits of its batch: a provider it adds may be missing only if a later
// edit removes it, and one it removes may be there only if a later edit
// adds it.
func (e OutpostEdit) heldBy(providers []int32, later []*pendingEdit) bool {
	undone := func(pk int32, by func(OutpostEdit) []int32) bool {
		for _, l := range later {
			if slices.Contains(by(l.edit), pk) {
				return true
			}
		}
		return false
	}
	for _, pk := range e.Add {
		if !slices.Contains(providers, pk) && !undone(pk, func(l OutpostEdit) []int32 { return l.Remove }) {
			return false
		}
	}
	for _, pk := range e.Remove {
		if slices.Contains(providers, pk) && !undone(pk, func(l OutpostEdit) []int32 { return l.Add }) {
			return false
		}
	}
	return true
}

// applyTo returns providers with the edit made, every other entry kept in
// its place.
func (e OutpostEdit) applyTo(providers []int32) []int32 {
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

// A pendingEdit is an edit waiting for its batch, and then its outcome.
type pendingEdit struct {
	ctx    context.Context
	client *Client
	id     string
	edit   OutpostEdit
	// prepared is set once BeforeWrite ran.
	prepared bool
	// taken is set when a batch takes the edit; guarded by the editor.
	taken bool
	// answered is set once done is closed with the edit held.
	answered bool
	done     chan struct{}

	outpost *api.Outpost
	writes  int
	err     error
}

// Apply makes the edit on the outpost with UUID id and returns the outpost
// as last read and how many times its batch wrote the list while the list
// lacked the edit (0 when the list held it already). It writes only when
// the list lacks an edit of the batch, and with PATCH of the providers
// field alone, so no other field is overwritten and Authentik's type check
// (which runs only when the type is sent) is not triggered. A missing
// outpost is reported as Authentik's 404.
func (l *OutpostLists) Apply(ctx context.Context, c *Client, id string, e OutpostEdit) (*api.Outpost, int, error) {
	p := &pendingEdit{ctx: ctx, client: c, id: id, edit: e, done: make(chan struct{})}
	if !l.serialize {
		l.applyBatch([]*pendingEdit{p}, "")
		return p.outpost, p.writes, p.err
	}
	key := outpostKey(c, id)
	l.mu.Lock()
	_, running := l.queues[key]
	l.queues[key] = append(l.queues[key], p)
	l.mu.Unlock()
	if !running {
		go l.drain(key)
	}
	select {
	case <-p.done:
		return p.outpost, p.writes, p.err
	case <-ctx.Done():
		l.mu.Lock()
		defer l.mu.Unlock()
		if !p.taken {
			l.queues[key] = slices.DeleteFunc(l.queues[key], func(q *pendingEdit) bool { return q == p })
		}
		return nil, 0, errors.Wrapf(ctx.Err(), "%s %s", errWaitList, id)
	}
}

// drain writes the batches of one outpost until none is waiting.
func (l *OutpostLists) drain(key string) {
	for {
		batch := l.take(key, nil)
		if len(batch) == 0 {
			return
		}
		l.applyBatch(batch, key)
	}
}

// take removes from the queue of key, and returns, every waiting edit
// whose client uses the same token as like, or as the first waiting edit
// when like is nil. With like nil and nothing waiting it ends the queue:
// the next Apply starts a drain.
func (l *OutpostLists) take(key string, like *Client) []*pendingEdit {
	l.mu.Lock()
	defer l.mu.Unlock()
	waiting := l.queues[key]
	if len(waiting) == 0 {
		if like == nil {
			delete(l.queues, key)
		}
		return nil
	}
	if like == nil {
		like = waiting[0].client
	}
	var batch, rest []*pendingEdit
	for _, p := range waiting {
		if p.client.SameCredentials(like) {
			p.taken = true
			batch = append(batch, p)
		} else {
			rest = append(rest, p)
		}
	}
	l.queues[key] = rest
	return batch
}

// applyBatch makes a batch's edits, in their order, on the list: one read,
// one write of every edit together, one read back, and again for the edits
// a writer outside the process undid, until every edit holds or each has
// been written maxWrites times. Edits of the outpost that arrived while
// the batch wrote join it after a read back, which serves as their read,
// so edits that keep arriving cost one write and one read each round
// rather than a read, a write and a read. An edit's caller is answered as
// soon as a read shows its edit held. A batch that Authentik refuses is
// split into its edits, so that one bad edit fails alone. With key "" no
// edit joins.
func (l *OutpostLists) applyBatch(batch []*pendingEdit, key string) {
	first := batch[0]
	id, c := first.id, first.client
	// The batch serves several callers: one leaving does not stop it. The
	// client's timeout bounds each request.
	ctx := context.WithoutCancel(first.ctx)
	outposts := c.API.OutpostsAPI
	fail := func(ps []*pendingEdit, err error, msg string) {
		for _, p := range ps {
			p.err = errors.Wrapf(WithFieldPaths(err, p.edit.FieldPaths), "%s %s", msg, id)
			close(p.done)
		}
	}
	// Reads go through the shared reads, which keep them: the bindings'
	// next polls read the list as written without a request of their own.
	o, err := Outposts.GetFresh(ctx, c, id)
	if err != nil {
		fail(batch, err, errReadList)
		return
	}
	// active are the edits every write makes, in order: those not yet
	// answered and any answered one that follows them.
	var active []*pendingEdit
	prepare := func(ps []*pendingEdit) {
		for _, p := range ps {
			if p.edit.BeforeWrite != nil && !p.prepared && !p.edit.satisfiedBy(o.Providers) {
				p.prepared = true
				if err := p.edit.BeforeWrite(p.ctx); err != nil {
					p.err = errors.Wrapf(err, "%s %s", errBeforeEdit, id)
					close(p.done)
					continue
				}
			}
			active = append(active, p)
		}
	}
	prepare(batch)
	// Metrics are recorded as they happen, before a caller is answered.
	outpost := strings.ToLower(id)
	metrics.OutpostListEdit(outpost, 0, 0, 0)
	for {
		var lacking []*pendingEdit
		for i, p := range active {
			switch {
			case p.answered:
				// Its caller has its outcome; it stays only for the order.
			case !p.edit.heldBy(o.Providers, active[i+1:]):
				lacking = append(lacking, p)
			default:
				p.answered, p.outpost = true, o
				close(p.done)
			}
		}
		// An answered edit is made again only while an edit before it is
		// not: a write must not let an earlier edit undo it.
		for len(active) > 0 && active[0].answered {
			active = active[1:]
		}
		if len(lacking) == 0 {
			joined := l.join(key, c)
			if len(joined) == 0 {
				return
			}
			prepare(joined)
			continue
		}
		rewrite := slices.ContainsFunc(lacking, func(p *pendingEdit) bool { return p.writes > 0 })
		if rewrite {
			// The list read back after an edit's last write lacks it.
			metrics.OutpostListEdit(outpost, 0, 0, 1)
		}
		var gaveUp []*pendingEdit
		for _, p := range lacking {
			if p.writes == l.maxWrites {
				p.err = errors.Errorf("%s %s: the change was lost after %d writes", errListRaced, id, p.writes)
				gaveUp = append(gaveUp, p)
			}
		}
		if len(gaveUp) > 0 {
			for _, p := range gaveUp {
				close(p.done)
			}
			active = slices.DeleteFunc(active, func(p *pendingEdit) bool { return slices.Contains(gaveUp, p) })
			continue
		}
		providers := o.Providers
		for _, p := range active {
			providers = p.edit.applyTo(providers)
		}
		req := api.PatchedOutpostRequest{Providers: providers}
		_, resp, err := outposts.OutpostsInstancesPartialUpdate(ctx, id).PatchedOutpostRequest(req).Execute()
		if err := Classify(resp, err); err != nil {
			open := slices.DeleteFunc(slices.Clone(active), func(p *pendingEdit) bool { return p.answered })
			if len(open) > 1 && IsInvalid(err) {
				for _, p := range open {
					l.applyBatch([]*pendingEdit{p}, "")
				}
				return
			}
			fail(open, err, errWriteList)
			return
		}
		if rewrite {
			metrics.OutpostListEdit(outpost, 1, 1, 0)
		} else {
			metrics.OutpostListEdit(outpost, 1, 0, 0)
		}
		for _, p := range lacking {
			p.writes++
		}
		// Read the list back rather than trusting the answer: a writer
		// that read the list before this write may have replaced it since.
		if o, err = Outposts.GetFresh(ctx, c, id); err != nil {
			fail(slices.DeleteFunc(active, func(p *pendingEdit) bool { return p.answered }), err, errReadList)
			return
		}
		prepare(l.join(key, c))
	}
}

// join takes the edits of the outpost that wait, with c's token, to join
// a batch under way; none when key is "".
func (l *OutpostLists) join(key string, c *Client) []*pendingEdit {
	if key == "" {
		return nil
	}
	return l.take(key, c)
}

// outpostKey names an outpost on one Authentik server.
func outpostKey(c *Client, id string) string {
	server := ""
	if s := c.API.GetConfig().Servers; len(s) > 0 {
		server = strings.TrimRight(s[0].URL, "/")
	}
	return server + " " + strings.ToLower(id)
}
