package authentiksim

import (
	"net/http"
	"strconv"
)

// A providerType serves retrieve, create, update (PUT and PATCH) and
// destroy of one provider type P, as each provider ViewSet does
// (ModelViewSet over the type's serializer): P's rows are stored by pk, and
// every type takes its pk from the one Provider sequence.
type providerType[P any] struct {
	store func(*state) map[int32]*P
	base  func(*P) *providerBase
	// fresh is a row with the model's defaults.
	fresh func() *P
	// bind applies and validates the body's fields; errors go to f.errs.
	bind func(*state, *form, *P)
	// check is the serializer's validate(), run once the fields are
	// valid; nil when the type has none.
	check func(*form) *reply
	// save is what the model's save() adds to a valid row (created tells
	// a new one); nil when nothing.
	save func(st *state, f *form, p *P, created bool)
	// render answers with a row; baseURL is the request's, for the URL
	// fields some serializers build from it.
	render func(st *state, p *P, baseURL string) any
}

func (t providerType[P]) fromPath(st *state, c *call) *P {
	n, err := strconv.ParseInt(c.params["id"], 10, 32)
	if err != nil {
		return nil
	}
	return t.store(st)[int32(n)]
}

func (t providerType[P]) retrieve(st *state, c *call) reply {
	p := t.fromPath(st, c)
	if p == nil {
		return notFound()
	}
	return reply{status: http.StatusOK, body: t.render(st, p, c.baseURL)}
}

// valid binds a body onto p and runs the serializer's checks.
func (t providerType[P]) valid(st *state, f *form, p *P) *reply {
	t.bind(st, f, p)
	if len(f.errs) > 0 {
		r := invalid(f.errs)
		return &r
	}
	if t.check != nil {
		return t.check(f)
	}
	return nil
}

func (t providerType[P]) create(st *state, c *call) reply {
	f, bad := parseForm(c.body, false)
	if bad != nil {
		return *bad
	}
	p := t.fresh()
	if r := t.valid(st, f, p); r != nil {
		return *r
	}
	b := t.base(p)
	b.pk = st.nextProvider
	st.nextProvider++
	if t.save != nil {
		t.save(st, f, p, true)
	}
	t.store(st)[b.pk] = p
	return reply{status: http.StatusCreated, body: t.render(st, p, c.baseURL)}
}

// update serves PUT and PATCH: both change only the fields in the body;
// PUT also requires the required ones.
func (t providerType[P]) update(st *state, c *call) reply {
	stored := t.fromPath(st, c)
	if stored == nil {
		return notFound()
	}
	f, bad := parseForm(c.body, c.partial)
	if bad != nil {
		return *bad
	}
	p := *stored
	if r := t.valid(st, f, &p); r != nil {
		return *r
	}
	if t.save != nil {
		t.save(st, f, &p, false)
	}
	*stored = p
	return reply{status: http.StatusOK, body: t.render(st, stored, c.baseURL)}
}

func (t providerType[P]) destroy(st *state, c *call) reply {
	p := t.fromPath(st, c)
	if p == nil {
		return notFound()
	}
	st.deleteProvider(t.base(p).pk)
	return reply{status: http.StatusNoContent}
}
