package authentiksim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

const (
	apiPrefix     = "/api/v3"
	controlPrefix = "/_sim/"

	// maxBodyBytes bounds what the simulator reads of a request body; the
	// largest body the provider sends is an outpost with its config.
	maxBodyBytes = 1 << 20

	errNoToken   = "the simulator needs a bootstrap token"
	errSchema    = "cannot set up schema checking"
	errReadBody  = "cannot read request body"
	errEncodeRep = "cannot encode response body"
)

// Options configure a Server.
type Options struct {
	// Token is the API token clients must send as "Authorization: Bearer".
	Token string
	// SchemaPath is Authentik's OpenAPI schema; "" uses SchemaPath().
	SchemaPath string
	// DisableSchema turns off request and response checking.
	DisableSchema bool
	// Seed makes generated ids and fault draws repeatable.
	Seed int64
	// StateFile keeps the state across restarts: the writes it records are
	// replayed at start and every later write is added. "" keeps the state
	// in memory only.
	StateFile string
	// AuthentikVersion is the release line to speak, by name ("2025.10")
	// or release ("2025.10.4"); "" is DefaultVersion. See Lines.
	AuthentikVersion string
}

// A Server simulates Authentik's API. It implements http.Handler.
type Server struct {
	// token is the API token the simulator accepts; SetToken rotates it.
	token  atomic.Pointer[string]
	line   Line
	schema *schema // nil when schema checking is off
	routes []*route
	ops    map[*route]*routers.Route

	// stateMu serialises API operations. Authentik has no optimistic
	// concurrency, and neither does the simulator: two clients that both
	// read an object and then both write it lose one write, here as there.
	stateMu sync.Mutex
	state   *state

	metaMu     sync.Mutex
	counts     map[string]int
	violations []error
	faults     *faultTable

	journal *journal // nil without a state file

	// withheld are the permissions the token's user lacks (under metaMu).
	withheld []string

	unreachable atomic.Bool
}

// New returns a Server seeded like a fresh Authentik install.
func New(o Options) (*Server, error) {
	if o.Token == "" {
		return nil, errors.New(errNoToken)
	}
	line, err := LookupLine(o.AuthentikVersion)
	if err != nil {
		return nil, err
	}
	s := &Server{
		line:   line,
		routes: apiRoutes(),
		ops:    map[*route]*routers.Route{},
		state:  newState(o.Seed, line),
		counts: map[string]int{},
		faults: newFaultTable(o.Seed),
	}
	s.token.Store(&o.Token)
	if o.StateFile != "" {
		j, err := openJournal(s, o.StateFile)
		if err != nil {
			return nil, err
		}
		s.journal = j
	}
	if o.DisableSchema {
		return s, nil
	}
	load := moduleSchema
	if o.SchemaPath != "" {
		load = func() (*schema, error) { return loadSchema(o.SchemaPath) }
	}
	sc, err := load()
	if err != nil {
		return nil, errors.Wrap(err, errSchema)
	}
	// Every simulated route must exist in the schema under the same
	// operation id, or fault injection and counters would use names
	// clients cannot look up.
	for _, rt := range s.routes {
		op, err := sc.operation(rt)
		if err != nil {
			return nil, errors.Wrap(err, errSchema)
		}
		if err := checkModel(rt, op); err != nil {
			return nil, errors.Wrap(err, errSchema)
		}
		s.ops[rt] = op
	}
	s.schema = sc
	return s, nil
}

// Line returns the Authentik release line the simulator speaks.
func (s *Server) Line() Line { return s.line }

// A Violation is a request or a response that breaks Authentik's OpenAPI
// schema. The real server would refuse such a request or never send such a
// response, so a test that causes one is testing against fiction.
type Violation struct {
	Operation string
	Method    string
	Path      string
	// Response is true when the simulator's own answer broke the schema.
	Response bool
	Err      error
}

func (v *Violation) Error() string {
	what := "request"
	if v.Response {
		what = "response to"
	}
	return fmt.Sprintf("%s %s %s (%s) breaks the Authentik schema: %v", what, v.Method, v.Path, v.Operation, v.Err)
}

func (v *Violation) Unwrap() error { return v.Err }

// Violations returns every schema violation seen so far, oldest first.
func (s *Server) Violations() []error {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	return append([]error(nil), s.violations...)
}

// Problems returns, one message each, the schema violations seen so far
// and the access decisions the simulator could not make: a test that leaves
// any behind has sent or received traffic the real Authentik would not.
func (s *Server) Problems() []string {
	var out []string
	for _, v := range s.Violations() {
		out = append(out, fmt.Sprintf("Authentik simulator %s: %v", s.line.Name, v))
	}
	for _, e := range s.AccessErrors("", "") {
		out = append(out, fmt.Sprintf("Authentik simulator %s: after write %d, whether %s may use %s: %s", s.line.Name, e.FirstWrite, e.User, e.ProviderName, e.Error))
	}
	return out
}

// GoDown makes the simulator unreachable: every request's connection is
// closed without an answer. Unlike closing its listener it keeps the port,
// so another test's simulator can never take it over and answer in its
// place.
func (s *Server) GoDown() { s.unreachable.Store(true) }

// Counts returns how many requests reached each operation, by operation id
// as the schema names it (for example providers_proxy_update). Requests
// refused for authentication or answered with an injected fault count too.
func (s *Server) Counts() map[string]int {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// WriteCounts returns, like Counts, the requests that reached each operation
// that changes Authentik (any method but GET), leaving out operations with
// none. A provider in its steady state sends none: any count here after
// every resource is Ready is a write loop.
func (s *Server) WriteCounts() map[string]int {
	writes := map[string]bool{}
	for _, rt := range s.routes {
		if rt.method != http.MethodGet {
			writes[rt.operationID] = true
		}
	}
	out := map[string]int{}
	for op, n := range s.Counts() {
		if writes[op] && n > 0 {
			out[op] = n
		}
	}
	return out
}

// ResetCounts sets every request counter back to zero.
func (s *Server) ResetCounts() {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	s.counts = map[string]int{}
}

func (s *Server) record(v *Violation) {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	s.violations = append(s.violations, v)
}

func (s *Server) count(op string) {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	s.counts[op]++
}

// ServeHTTP answers Authentik API requests under /api/v3 and the
// simulator's control endpoints under /_sim/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.unreachable.Load() {
		dropConnection(w)
		return
	}
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		s.serveControl(w, r)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, apiPrefix)
	if !ok {
		writeReply(w, notFound())
		return
	}
	rt, params, methodKnown := s.match(r.Method, rest)
	if rt == nil {
		if methodKnown {
			writeReply(w, detail(http.StatusMethodNotAllowed, fmt.Sprintf("Method \"%s\" not allowed.", r.Method)))
			return
		}
		writeReply(w, notFound())
		return
	}
	s.count(rt.operationID)

	f := s.faults.draw(rt.operationID)
	if f != nil && f.Latency > 0 {
		select {
		case <-time.After(f.Latency):
		case <-r.Context().Done():
			return
		}
	}
	if f.firesBefore() {
		s.inject(w, f)
		return
	}

	// DRF authenticates before it checks permissions, so a view that
	// allows anonymous callers still refuses a bad token.
	if header := r.Header.Get("Authorization"); !rt.anonymous || header != "" {
		if rep := authenticate(header, *s.token.Load()); rep != nil {
			writeReply(w, *rep)
			return
		}
	}
	if rep := s.refusesPermission(rt); rep != nil {
		writeReply(w, *rep)
		return
	}
	if rep := unsupportedMediaType(r); rep != nil {
		writeReply(w, *rep)
		return
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		writeReply(w, detail(http.StatusBadRequest, errors.Wrap(err, errReadBody).Error()))
		return
	}

	var in *openapi3filter.RequestValidationInput
	if s.schema != nil {
		in, err = s.schema.validateRequest(r.Context(), r, s.ops[rt], params, body)
		if err != nil {
			s.record(&Violation{Operation: rt.operationID, Method: r.Method, Path: r.URL.RequestURI(), Err: err})
			writeReply(w, reply{status: http.StatusBadRequest, body: requestViolationBody(err)})
			return
		}
	}

	c := &call{params: params, query: r.URL.Query(), body: body, partial: r.Method == http.MethodPatch, baseURL: baseURL(r)}
	s.stateMu.Lock()
	rep := rt.handle(s.state, c)
	if r.Method != http.MethodGet && rep.status >= 200 && rep.status < 300 {
		// Every accepted write, even one whose answer a fault will replace.
		s.state.recordWrite()
	}
	if r.Method != http.MethodGet {
		s.journal.record(r.Method, rest, c)
	}
	s.stateMu.Unlock()

	encoded, err := rep.encode()
	if err == nil && rep.status < http.StatusMultipleChoices {
		encoded, err = s.line.shape(rt.model, rt.isList(), encoded)
	}
	if err != nil {
		writeReply(w, detail(http.StatusInternalServerError, errors.Wrap(err, errEncodeRep).Error()))
		return
	}
	if s.schema != nil {
		header := http.Header{}
		if encoded != nil {
			header.Set("Content-Type", "application/json")
		}
		if err := s.schema.validateResponse(r.Context(), in, rep.status, header, encoded, s.line); err != nil {
			s.record(&Violation{Operation: rt.operationID, Method: r.Method, Path: r.URL.RequestURI(), Response: true, Err: err})
			writeReply(w, detail(http.StatusInternalServerError, "simulator response breaks the Authentik schema: "+err.Error()))
			return
		}
	}

	if f.firesAfter() {
		s.inject(w, f)
		return
	}
	if f != nil && f.Rewrite != nil && encoded != nil && rep.status < http.StatusMultipleChoices {
		encoded = f.Rewrite(encoded)
	}
	writeEncoded(w, rep.status, encoded)
}

// authenticate checks the Authorization header the way Authentik's
// TokenAuthentication does (authentik/api/authentication.py): a header
// without a space counts as no credentials, any scheme but Bearer is
// refused, and an unknown token is "invalid/expired". DRF answers all of
// these with 403 because the scheme defines no WWW-Authenticate challenge.
func authenticate(header, token string) *reply {
	h := strings.TrimSpace(header)
	if h == "" || !strings.Contains(h, " ") {
		r := detail(http.StatusForbidden, "Authentication credentials were not provided.")
		return &r
	}
	scheme, credentials, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "bearer") {
		r := detail(http.StatusForbidden, "Unsupported authentication type")
		return &r
	}
	if credentials == "" {
		r := detail(http.StatusForbidden, "Malformed header")
		return &r
	}
	if credentials != token {
		r := detail(http.StatusForbidden, "Token invalid/expired")
		return &r
	}
	return nil
}

// requestViolationBody shapes a schema violation like a DRF 400 so clients
// decode it as Authentik's ValidationError, keyed by the offending field or
// parameter where kin-openapi names one.
func requestViolationBody(err error) fieldErrors {
	key := msgNonFieldError
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		if re.Parameter != nil {
			key = re.Parameter.Name
		}
		var se *openapi3.SchemaError
		if re.RequestBody != nil && errors.As(err, &se) {
			if p := se.JSONPointer(); len(p) > 0 {
				key = p[0]
			}
		}
	}
	return fieldErrors{key: {"schema violation: " + err.Error()}}
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/"
}

// call is one API request as a handler sees it.
type call struct {
	params  map[string]string
	query   url.Values
	body    []byte
	partial bool
	baseURL string
}

// reply is a handler's answer; a nil body means no content (204).
type reply struct {
	status int
	body   any
}

func (r reply) encode() ([]byte, error) {
	if r.body == nil {
		return nil, nil
	}
	return json.Marshal(r.body)
}

func detail(status int, msg string) reply {
	return reply{status: status, body: map[string]string{"detail": msg}}
}

func notFound() reply { return detail(http.StatusNotFound, "Not found.") }

func invalid(errs fieldErrors) reply { return reply{status: http.StatusBadRequest, body: errs} }

func nonField(msg string) reply { return invalid(fieldErrors{msgNonFieldError: {msg}}) }

func writeReply(w http.ResponseWriter, r reply) {
	encoded, err := r.encode()
	if err != nil {
		http.Error(w, errors.Wrap(err, errEncodeRep).Error(), http.StatusInternalServerError)
		return
	}
	writeEncoded(w, r.status, encoded)
}

func writeEncoded(w http.ResponseWriter, status int, body []byte) {
	if body != nil {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// inject answers a request with an injected fault.
func (s *Server) inject(w http.ResponseWriter, f *Fault) {
	if f.Drop {
		dropConnection(w)
		return
	}
	writeReply(w, detail(f.Status, fmt.Sprintf("injected fault: %d %s", f.Status, http.StatusText(f.Status))))
}

// dropConnection closes the client's connection without an answer, as a
// crashed server or a broken proxy would.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// HTTP/2 connections cannot be hijacked; aborting the handler resets
	// the stream instead.
	panic(http.ErrAbortHandler)
}

// SetToken makes the simulator accept only token from now on, as Authentik
// does once an administrator has rotated the provider's API token and
// deleted the old one (authentik/core/models.py Token: a deleted or expired
// token no longer authenticates).
func (s *Server) SetToken(token string) error {
	if token == "" {
		return errors.New(errNoToken)
	}
	s.token.Store(&token)
	return nil
}
