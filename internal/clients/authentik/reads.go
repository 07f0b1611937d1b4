package authentik

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	api "goauthentik.io/api/v3"
)

// Shared reads. Observing each managed resource with its own GET costs one
// Authentik request per resource per poll. Instead every resource of a
// kind reads its object from one list of all the collection's objects
// (readPageSize per page), fetched at most once per read age for each
// Authentik server, token and reading kind, and shared by all of them.
//
// What a read may return:
//   - An object in a list younger than the read age, unless this process
//     wrote to it (PUT, PATCH, DELETE, or an action below its path) after
//     the list was requested: such an object is fetched again with a GET.
//     Every client of the process records its writes, so a resource sees
//     its own writes at once; a change made outside the process is seen
//     once the list is older than the read age.
//   - An object missing from the list is fetched with a GET before anyone
//     is told it is gone: it may have been created after the list was
//     requested (a create must never be repeated because a list was older
//     than it), or the list may be narrowed by the token's permissions.
//   - When a list cannot be read (a refused token, an answer that cannot
//     be decoded), objects are fetched one by one until the read age has
//     passed, so a list problem costs no more than before.

// DefaultReadAge is how old a shared list may be when nothing else is set.
const DefaultReadAge = 15 * time.Second

// readPageSize is how many objects a shared list asks for per page.
// Authentik may answer fewer; the reader follows the pages.
const readPageSize = 1000

// A Collection is a kind of Authentik object that managed resources read
// through the shared lists.
type Collection[T any] struct {
	// Path of the collection below the API path, without slashes at the
	// ends ("providers/proxy"). A write to Path/<id>/ marks <id> written.
	Path string
	// ID is how an object is named in its path.
	ID func(*T) string
	// List reads one page of the collection.
	List func(ctx context.Context, c *api.APIClient, page, size int32) ([]T, int32, *http.Response, error)
	// Get reads one object by the id in its path.
	Get func(ctx context.Context, c *api.APIClient, id string) (*T, *http.Response, error)
	// Trim drops from an answer what the generated client keeps and no
	// reader needs, before the object is shared (trim.go).
	Trim func(*T)
}

// The collections the managed resource kinds read.
var (
	ProxyProviders = &Collection[api.ProxyProvider]{
		Trim: trimProxyProvider,
		Path: "providers/proxy",
		ID:   func(p *api.ProxyProvider) string { return itoa(p.Pk) },
		List: func(ctx context.Context, c *api.APIClient, page, size int32) ([]api.ProxyProvider, int32, *http.Response, error) {
			l, resp, err := c.ProvidersAPI.ProvidersProxyList(ctx).Page(page).PageSize(size).Execute()
			if err != nil {
				return nil, 0, resp, err
			}
			return l.Results, int32(l.Pagination.Next), resp, nil
		},
		Get: func(ctx context.Context, c *api.APIClient, id string) (*api.ProxyProvider, *http.Response, error) {
			pk, err := atoi(id)
			if err != nil {
				return nil, nil, err
			}
			return c.ProvidersAPI.ProvidersProxyRetrieve(ctx, pk).Execute()
		},
	}
	LDAPProviders = &Collection[api.LDAPProvider]{
		Trim: trimLDAPProvider,
		Path: "providers/ldap",
		ID:   func(p *api.LDAPProvider) string { return itoa(p.Pk) },
		List: func(ctx context.Context, c *api.APIClient, page, size int32) ([]api.LDAPProvider, int32, *http.Response, error) {
			l, resp, err := c.ProvidersAPI.ProvidersLdapList(ctx).Page(page).PageSize(size).Execute()
			if err != nil {
				return nil, 0, resp, err
			}
			return l.Results, int32(l.Pagination.Next), resp, nil
		},
		Get: func(ctx context.Context, c *api.APIClient, id string) (*api.LDAPProvider, *http.Response, error) {
			pk, err := atoi(id)
			if err != nil {
				return nil, nil, err
			}
			return c.ProvidersAPI.ProvidersLdapRetrieve(ctx, pk).Execute()
		},
	}
	OAuth2Providers = &Collection[api.OAuth2Provider]{
		Trim: trimOAuth2Provider,
		Path: "providers/oauth2",
		ID:   func(p *api.OAuth2Provider) string { return itoa(p.Pk) },
		List: func(ctx context.Context, c *api.APIClient, page, size int32) ([]api.OAuth2Provider, int32, *http.Response, error) {
			l, resp, err := c.ProvidersAPI.ProvidersOauth2List(ctx).Page(page).PageSize(size).Execute()
			if err != nil {
				return nil, 0, resp, err
			}
			return l.Results, int32(l.Pagination.Next), resp, nil
		},
		Get: func(ctx context.Context, c *api.APIClient, id string) (*api.OAuth2Provider, *http.Response, error) {
			pk, err := atoi(id)
			if err != nil {
				return nil, nil, err
			}
			return c.ProvidersAPI.ProvidersOauth2Retrieve(ctx, pk).Execute()
		},
	}
	SAMLProviders = &Collection[api.SAMLProvider]{
		Trim: trimSAMLProvider,
		Path: "providers/saml",
		ID:   func(p *api.SAMLProvider) string { return itoa(p.Pk) },
		List: func(ctx context.Context, c *api.APIClient, page, size int32) ([]api.SAMLProvider, int32, *http.Response, error) {
			l, resp, err := c.ProvidersAPI.ProvidersSamlList(ctx).Page(page).PageSize(size).Execute()
			if err != nil {
				return nil, 0, resp, err
			}
			return l.Results, int32(l.Pagination.Next), resp, nil
		},
		Get: func(ctx context.Context, c *api.APIClient, id string) (*api.SAMLProvider, *http.Response, error) {
			pk, err := atoi(id)
			if err != nil {
				return nil, nil, err
			}
			return c.ProvidersAPI.ProvidersSamlRetrieve(ctx, pk).Execute()
		},
	}
	// Applications are listed as the full list a superuser sees: the
	// default list is narrowed to what the caller may open, and cached by
	// Authentik per user. A token that is no superuser gets the narrowed
	// list, and the application it lacks is fetched by its slug.
	Applications = &Collection[api.Application]{
		Trim: trimApplication,
		Path: "core/applications",
		ID:   func(a *api.Application) string { return a.Slug },
		List: func(ctx context.Context, c *api.APIClient, page, size int32) ([]api.Application, int32, *http.Response, error) {
			l, resp, err := c.CoreAPI.CoreApplicationsList(ctx).SuperuserFullList(true).Page(page).PageSize(size).Execute()
			if err != nil {
				return nil, 0, resp, err
			}
			return l.Results, int32(l.Pagination.Next), resp, nil
		},
		Get: func(ctx context.Context, c *api.APIClient, slug string) (*api.Application, *http.Response, error) {
			return c.CoreAPI.CoreApplicationsRetrieve(ctx, slug).Execute()
		},
	}
	Groups = &Collection[api.Group]{
		Trim: trimGroup,
		Path: "core/groups",
		ID:   func(g *api.Group) string { return g.Pk },
		List: func(ctx context.Context, c *api.APIClient, page, size int32) ([]api.Group, int32, *http.Response, error) {
			l, resp, err := c.CoreAPI.CoreGroupsList(ctx).IncludeUsers(false).Page(page).PageSize(size).Execute()
			if err != nil {
				return nil, 0, resp, err
			}
			return l.Results, int32(l.Pagination.Next), resp, nil
		},
		Get: func(ctx context.Context, c *api.APIClient, id string) (*api.Group, *http.Response, error) {
			return c.CoreAPI.CoreGroupsRetrieve(ctx, id).IncludeUsers(false).Execute()
		},
	}
	// Users are listed without their groups' objects; the groups' UUIDs
	// are in every answer.
	Users = &Collection[api.User]{
		Trim: trimUser,
		Path: "core/users",
		ID:   func(u *api.User) string { return itoa(u.Pk) },
		List: func(ctx context.Context, c *api.APIClient, page, size int32) ([]api.User, int32, *http.Response, error) {
			l, resp, err := c.CoreAPI.CoreUsersList(ctx).IncludeGroups(false).Page(page).PageSize(size).Execute()
			if err != nil {
				return nil, 0, resp, err
			}
			return l.Results, int32(l.Pagination.Next), resp, nil
		},
		Get: func(ctx context.Context, c *api.APIClient, id string) (*api.User, *http.Response, error) {
			pk, err := atoi(id)
			if err != nil {
				return nil, nil, err
			}
			return c.CoreAPI.CoreUsersRetrieve(ctx, pk).Execute()
		},
	}
	PolicyBindings = &Collection[api.PolicyBinding]{
		Trim: trimPolicyBinding,
		Path: "policies/bindings",
		ID:   func(b *api.PolicyBinding) string { return b.Pk },
		List: func(ctx context.Context, c *api.APIClient, page, size int32) ([]api.PolicyBinding, int32, *http.Response, error) {
			l, resp, err := c.PoliciesAPI.PoliciesBindingsList(ctx).Page(page).PageSize(size).Execute()
			if err != nil {
				return nil, 0, resp, err
			}
			return l.Results, int32(l.Pagination.Next), resp, nil
		},
		Get: func(ctx context.Context, c *api.APIClient, id string) (*api.PolicyBinding, *http.Response, error) {
			return c.PoliciesAPI.PoliciesBindingsRetrieve(ctx, id).Execute()
		},
	}
	ExpressionPolicies = &Collection[api.ExpressionPolicy]{
		Trim: trimExpressionPolicy,
		Path: "policies/expression",
		ID:   func(p *api.ExpressionPolicy) string { return p.Pk },
		List: func(ctx context.Context, c *api.APIClient, page, size int32) ([]api.ExpressionPolicy, int32, *http.Response, error) {
			l, resp, err := c.PoliciesAPI.PoliciesExpressionList(ctx).Page(page).PageSize(size).Execute()
			if err != nil {
				return nil, 0, resp, err
			}
			return l.Results, int32(l.Pagination.Next), resp, nil
		},
		Get: func(ctx context.Context, c *api.APIClient, id string) (*api.ExpressionPolicy, *http.Response, error) {
			return c.PoliciesAPI.PoliciesExpressionRetrieve(ctx, id).Execute()
		},
	}
	ScopeMappings = &Collection[api.ScopeMapping]{
		Trim: trimScopeMapping,
		Path: "propertymappings/provider/scope",
		ID:   func(m *api.ScopeMapping) string { return m.Pk },
		List: func(ctx context.Context, c *api.APIClient, page, size int32) ([]api.ScopeMapping, int32, *http.Response, error) {
			l, resp, err := c.PropertymappingsAPI.PropertymappingsProviderScopeList(ctx).Page(page).PageSize(size).Execute()
			if err != nil {
				return nil, 0, resp, err
			}
			return l.Results, int32(l.Pagination.Next), resp, nil
		},
		Get: func(ctx context.Context, c *api.APIClient, id string) (*api.ScopeMapping, *http.Response, error) {
			return c.PropertymappingsAPI.PropertymappingsProviderScopeRetrieve(ctx, id).Execute()
		},
	}
	SAMLPropertyMappings = &Collection[api.SAMLPropertyMapping]{
		Trim: trimSAMLPropertyMapping,
		Path: "propertymappings/provider/saml",
		ID:   func(m *api.SAMLPropertyMapping) string { return m.Pk },
		List: func(ctx context.Context, c *api.APIClient, page, size int32) ([]api.SAMLPropertyMapping, int32, *http.Response, error) {
			l, resp, err := c.PropertymappingsAPI.PropertymappingsProviderSamlList(ctx).Page(page).PageSize(size).Execute()
			if err != nil {
				return nil, 0, resp, err
			}
			return l.Results, int32(l.Pagination.Next), resp, nil
		},
		Get: func(ctx context.Context, c *api.APIClient, id string) (*api.SAMLPropertyMapping, *http.Response, error) {
			return c.PropertymappingsAPI.PropertymappingsProviderSamlRetrieve(ctx, id).Execute()
		},
	}
	CertificateKeyPairs = &Collection[api.CertificateKeyPair]{
		Trim: trimCertificateKeyPair,
		Path: "crypto/certificatekeypairs",
		ID:   func(k *api.CertificateKeyPair) string { return k.Pk },
		List: func(ctx context.Context, c *api.APIClient, page, size int32) ([]api.CertificateKeyPair, int32, *http.Response, error) {
			l, resp, err := c.CryptoAPI.CryptoCertificatekeypairsList(ctx).Page(page).PageSize(size).Execute()
			if err != nil {
				return nil, 0, resp, err
			}
			return l.Results, int32(l.Pagination.Next), resp, nil
		},
		Get: func(ctx context.Context, c *api.APIClient, id string) (*api.CertificateKeyPair, *http.Response, error) {
			return c.CryptoAPI.CryptoCertificatekeypairsRetrieve(ctx, id).Execute()
		},
	}
	Outposts = &Collection[api.Outpost]{
		Trim: trimOutpost,
		Path: "outposts/instances",
		ID:   func(o *api.Outpost) string { return o.Pk },
		List: func(ctx context.Context, c *api.APIClient, page, size int32) ([]api.Outpost, int32, *http.Response, error) {
			l, resp, err := c.OutpostsAPI.OutpostsInstancesList(ctx).Page(page).PageSize(size).Execute()
			if err != nil {
				return nil, 0, resp, err
			}
			return l.Results, int32(l.Pagination.Next), resp, nil
		},
		Get: func(ctx context.Context, c *api.APIClient, id string) (*api.Outpost, *http.Response, error) {
			return c.OutpostsAPI.OutpostsInstancesRetrieve(ctx, id).Execute()
		},
	}
)

// GetCached returns the object of the collection with the given id, from the
// shared list when that is fresh enough, else from Authentik (see the top
// of this file). The object is shared with other readers and must not be
// modified. An object that does not exist is Authentik's 404 (IsNotFound).
func (k *Collection[T]) GetCached(ctx context.Context, c *Client, id string) (*T, error) {
	st, l, ok, err := shared(ctx, c, k)
	if err != nil {
		return nil, err
	}
	key := objectKey{path: k.Path, id: strings.ToLower(id)}
	if ok {
		reads := c.reads
		reads.mu.Lock()
		e, found := l.objects[key.id]
		usable := found && e.seq >= st.written[key].seq
		reads.mu.Unlock()
		if usable {
			return e.obj.(*T), nil
		}
	}
	return fetch(ctx, c, k, st, l, key, id)
}

// FindCached returns an object of the shared list (renewed first if it is older
// than the read age) that match accepts, or nil. Nil does not mean there is
// no such object: it may be newer than the list, or the list unreadable,
// so a caller that finds none asks Authentik.
func (k *Collection[T]) FindCached(ctx context.Context, c *Client, match func(*T) bool) (*T, error) {
	st, l, ok, err := shared(ctx, c, k)
	if err != nil || !ok {
		return nil, err
	}
	reads := c.reads
	reads.mu.Lock()
	defer reads.mu.Unlock()
	for id, e := range l.objects {
		obj := e.obj.(*T)
		if e.seq >= st.written[objectKey{path: k.Path, id: id}].seq && match(obj) {
			return obj, nil
		}
	}
	return nil, nil
}

// ListCached returns every object of the shared list (renewed first if it is
// older than the read age) that match accepts, each as GetCached returns it:
// one this process wrote since the list was requested is fetched again,
// and left out if it is gone. ok is false while the list cannot be read.
// An object made outside the process since the list was requested is
// missing, so a caller for whom a missing object changes the outcome asks
// Authentik before acting on it.
func (k *Collection[T]) ListCached(ctx context.Context, c *Client, match func(*T) bool) (objs []*T, ok bool, err error) {
	st, l, ok, err := shared(ctx, c, k)
	if err != nil || !ok {
		return nil, false, err
	}
	var stale []string
	reads := c.reads
	reads.mu.Lock()
	for id, e := range l.objects {
		obj := e.obj.(*T)
		switch {
		case e.seq < st.written[objectKey{path: k.Path, id: id}].seq:
			// Fetched by the id as Authentik spells it: slugs keep their case.
			stale = append(stale, k.ID(obj))
		case match(obj):
			objs = append(objs, obj)
		}
	}
	reads.mu.Unlock()
	for _, id := range stale {
		obj, err := fetch(ctx, c, k, st, l, objectKey{path: k.Path, id: strings.ToLower(id)}, id)
		switch {
		case IsNotFound(err):
		case err != nil:
			return nil, false, err
		case match(obj):
			objs = append(objs, obj)
		}
	}
	return objs, true, nil
}

// GetFresh reads one object with a GET, never from a list, and keeps it for
// the next GetCached: for a caller that must see the object as it is now,
// before it writes it, or after.
func (k *Collection[T]) GetFresh(ctx context.Context, c *Client, id string) (*T, error) {
	reads := c.reads
	st := reads.server(c.baseURL)
	reads.mu.Lock()
	l := st.list(listKey{path: k.Path, token: c.tokenSum, reader: c.kind})
	reads.mu.Unlock()
	return fetch(ctx, c, k, st, l, objectKey{path: k.Path, id: strings.ToLower(id)}, id)
}

// KeepCreated keeps an object Authentik has just answered a create with, so
// that the next GetCached finds it without a request. No one else can have
// written the object yet: its id was Authentik's answer.
func (k *Collection[T]) KeepCreated(c *Client, obj *T) {
	reads := c.reads
	st := reads.server(c.baseURL)
	reads.mu.Lock()
	defer reads.mu.Unlock()
	l := st.list(listKey{path: k.Path, token: c.tokenSum, reader: c.kind})
	id := strings.ToLower(k.ID(obj))
	if cur, ok := l.objects[id]; !ok || cur.seq <= st.seq {
		k.Trim(obj)
		l.objects[id] = entry{obj: obj, seq: st.seq}
	}
}

// shared returns the shared list of c's server, token and kind for k,
// renewed first if it is older than the read age, and whether it can be
// read from (false while the list cannot be read).
func shared[T any](ctx context.Context, c *Client, k *Collection[T]) (*serverReads, *sharedList, bool, error) {
	reads := c.reads
	st := reads.server(c.baseURL)
	lk := listKey{path: k.Path, token: c.tokenSum, reader: c.kind}
	// A reader that waited for a refresh, or made one, reads its outcome
	// whatever the read age.
	refreshed := false
	for {
		reads.mu.Lock()
		l := st.list(lk)
		now := reads.now()
		switch {
		case refreshed && l.failed.IsZero(), l.fresh(now, reads.age) && l.requested >= st.cascaded[k.Path]:
			reads.mu.Unlock()
			return st, l, true, nil
		case refreshed, l.broken(now, reads.age):
			reads.mu.Unlock()
			return st, l, false, nil
		case l.refreshing != nil:
			done := l.refreshing
			reads.mu.Unlock()
			select {
			case <-done:
				refreshed = true
				continue
			case <-ctx.Done():
				return nil, nil, false, ctx.Err()
			}
		}
		done := make(chan struct{})
		l.refreshing = done
		requested := st.seq
		reads.mu.Unlock()
		refresh(ctx, c, k, st, l, now, requested)
		close(done)
		refreshed = true
	}
}

// refresh reads the whole collection into l. A refresh serves every
// reader, so it does not end with the context of the one that started it;
// the client's timeout bounds it.
func refresh[T any](ctx context.Context, c *Client, k *Collection[T], st *serverReads, l *sharedList, requestedAt time.Time, requested uint64) {
	ctx = context.WithoutCancel(ctx)
	var all []T
	var err error
	for page := int32(1); page > 0 && err == nil; {
		var objs []T
		var resp *http.Response
		objs, page, resp, err = k.List(ctx, c.API, page, readPageSize)
		err = Classify(resp, err)
		all = append(all, objs...)
	}
	reads := c.reads
	reads.mu.Lock()
	defer reads.mu.Unlock()
	l.refreshing = nil
	if err != nil {
		l.failed = requestedAt
		return
	}
	objects := make(map[string]entry, len(all))
	for i := range all {
		k.Trim(&all[i])
		id := strings.ToLower(k.ID(&all[i]))
		objects[id] = entry{obj: &all[i], seq: requested}
	}
	for id, e := range l.objects {
		// Fetched one by one after the list was requested: newer than it.
		if e.seq > requested {
			objects[id] = e
		}
	}
	l.objects, l.fetched, l.failed, l.requested = objects, requestedAt, time.Time{}, requested
	st.forget(reads.now(), reads.age)
}

// fetch reads one object with a GET and keeps it in the shared list, or
// drops it from the list when Authentik has no such object.
func fetch[T any](ctx context.Context, c *Client, k *Collection[T], st *serverReads, l *sharedList, key objectKey, id string) (*T, error) {
	reads := c.reads
	reads.mu.Lock()
	seq := st.seq
	reads.mu.Unlock()
	obj, resp, err := k.Get(ctx, c.API, id)
	err = Classify(resp, err)
	reads.mu.Lock()
	defer reads.mu.Unlock()
	cur, ok := l.objects[key.id]
	newer := !ok || cur.seq <= seq
	switch {
	case err == nil && newer:
		k.Trim(obj)
		l.objects[key.id] = entry{obj: obj, seq: seq}
	case IsNotFound(err) && newer:
		delete(l.objects, key.id)
	}
	return obj, err
}

func itoa(pk int32) string { return strconv.Itoa(int(pk)) }

func atoi(id string) (int32, error) {
	pk, err := strconv.ParseInt(id, 10, 32)
	return int32(pk), err
}

// ForgetReads drops every shared list of the connector's clients, as if
// each were older than the read age: the next read of each collection
// lists it anew.
func (c *Connector) ForgetReads() {
	reads := c.reads
	reads.mu.Lock()
	defer reads.mu.Unlock()
	for _, st := range reads.servers {
		for _, l := range st.lists {
			l.fetched = time.Time{}
			l.failed = time.Time{}
		}
	}
}

// A readStore holds the shared lists and the writes of one connector's
// clients per Authentik server. One mutex guards it all; it is never held
// during a request.
type readStore struct {
	mu sync.Mutex
	// age is how old a shared list may be. The provider sets a quarter of
	// its poll interval: a change made outside the provider is seen by a
	// resource's first poll after the list it reads is renewed.
	age     time.Duration
	now     func() time.Time
	servers map[string]*serverReads
}

func newReadStore(age time.Duration) *readStore {
	return &readStore{age: age, now: time.Now, servers: map[string]*serverReads{}}
}

func (s *readStore) server(url string) *serverReads {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.servers[url]
	if !ok {
		st = &serverReads{written: map[objectKey]write{}, cascaded: map[string]uint64{}, lists: map[listKey]*sharedList{}}
		s.servers[url] = st
	}
	return st
}

// serverReads are the lists read from one Authentik server and the
// writes this process made to it. seq counts the writes: an object read
// when seq was s reflects every write numbered s or lower.
type serverReads struct {
	seq     uint64
	written map[objectKey]write
	// cascaded holds, per collection, the last deletion elsewhere that
	// Authentik carries over to it; a list requested before is renewed.
	cascaded map[string]uint64
	lists    map[listKey]*sharedList
}

// cascades are the collections whose objects Authentik changes when an
// object of another is written (or only when it is deleted): a deleted
// provider leaves every outpost and application it was on, the policy
// bindings of a deleted application, group or policy go with it, and an
// OAuth2 provider's answer names the application that uses it (its issuer
// holds the application's slug).
var cascades = []struct {
	from       string
	deleteOnly bool
	to         []string
}{
	{from: "providers", deleteOnly: true, to: []string{"outposts/instances", "core/applications"}},
	{from: "core/applications", deleteOnly: true, to: []string{"policies/bindings"}},
	{from: "core/groups", deleteOnly: true, to: []string{"policies/bindings"}},
	{from: "policies/expression", deleteOnly: true, to: []string{"policies/bindings"}},
	{from: "policies/all", deleteOnly: true, to: []string{"policies/bindings"}},
	{from: "core/applications", to: []string{"providers/oauth2"}},
}

// write records when an object was last written.
type write struct {
	seq uint64
	at  time.Time
}

type objectKey struct{ path, id string }

// A listKey names one shared list. Lists differ by token (Authentik narrows
// them by the token's permissions) and by reading kind (answers are read
// for what the kind needs).
type listKey struct {
	path   string
	token  [sha256.Size]byte
	reader string
}

func (st *serverReads) list(k listKey) *sharedList {
	l, ok := st.lists[k]
	if !ok {
		l = &sharedList{objects: map[string]entry{}}
		st.lists[k] = l
	}
	return l
}

// wrote records a write to the collection at path, to its object id ("" for
// a create), once Authentik answered (or the request failed, when it may
// still have been applied), and what Authentik changes with it.
func (st *serverReads) wrote(method, path, id string, at time.Time) {
	st.seq++
	if id != "" {
		st.written[objectKey{path: path, id: strings.ToLower(id)}] = write{seq: st.seq, at: at}
	}
	for _, c := range cascades {
		if (path == c.from || strings.HasPrefix(path, c.from+"/")) && (!c.deleteOnly || method == http.MethodDelete) {
			for _, to := range c.to {
				st.cascaded[to] = st.seq
			}
		}
	}
}

// forget drops writes older than the read age: every list requested
// before them is older than that too, so none is read without a refresh.
func (st *serverReads) forget(now time.Time, age time.Duration) {
	for k, w := range st.written {
		if now.Sub(w.at) > age {
			delete(st.written, k)
		}
	}
}

// A sharedList is one collection as one token and reading kind see it.
type sharedList struct {
	objects map[string]entry
	// fetched is when the last complete list was requested; failed when
	// the last attempt was, if it failed.
	fetched, failed time.Time
	// requested is the write count when the list was requested.
	requested uint64
	// refreshing is closed when the refresh under way ends.
	refreshing chan struct{}
}

// An entry is an object and the write count when it was requested.
type entry struct {
	obj any
	seq uint64
}

func (l *sharedList) fresh(now time.Time, age time.Duration) bool {
	return !l.fetched.IsZero() && now.Sub(l.fetched) < age
}

func (l *sharedList) broken(now time.Time, age time.Duration) bool {
	return !l.failed.IsZero() && now.Sub(l.failed) < age
}

// writeTracker records in the shared reads every write this process sends:
// PUT, PATCH and DELETE of an object, <collection>/<id>/, any other
// method's action below an object, <collection>/<id>/<action>/, and a
// create, POST <collection>/ (which changes no object a list holds, but may
// change others, see cascades).
type writeTracker struct {
	next   http.RoundTripper
	server string
	reads  *readStore
}

func (t *writeTracker) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if path, id, ok := writtenObject(req); ok {
		st := t.reads.server(t.server)
		t.reads.mu.Lock()
		st.wrote(req.Method, path, id, t.reads.now())
		t.reads.mu.Unlock()
	}
	return resp, err
}

// writtenObject names the collection a request writes to and the object
// in it ("" for a create), if it writes.
func writtenObject(req *http.Request) (string, string, bool) {
	i := strings.Index(req.URL.Path, APIPath+"/")
	if i < 0 {
		return "", "", false
	}
	segments := strings.Split(strings.Trim(req.URL.Path[i+len(APIPath):], "/"), "/")
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return "", "", false
	case http.MethodPut, http.MethodPatch, http.MethodDelete:
		if len(segments) >= 2 {
			n := len(segments)
			return strings.Join(segments[:n-1], "/"), segments[n-1], true
		}
	default:
		n := len(segments)
		if n >= 3 {
			return strings.Join(segments[:n-2], "/"), segments[n-2], true
		}
		return strings.Join(segments, "/"), "", true
	}
	return "", "", false
}
