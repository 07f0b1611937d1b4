package authentik

import (
	"context"
	"sync"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

// Slugs of the flows every Authentik install creates for providers.
const (
	DefaultAuthorizationFlow = "default-provider-authorization-implicit-consent"
	DefaultInvalidationFlow  = "default-provider-invalidation-flow"

	// defaultFlowCacheTTL is how long a flow's slug and UUID are trusted.
	// Flows are rarely recreated; a stale entry costs one failed write.
	defaultFlowCacheTTL = 10 * time.Minute
)

const (
	errGetFlow     = "cannot get flow"
	errListFlows   = "cannot list flows"
	errFlowMissing = "no flow has this UUID"
)

// A flowCache remembers flow slugs and UUIDs per Authentik server so that a
// reconcile does not look a flow up on every call.
type flowCache struct {
	ttl     time.Duration
	now     func() time.Time
	mu      sync.Mutex
	entries map[flowKey]flowEntry
}

type flowKey struct{ server, slug, uuid string }

type flowEntry struct {
	value   string
	expires time.Time
}

// newFlowCache returns a cache whose entries live for ttl.
func newFlowCache(ttl time.Duration) *flowCache {
	return &flowCache{ttl: ttl, now: time.Now, entries: map[flowKey]flowEntry{}}
}

func (c *flowCache) get(k flowKey) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || c.now().After(e.expires) {
		return "", false
	}
	return e.value, true
}

func (c *flowCache) put(server, slug, uuid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp := c.now().Add(c.ttl)
	c.entries[flowKey{server: server, slug: slug}] = flowEntry{value: uuid, expires: exp}
	c.entries[flowKey{server: server, uuid: uuid}] = flowEntry{value: slug, expires: exp}
}

// Forget drops what the cache knows of a flow slug, for example after
// Authentik refused its UUID.
func (c *flowCache) Forget(server, slug string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[flowKey{server: server, slug: slug}]; ok {
		delete(c.entries, flowKey{server: server, uuid: e.value})
	}
	delete(c.entries, flowKey{server: server, slug: slug})
}

// FlowUUID resolves a flow slug to its UUID.
func (c *Client) FlowUUID(ctx context.Context, slug string) (string, error) {
	if v, ok := c.flows.get(flowKey{server: c.baseURL, slug: slug}); ok {
		return v, nil
	}
	f, resp, err := c.API.FlowsAPI.FlowsInstancesRetrieve(ctx, slug).Execute()
	if err := Classify(resp, err); err != nil {
		return "", errors.Wrapf(err, "%s %q", errGetFlow, slug)
	}
	c.flows.put(c.baseURL, f.Slug, f.Pk)
	return f.Pk, nil
}

// FlowSlug resolves a flow UUID to its slug.
func (c *Client) FlowSlug(ctx context.Context, uuid string) (string, error) {
	if v, ok := c.flows.get(flowKey{server: c.baseURL, uuid: uuid}); ok {
		return v, nil
	}
	l, resp, err := c.API.FlowsAPI.FlowsInstancesList(ctx).FlowUuid(uuid).Execute()
	if err := Classify(resp, err); err != nil {
		return "", errors.Wrap(err, errListFlows)
	}
	for _, f := range l.Results {
		if f.Pk == uuid {
			c.flows.put(c.baseURL, f.Slug, f.Pk)
			return f.Slug, nil
		}
	}
	return "", errors.Errorf("%s: %s", errFlowMissing, uuid)
}

// SpecFlowUUID resolves the flow a spec names by slug (def when unset) to
// its UUID. When an observation read the object's flow uuid as that very
// slug (observed), it resolved it already: uuid, without a lookup.
func (c *Client) SpecFlowUUID(ctx context.Context, slug *string, def string, observed *string, uuid string) (string, error) {
	want := def
	if slug != nil {
		want = *slug
	}
	if observed != nil && *observed == want && uuid != "" {
		return uuid, nil
	}
	return c.FlowUUID(ctx, want)
}

// ForgetFlow drops a cached flow slug of this client's server.
func (c *Client) ForgetFlow(slug string) { c.flows.Forget(c.baseURL, slug) }

// FlowSlugFor names the flow with UUID uuid as a resource's spec holds it:
// when the spec's slug (or, unset, the default def) resolves to uuid, that
// slug, which saves a lookup; otherwise the flow's own slug. A provider
// without the flow (null since Authentik 2026.8, or after the flow was
// deleted) names none: nil.
func (c *Client) FlowSlugFor(ctx context.Context, uuid string, specSlug *string, def string) (*string, error) {
	if uuid == "" {
		return nil, nil
	}
	want := def
	if specSlug != nil {
		want = *specSlug
	}
	if id, err := c.FlowUUID(ctx, want); err == nil && id == uuid {
		return &want, nil
	}
	slug, err := c.FlowSlug(ctx, uuid)
	if err != nil {
		return nil, err
	}
	return &slug, nil
}
