package authentiksim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Messages Django REST Framework and Django answer for invalid fields. The
// simulator repeats them word for word so clients that show or match them
// behave as they would against Authentik.
const (
	msgRequired      = "This field is required."
	msgNull          = "This field may not be null."
	msgBlank         = "This field may not be blank."
	msgNotString     = "Not a valid string."
	msgNotBool       = "Must be a valid boolean."
	msgNotInt        = "A valid integer is required."
	msgNotObject     = "Expected a dictionary of items but got type \"%s\"."
	msgNotList       = "Expected a list of items but got type \"%s\"."
	msgEmptyList     = "This list may not be empty."
	msgBadChoice     = "\"%s\" is not a valid choice."
	msgNoObject      = "Invalid pk \"%s\" - object does not exist."
	msgBadURL        = "Enter a valid URL."
	msgBadSlug       = "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."
	msgUnique        = "%s with this %s already exists."
	msgUniqueSet     = "The fields %s must make a unique set."
	msgTooSmall      = "Ensure this value is greater than or equal to %d."
	msgTooLarge      = "Ensure this value is less than or equal to %d."
	msgJSONParse     = "JSON parse error - %s"
	msgNonFieldError = "non_field_errors"
)

// fieldErrors is the body of a DRF 400 answer: field name to messages.
type fieldErrors map[string][]string

func (e fieldErrors) add(field, msg string) { e[field] = append(e[field], msg) }

// form is a decoded JSON request body that remembers which keys the client
// sent. DRF only updates fields present in the body (for PUT as for PATCH),
// and several Authentik rules look at the body alone, so presence matters.
type form struct {
	raw     map[string]json.RawMessage
	partial bool // PATCH: required fields may be absent
	errs    fieldErrors
}

// parseForm decodes a request body, or answers DRF's 400 for malformed JSON.
func parseForm(body []byte, partial bool) (*form, *reply) {
	f := &form{raw: map[string]json.RawMessage{}, partial: partial, errs: fieldErrors{}}
	if len(bytes.TrimSpace(body)) == 0 {
		return f, nil
	}
	if err := json.Unmarshal(body, &f.raw); err != nil {
		r := detail(400, fmt.Sprintf(msgJSONParse, err.Error()))
		return nil, &r
	}
	return f, nil
}

func (f *form) has(key string) bool {
	_, ok := f.raw[key]
	return ok
}

func (f *form) isNull(key string) bool {
	return string(bytes.TrimSpace(f.raw[key])) == "null"
}

// present reports whether key is in the body, and records "required" when it
// is not but must be.
func (f *form) present(key string, required bool) bool {
	if f.has(key) {
		return true
	}
	if required && !f.partial {
		f.errs.add(key, msgRequired)
	}
	return false
}

// rawString returns what the client sent for key when it is a JSON string.
// Authentik's basic-auth check reads the raw body, not validated values.
func (f *form) rawString(key string) (string, bool) {
	var v string
	if !f.has(key) || json.Unmarshal(f.raw[key], &v) != nil {
		return "", false
	}
	return v, true
}

// str reads a string field. ok is false when the field is absent or invalid.
func (f *form) str(key string, required, allowBlank bool) (string, bool) {
	if !f.present(key, required) {
		return "", false
	}
	if f.isNull(key) {
		f.errs.add(key, msgNull)
		return "", false
	}
	var v string
	if err := json.Unmarshal(f.raw[key], &v); err != nil {
		f.errs.add(key, msgNotString)
		return "", false
	}
	// DRF trims whitespace before checking for blanks.
	v = strings.TrimSpace(v)
	if v == "" && !allowBlank {
		f.errs.add(key, msgBlank)
		return "", false
	}
	return v, true
}

// nullableStr reads a nullable string field; nil means the client sent null.
func (f *form) nullableStr(key string) (*string, bool) {
	if !f.has(key) {
		return nil, false
	}
	if f.isNull(key) {
		return nil, true
	}
	v, ok := f.str(key, false, false)
	if !ok {
		return nil, false
	}
	return &v, true
}

func (f *form) boolean(key string) (bool, bool) {
	if !f.has(key) {
		return false, false
	}
	if f.isNull(key) {
		f.errs.add(key, msgNull)
		return false, false
	}
	var v bool
	if err := json.Unmarshal(f.raw[key], &v); err != nil {
		f.errs.add(key, msgNotBool)
		return false, false
	}
	return v, true
}

func (f *form) integer(key string, required bool, lowest, highest int64) (int64, bool) {
	if !f.present(key, required) {
		return 0, false
	}
	if f.isNull(key) {
		f.errs.add(key, msgNull)
		return 0, false
	}
	v, err := strconv.ParseInt(string(bytes.TrimSpace(f.raw[key])), 10, 64)
	if err != nil {
		f.errs.add(key, msgNotInt)
		return 0, false
	}
	if v < lowest {
		f.errs.add(key, fmt.Sprintf(msgTooSmall, lowest))
		return 0, false
	}
	if v > highest {
		f.errs.add(key, fmt.Sprintf(msgTooLarge, highest))
		return 0, false
	}
	return v, true
}

func (f *form) choice(key string, choices ...string) (string, bool) {
	v, ok := f.str(key, false, true)
	if !ok {
		return "", false
	}
	if !slices.Contains(choices, v) {
		f.errs.add(key, fmt.Sprintf(msgBadChoice, v))
		return "", false
	}
	return v, true
}

func (f *form) object(key string, required bool) (map[string]any, bool) {
	if !f.present(key, required) {
		return nil, false
	}
	if f.isNull(key) {
		f.errs.add(key, msgNull)
		return nil, false
	}
	var v map[string]any
	if err := json.Unmarshal(f.raw[key], &v); err != nil {
		f.errs.add(key, fmt.Sprintf(msgNotObject, jsonType(f.raw[key])))
		return nil, false
	}
	return v, true
}

// list decodes a JSON array of T. A non-array gets DRF's message.
func formList[T any](f *form, key string, required bool) ([]T, bool) {
	if !f.present(key, required) {
		return nil, false
	}
	if f.isNull(key) {
		f.errs.add(key, msgNull)
		return nil, false
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(f.raw[key], &raw); err != nil {
		f.errs.add(key, fmt.Sprintf(msgNotList, jsonType(f.raw[key])))
		return nil, false
	}
	out := make([]T, 0, len(raw))
	for _, item := range raw {
		var v T
		if err := json.Unmarshal(item, &v); err != nil {
			// A primary-key list reports the offending value, as DRF's
			// PrimaryKeyRelatedField does.
			f.errs.add(key, fmt.Sprintf(msgNoObject, strings.Trim(string(item), `"`)))
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// jsonType names a JSON value's type the way Python names the decoded value.
func jsonType(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "NoneType"
	}
	switch t[0] {
	case '"':
		return "str"
	case '[':
		return "list"
	case '{':
		return "dict"
	case 't', 'f':
		return "bool"
	case 'n':
		return "NoneType"
	}
	if bytes.ContainsAny(t, ".eE") {
		return "float"
	}
	return "int"
}

var slugPattern = regexp.MustCompile(`^[-a-zA-Z0-9_]+$`)

// slug reads a field validated with Django's validate_slug.
func (f *form) slug(key string, required bool) (string, bool) {
	v, ok := f.str(key, required, false)
	if !ok {
		return "", false
	}
	if !slugPattern.MatchString(v) {
		f.errs.add(key, msgBadSlug)
		return "", false
	}
	return v, true
}

// httpURL reads a field validated with Authentik's DomainlessURLValidator
// limited to http and https: hosts without a top-level domain, IP addresses
// and ports are fine.
func (f *form) httpURL(key string, required, allowBlank bool) (string, bool) {
	v, ok := f.str(key, required, allowBlank)
	if !ok || v == "" {
		return v, ok
	}
	if !isHTTPURL(v) {
		f.errs.add(key, msgBadURL)
		return "", false
	}
	return v, true
}

func isHTTPURL(v string) bool {
	if strings.ContainsAny(v, " \t\r\n") {
		return false
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	return scheme == "http" || scheme == "https"
}

// formattedURL reads meta_launch_url, validated with Authentik's
// DomainlessFormattedURLValidator: any scheme, and %(field)s placeholders
// that are filled with the user's data when the launch URL is built.
func (f *form) formattedURL(key string) (string, bool) {
	v, ok := f.str(key, false, true)
	if !ok || v == "" {
		return v, ok
	}
	filled := placeholderPattern.ReplaceAllString(v, "x")
	u, err := url.Parse(filled)
	if err != nil || u.Scheme == "" || u.Host == "" || strings.ContainsAny(filled, " \t\r\n") {
		f.errs.add(key, msgBadURL)
		return "", false
	}
	return v, true
}

var placeholderPattern = regexp.MustCompile(`%\([^)]*\)s`)
