package authentiksim

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

// faultJSON is a Fault as the control endpoint reads it, with the latency
// as a Go duration string ("250ms").
type faultJSON struct {
	Status       int     `json:"status"`
	Latency      string  `json:"latency"`
	Drop         bool    `json:"drop"`
	Probability  float64 `json:"probability"`
	Times        int     `json:"times"`
	AfterHandler bool    `json:"after_handler"`
}

// msgUndecided answers an exposure check that cannot be answered.
const msgUndecided = "the simulator could not decide some access: a bound policy has an expression it cannot evaluate"

type accessErrorsJSON struct {
	Detail       string        `json:"detail"`
	AccessErrors []AccessError `json:"access_errors"`
}

// serveControl answers the simulator's own endpoints, which live outside
// /api/v3 so they can never be mistaken for Authentik's:
//
//	GET    /_sim/counters        requests per operation id
//	GET    /_sim/writes          like counters, only operations that change Authentik
//	POST   /_sim/reset-counters  zero the counters
//	GET    /_sim/violations      schema violations so far
//	PUT    /_sim/faults/{op}     set a fault (faultJSON) for an operation
//	DELETE /_sim/faults          clear every fault
//	PUT    /_sim/token           accept only this token from now on: {"token": "..."}
//	PUT    /_sim/permissions     the token's user lacks these permissions:
//	                             {"withheld": ["authentik_core.add_group", ...]};
//	                             an empty list makes it a superuser again
//	GET    /_sim/users           fixture users and their direct groups
//	PUT    /_sim/users/{name}    set a fixture user: {"groups": ["<group name>", ...]}
//	DELETE /_sim/users/{name}    remove a fixture user
//	GET    /_sim/access?application=<slug>&user=<name>
//	                             Authentik's decision now: {"admitted": bool};
//	                             409 when a bound policy cannot be evaluated
//	GET    /_sim/exposures?provider=<name or pk>&user=<name>
//	                             when the provider was served (on an outpost; an
//	                             OAuth2 provider: with an application) while its
//	                             application admitted the user (Exposure list);
//	                             409 with the access errors when some decision
//	                             could not be made
//	GET    /_sim/access-errors?provider=<name or pk>&user=<name>
//	                             the decisions the invariant could not make
//	                             (AccessError list)
//	GET    /_sim/service?provider=<name or pk>
//	                             which outposts served the provider since which
//	                             write, and after which writes they stopped
//	                             (Service list)
//
// They need no token: the simulator is a test fixture bound to loopback.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, controlPrefix)
	switch {
	case path == "counters" && r.Method == http.MethodGet:
		writeReply(w, reply{status: http.StatusOK, body: s.Counts()})
	case path == "writes" && r.Method == http.MethodGet:
		writeReply(w, reply{status: http.StatusOK, body: s.WriteCounts()})
	case path == "reset-counters" && r.Method == http.MethodPost:
		s.ResetCounts()
		writeReply(w, reply{status: http.StatusNoContent})
	case path == "violations" && r.Method == http.MethodGet:
		out := []string{}
		for _, v := range s.Violations() {
			out = append(out, v.Error())
		}
		writeReply(w, reply{status: http.StatusOK, body: out})
	case path == "token" && r.Method == http.MethodPut:
		var tj struct {
			Token string `json:"token"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes)).Decode(&tj); err != nil {
			writeReply(w, detail(http.StatusBadRequest, "cannot decode token: "+err.Error()))
			return
		}
		if err := s.SetToken(tj.Token); err != nil {
			writeReply(w, detail(http.StatusBadRequest, err.Error()))
			return
		}
		writeReply(w, reply{status: http.StatusNoContent})
	case path == "permissions" && r.Method == http.MethodPut:
		var pj struct {
			Withheld []string `json:"withheld"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes)).Decode(&pj); err != nil {
			writeReply(w, detail(http.StatusBadRequest, "cannot decode permissions: "+err.Error()))
			return
		}
		s.WithholdPermissions(pj.Withheld...)
		writeReply(w, reply{status: http.StatusNoContent})
	case path == "faults" && r.Method == http.MethodDelete:
		s.ClearFaults()
		writeReply(w, reply{status: http.StatusNoContent})
	case strings.HasPrefix(path, "faults/") && r.Method == http.MethodPut:
		op := strings.TrimPrefix(path, "faults/")
		var fj faultJSON
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes)).Decode(&fj); err != nil {
			writeReply(w, detail(http.StatusBadRequest, "cannot decode fault: "+err.Error()))
			return
		}
		f, err := fj.fault()
		if err != nil {
			writeReply(w, detail(http.StatusBadRequest, "cannot decode fault: "+err.Error()))
			return
		}
		s.SetFault(op, f)
		writeReply(w, reply{status: http.StatusNoContent})
	case path == "users" && r.Method == http.MethodGet:
		writeReply(w, reply{status: http.StatusOK, body: s.Users()})
	case strings.HasPrefix(path, "users/") && r.Method == http.MethodPut:
		var uj struct {
			Groups []string `json:"groups"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes)).Decode(&uj); err != nil {
			writeReply(w, detail(http.StatusBadRequest, "cannot decode user: "+err.Error()))
			return
		}
		if err := s.SetUser(strings.TrimPrefix(path, "users/"), uj.Groups...); err != nil {
			writeReply(w, detail(http.StatusBadRequest, err.Error()))
			return
		}
		writeReply(w, reply{status: http.StatusNoContent})
	case strings.HasPrefix(path, "users/") && r.Method == http.MethodDelete:
		s.DeleteUser(strings.TrimPrefix(path, "users/"))
		writeReply(w, reply{status: http.StatusNoContent})
	case path == "access" && r.Method == http.MethodGet:
		q := r.URL.Query()
		ok, err := s.Admits(q.Get("application"), q.Get("user"))
		var pe *PolicyError
		if errors.As(err, &pe) {
			writeReply(w, detail(http.StatusConflict, err.Error()))
			return
		}
		if err != nil {
			writeReply(w, detail(http.StatusNotFound, err.Error()))
			return
		}
		writeReply(w, reply{status: http.StatusOK, body: map[string]bool{"admitted": ok}})
	case path == "exposures" && r.Method == http.MethodGet:
		q := r.URL.Query()
		if errs := s.AccessErrors(q.Get("provider"), q.Get("user")); len(errs) > 0 {
			writeReply(w, reply{status: http.StatusConflict, body: accessErrorsJSON{Detail: msgUndecided, AccessErrors: errs}})
			return
		}
		writeReply(w, reply{status: http.StatusOK, body: s.Exposures(q.Get("provider"), q.Get("user"))})
	case path == "access-errors" && r.Method == http.MethodGet:
		q := r.URL.Query()
		writeReply(w, reply{status: http.StatusOK, body: s.AccessErrors(q.Get("provider"), q.Get("user"))})
	case path == "service" && r.Method == http.MethodGet:
		writeReply(w, reply{status: http.StatusOK, body: s.ServiceRecord(r.URL.Query().Get("provider"))})
	default:
		writeReply(w, notFound())
	}
}

func (fj faultJSON) fault() (Fault, error) {
	f := Fault{Status: fj.Status, Drop: fj.Drop, Probability: fj.Probability, Times: fj.Times, AfterHandler: fj.AfterHandler}
	if fj.Latency != "" {
		d, err := time.ParseDuration(fj.Latency)
		if err != nil {
			return Fault{}, err
		}
		f.Latency = d
	}
	return f, nil
}
