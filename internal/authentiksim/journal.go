package authentiksim

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"sync"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errOpenState   = "cannot open the state file"
	errReadState   = "cannot read the state file"
	errReplayState = "cannot replay the state file"
	errWriteState  = "cannot write the state file"
)

// A journal keeps the simulator's state in a file, so that a simulator
// stopped and started again (an Authentik outage in an end-to-end test)
// serves the same objects with the same ids. It records every API write a
// handler ran, in order, and a new simulator replays them: handlers are
// deterministic given the seed, so the replay rebuilds the state exactly.
// Each write is appended before its answer is sent, so even a killed
// simulator loses nothing it answered.
type journal struct {
	mu   sync.Mutex
	f    *os.File
	err  error
	enc  *json.Encoder
	path string
}

// entry is one write as the journal stores it.
type entry struct {
	Method  string `json:"method"`
	Path    string `json:"path"`
	Query   string `json:"query,omitempty"`
	Body    []byte `json:"body,omitempty"`
	BaseURL string `json:"base_url"`
}

// openJournal replays the writes in path into s and opens it to record
// more. A missing file is an empty state.
func openJournal(s *Server, path string) (*journal, error) {
	if err := replay(s, path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600) //nolint:gosec // the path is the operator's flag
	if err != nil {
		return nil, errors.Wrap(err, errOpenState)
	}
	return &journal{f: f, enc: json.NewEncoder(f), path: path}, nil
}

func replay(s *Server, path string) error {
	f, err := os.Open(path) //nolint:gosec // the path is the operator's flag
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return errors.Wrap(err, errReadState)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 2*maxBodyBytes)
	for line := 1; sc.Scan(); line++ {
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return errors.Wrapf(err, "%s: line %d", errReplayState, line)
		}
		rt, params, _ := s.match(e.Method, e.Path)
		if rt == nil {
			return errors.Errorf("%s: line %d: no route for %s %s", errReplayState, line, e.Method, e.Path)
		}
		q, err := url.ParseQuery(e.Query)
		if err != nil {
			return errors.Wrapf(err, "%s: line %d", errReplayState, line)
		}
		c := &call{params: params, query: q, body: e.Body, partial: e.Method == http.MethodPatch, baseURL: e.BaseURL}
		if rep := rt.handle(s.state, c); rep.status >= 200 && rep.status < 300 {
			s.state.recordWrite()
		}
	}
	return errors.Wrap(sc.Err(), errReadState)
}

// record appends one write. The caller holds the state lock, so entries
// are in the order the writes took effect.
func (j *journal) record(method, path string, c *call) {
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return
	}
	if err := j.enc.Encode(entry{Method: method, Path: path, Query: c.query.Encode(), Body: c.body, BaseURL: c.baseURL}); err != nil {
		j.err = errors.Wrap(err, errWriteState)
	}
}

// close closes the file and returns the first error the journal met.
func (j *journal) close() error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.f.Close(); err != nil && j.err == nil {
		j.err = errors.Wrap(err, errWriteState)
	}
	return j.err
}

// Close stops recording state; it returns the first error met writing the
// state file.
func (s *Server) Close() error { return s.journal.close() }
