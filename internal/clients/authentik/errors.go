package authentik

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	api "goauthentik.io/api/v3"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

// nonFieldErrors is the key under which Authentik reports errors that
// concern several fields at once.
const nonFieldErrors = "non_field_errors"

// An APIError is an error answer from Authentik, or a failure to get one.
type APIError struct {
	// Status is the HTTP status code, or 0 when no answer arrived.
	Status int
	// Detail is Authentik's "detail" message, if any.
	Detail string
	// Fields maps a request field (as Authentik names it) to its messages.
	Fields map[string][]string

	cause error
}

// Error describes the failure, naming each field Authentik refused.
func (e *APIError) Error() string {
	switch {
	case e.Status == 0:
		return fmt.Sprintf("cannot reach Authentik: %v", e.cause)
	case len(e.Fields) > 0:
		return fmt.Sprintf("Authentik refused the request (%d): %s", e.Status, e.describeFields(nil))
	case e.Detail != "":
		return fmt.Sprintf("Authentik answered %d: %s", e.Status, e.Detail)
	default:
		return fmt.Sprintf("Authentik answered %d %s", e.Status, http.StatusText(e.Status))
	}
}

// Unwrap returns the underlying error.
func (e *APIError) Unwrap() error { return e.cause }

// describeFields lists the field messages, renaming fields through paths
// (Authentik's name to the resource's field path) where it has them.
func (e *APIError) describeFields(paths map[string]string) string {
	names := make([]string, 0, len(e.Fields))
	for f := range e.Fields {
		names = append(names, f)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, f := range names {
		msg := strings.Join(e.Fields[f], " ")
		switch p, ok := paths[f]; {
		case f == nonFieldErrors:
			parts = append(parts, msg)
		case ok:
			parts = append(parts, fmt.Sprintf("%s (%s): %s", p, f, msg))
		default:
			parts = append(parts, fmt.Sprintf("%s: %s", f, msg))
		}
	}
	return strings.Join(parts, "; ")
}

// fieldPathError is an APIError described with the resource's field paths.
type fieldPathError struct {
	*APIError
	paths map[string]string
}

func (e fieldPathError) Error() string {
	return fmt.Sprintf("Authentik refused the request (%d): %s", e.Status, e.describeFields(e.paths))
}

func (e fieldPathError) Unwrap() error { return e.APIError }

// WithFieldPaths renames the fields of an invalid-request error, or of an
// answer the provider could not read, from Authentik's names to the
// resource's field paths, for example internal_host to
// spec.forProvider.internalHost, so the message tells the user what to
// change. Other errors are returned as they are.
func WithFieldPaths(err error, paths map[string]string) error {
	var de *DecodeError
	if errors.As(err, &de) {
		if len(de.Fields) == 0 {
			return err
		}
		named := *de
		named.paths = paths
		return &named
	}
	var ae *APIError
	if !errors.As(err, &ae) || len(ae.Fields) == 0 {
		return err
	}
	return fieldPathError{APIError: ae, paths: paths}
}

// A DecodeError is a 2xx answer that could not be read: the request took
// effect in Authentik, but the provider does not know its result.
type DecodeError struct {
	// Operation is the request's method and path.
	Operation string
	// Status is the HTTP status of the answer.
	Status int
	// Fields names, by Authentik's key, each value the provider needs and
	// cannot accept, with why.
	Fields map[string]string

	paths map[string]string
	cause error
}

// Error names the operation, what the provider cannot accept, and the
// client's decode error.
func (e *DecodeError) Error() string {
	msg := fmt.Sprintf("cannot read Authentik's answer to %s (%d): %v", e.Operation, e.Status, e.cause)
	if len(e.Fields) == 0 {
		return msg
	}
	names := make([]string, 0, len(e.Fields))
	for f := range e.Fields {
		names = append(names, f)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, f := range names {
		if p, ok := e.paths[f]; ok {
			parts = append(parts, fmt.Sprintf("%s (%s): %s", p, f, e.Fields[f]))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %s", f, e.Fields[f]))
	}
	return fmt.Sprintf("%s; %s", strings.Join(parts, "; "), msg)
}

// Unwrap returns the client's decode error.
func (e *DecodeError) Unwrap() error { return e.cause }

// Classify turns the result of a generated client call into an *APIError,
// a *DecodeError for a 2xx answer that could not be read, or nil when the
// call succeeded.
func Classify(resp *http.Response, err error) error {
	if err == nil {
		return nil
	}
	ae := &APIError{cause: err}
	if resp == nil {
		return ae
	}
	var body []byte
	var oe *api.GenericOpenAPIError
	if errors.As(err, &oe) {
		body = oe.Body()
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		de := &DecodeError{Status: resp.StatusCode, cause: err}
		if r := resp.Request; r != nil {
			de.Operation = r.Method + " " + r.URL.Path
			// The body is what the client decoded, after the transport
			// made decodable all that its reader does without, so what
			// is left is what that reader needs.
			de.Fields = reader{}.responseProblems(r.Method, r.URL.Path, body)
		}
		return de
	}
	ae.Status = resp.StatusCode
	parseErrorBody(ae, body)
	return ae
}

// parseErrorBody reads Authentik's two error shapes: {"detail": "..."} and
// {"field": ["message", ...], "non_field_errors": [...]}.
func parseErrorBody(ae *APIError, body []byte) {
	var raw map[string]json.RawMessage
	if len(body) == 0 || json.Unmarshal(body, &raw) != nil {
		return
	}
	for k, v := range raw {
		if k == "detail" {
			_ = json.Unmarshal(v, &ae.Detail)
			continue
		}
		var msgs []string
		if json.Unmarshal(v, &msgs) != nil {
			var one string
			if json.Unmarshal(v, &one) != nil {
				msgs = []string{string(v)}
			} else {
				msgs = []string{one}
			}
		}
		if ae.Fields == nil {
			ae.Fields = map[string][]string{}
		}
		ae.Fields[k] = msgs
	}
}

func statusOf(err error) (int, bool) {
	var ae *APIError
	if !errors.As(err, &ae) {
		return 0, false
	}
	return ae.Status, true
}

// IsNotFound tells whether Authentik answered 404.
func IsNotFound(err error) bool {
	s, ok := statusOf(err)
	return ok && s == http.StatusNotFound
}

// IsInvalid tells whether Authentik refused the request's content (400).
func IsInvalid(err error) bool {
	s, ok := statusOf(err)
	return ok && s == http.StatusBadRequest
}

// IsRefusedField tells whether Authentik refused the request's content
// (400) with a message on field, as it does for a create whose unique key
// (a provider's name, an application's slug) another object holds.
func IsRefusedField(err error, field string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusBadRequest && len(ae.Fields[field]) > 0
}

// IsUnauthorized tells whether Authentik refused the token (401 or 403).
func IsUnauthorized(err error) bool {
	s, ok := statusOf(err)
	return ok && (s == http.StatusUnauthorized || s == http.StatusForbidden)
}

// IsUnreadableResponse tells whether Authentik answered 2xx with a body that
// could not be read: the request took effect.
func IsUnreadableResponse(err error) bool {
	var de *DecodeError
	return errors.As(err, &de)
}

// CreateMayHaveSucceeded tells whether a failed create may still have made
// the object in Authentik: no answer, a server-side failure, or a success
// whose answer could not be read. Such a create counts as unconfirmed.
func CreateMayHaveSucceeded(err error) bool {
	return IsTransient(err) || IsUnreadableResponse(err)
}

// IsTransient tells whether the same request may succeed later: no answer,
// rate limiting, or a server-side failure.
func IsTransient(err error) bool {
	s, ok := statusOf(err)
	return ok && (s == 0 || s == http.StatusTooManyRequests || s >= http.StatusInternalServerError)
}
