package authentiksim

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

const (
	clientModule = "goauthentik.io/api/v3"
	schemaFile   = "api/openapi.yaml"

	errLocateModule   = "cannot locate the goauthentik.io/api/v3 module with go list; pass a schema path instead"
	errModuleNotFound = "go list found no directory for the goauthentik.io/api/v3 module; run go mod download"
	errLoadSchema     = "cannot load the Authentik OpenAPI schema"
	errInvalidSchema  = "the Authentik OpenAPI schema is not valid OpenAPI"
	errUnknownOp      = "the Authentik OpenAPI schema has no operation for a simulated route"
	errWrongOp        = "a simulated route's operation id differs from the Authentik OpenAPI schema"
	errWrongModel     = "a simulated route's answer differs from the Authentik OpenAPI schema"
)

// modulePath runs go list once per process: it costs a process start and
// every Server without an explicit schema path asks for it.
var modulePath = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", clientModule).Output()
	if err != nil {
		return "", errors.Wrap(err, errLocateModule)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", errors.New(errModuleNotFound)
	}
	return dir, nil
})

// SchemaPath returns the path of the OpenAPI schema (api/openapi.yaml) that
// ships inside the goauthentik.io/api/v3 module this build depends on, so
// the simulator checks traffic against the same API version the provider's
// client was generated from. It needs the go tool and must run inside the
// provider's module.
func SchemaPath() (string, error) {
	dir, err := modulePath()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, schemaFile), nil
}

// uuidPattern is the canonical textual form Authentik prints and the Go
// client sends; Django would also parse other spellings, but nothing in this
// API produces them.
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

const (
	errNotUUID       = "not a UUID"
	errNotURI        = "not an absolute URI"
	errURIWhitespace = "a URI cannot contain whitespace"
)

// formatValidators makes kin-openapi check the two formats Authentik's
// schema uses for identifiers and hosts; kin-openapi ignores formats it does
// not know. They are scoped to the schema instead of registered globally so
// the simulator does not change validation for other users of kin-openapi in
// the same process.
func formatValidators() map[string]openapi3.StringFormatValidator {
	return map[string]openapi3.StringFormatValidator{
		"uuid": openapi3.NewCallbackValidator(func(v string) error {
			if !uuidPattern.MatchString(v) {
				return errors.New(errNotUUID)
			}
			return nil
		}),
		// Authentik allows a blank internal_host and meta_launch_url, and the
		// schema still says format uri for them; fields that must not be
		// blank carry minLength 1, which catches "" on its own. Launch URLs
		// may hold %(field)s placeholders that Authentik fills per user.
		"uri": openapi3.NewCallbackValidator(func(v string) error {
			if v == "" {
				return nil
			}
			if strings.ContainsAny(v, " \t\r\n") {
				return errors.New(errURIWhitespace)
			}
			u, err := url.Parse(placeholderPattern.ReplaceAllString(v, "x"))
			if err != nil || u.Scheme == "" {
				return errors.New(errNotURI)
			}
			return nil
		}),
	}
}

// schema is Authentik's OpenAPI document with the options used to check
// traffic against it. It is shared read-only by every Server in a process.
type schema struct {
	doc     *openapi3.T
	options *openapi3filter.Options
	// responseOptions collect every violation of a response, so that the
	// ones a release line really shows can be told from the others.
	responseOptions *openapi3filter.Options
	// models names the component of each component schema, and properties
	// the component and key of each of their properties, to read which
	// model a violation is about.
	models     map[*openapi3.Schema]string
	properties map[*openapi3.Schema]modelKey
}

type modelKey struct{ model, key string }

// moduleSchema parses and validates the module's schema (SchemaPath) once
// per process: parsing the 90k-line document takes about a second and
// every test builds its own Server.
var moduleSchema = sync.OnceValues(func() (*schema, error) {
	path, err := SchemaPath()
	if err != nil {
		return nil, err
	}
	return parseSchema(path)
})

// loadSchema returns the schema at path, the module's parsed once.
func loadSchema(path string) (*schema, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, errors.Wrap(err, errLoadSchema)
	}
	if module, err := SchemaPath(); err == nil && module == abs {
		return moduleSchema()
	}
	return parseSchema(abs)
}

func parseSchema(path string) (*schema, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, errors.Wrap(err, errLoadSchema)
	}
	// The schema's generated examples do not all match their own schemas.
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, errors.Wrap(err, errInvalidSchema)
	}
	allowNullInUntypedSchemas(doc)
	options := &openapi3filter.Options{
		// The simulator authenticates requests itself, before validation.
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		// Rules that look at the request body, like the proxy provider's
		// mode check, must see what the client sent, not schema defaults.
		SkipSettingDefaults: true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidators(formatValidators()),
		},
	}
	responseOptions := *options
	responseOptions.MultiError = true
	sc := &schema{
		doc:             doc,
		options:         options,
		responseOptions: &responseOptions,
		models:          map[*openapi3.Schema]string{},
		properties:      map[*openapi3.Schema]modelKey{},
	}
	for name, ref := range doc.Components.Schemas {
		if ref.Value == nil {
			continue
		}
		sc.models[ref.Value] = name
		for key, p := range ref.Value.Properties {
			// A property that is a bare $ref shares its schema with
			// others and cannot name one model's key.
			if p.Value != nil && p.Ref == "" {
				sc.properties[p.Value] = modelKey{model: name, key: key}
			}
		}
	}
	return sc, nil
}

// operation finds the schema's operation for a simulated route and checks
// that the schema calls it what the simulator calls it.
func (sc *schema) operation(rt *route) (*routers.Route, error) {
	item := sc.doc.Paths.Value(rt.pattern)
	if item == nil {
		return nil, errors.Errorf("%s: %s %s", errUnknownOp, rt.method, rt.pattern)
	}
	op := item.GetOperation(rt.method)
	if op == nil {
		return nil, errors.Errorf("%s: %s %s", errUnknownOp, rt.method, rt.pattern)
	}
	if op.OperationID != rt.operationID {
		return nil, errors.Errorf("%s: %s %s is %q in the schema, %q in the simulator", errWrongOp, rt.method, rt.pattern, op.OperationID, rt.operationID)
	}
	return &routers.Route{Spec: sc.doc, Path: rt.pattern, PathItem: item, Method: rt.method, Operation: op}, nil
}

// validateRequest checks a request (with its body already read into body)
// against the operation's parameters and request body schema.
func (sc *schema) validateRequest(ctx context.Context, r *http.Request, op *routers.Route, params map[string]string, body []byte) (*openapi3filter.RequestValidationInput, error) {
	clone := r.Clone(ctx)
	clone.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{
		Request:    clone,
		PathParams: params,
		Route:      op,
		Options:    sc.options,
	}
	return in, openapi3filter.ValidateRequest(ctx, in)
}

// validateResponse checks a response the simulator is about to send.
// Statuses the schema does not list (404, 405, 500) are not checked, as
// Authentik's schema documents only 2xx, 400 and 403. The schema is
// 2026.5's: what line sends differently by lineDifferences is no
// violation, anything else is.
func (sc *schema) validateResponse(ctx context.Context, in *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte, line Line) error {
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Options:                sc.responseOptions,
	}
	out.SetBodyBytes(body)
	err := openapi3filter.ValidateResponse(ctx, out)
	if err == nil || sc.tolerated(err, line) {
		return nil
	}
	return err
}

// tolerated tells whether every violation in err is one that line shows
// by lineDifferences.
func (sc *schema) tolerated(err error, line Line) bool {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			if !sc.tolerated(e, line) {
				return false
			}
		}
		return len(me) > 0
	}
	var re *openapi3filter.ResponseError
	if errors.As(err, &re) && re.Err != nil && re.Err != err { //nolint:errorlint // Identity, not equality: an error that wraps itself ends the recursion.
		return sc.tolerated(re.Err, line)
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return false
	}
	switch se.SchemaField {
	case "required":
		p := se.JSONPointer()
		return len(p) > 0 && line.tolerates(sc.models[se.Schema], p[len(p)-1], omitted)
	case "nullable":
		mk, ok := sc.properties[se.Schema]
		return ok && line.tolerates(mk.model, mk.key, emptyAsNull)
	}
	return se.Origin != nil && sc.tolerated(se.Origin, line)
}

// checkModel checks that a route's model is the one the schema answers
// with, so the release lines shape answers by the right model.
func checkModel(rt *route, op *routers.Route) error {
	if rt.model == "" {
		return nil
	}
	want := "#/components/schemas/" + rt.model
	if rt.isList() {
		want = "#/components/schemas/Paginated" + rt.model + "List"
	}
	for _, status := range []int{http.StatusOK, http.StatusCreated} {
		resp := op.Operation.Responses.Status(status)
		if resp == nil || resp.Value == nil {
			continue
		}
		if mt := resp.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil && mt.Schema.Ref == want {
			return nil
		}
	}
	return errors.Errorf("%s: %s %s answers %s in the simulator", errWrongModel, rt.method, rt.pattern, want)
}

// allowNullInUntypedSchemas marks every schema without any constraint (the
// "{}" of an outpost config's values) nullable. OpenAPI 3.0 says nullable
// only matters where a type is given, so "{}" accepts null; kin-openapi
// refuses null there, and Authentik's default outpost config has null
// values.
func allowNullInUntypedSchemas(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var visit func(ref *openapi3.SchemaRef)
	visit = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if (s.Type == nil || s.Type.IsEmpty()) && len(s.AllOf) == 0 && len(s.AnyOf) == 0 && len(s.OneOf) == 0 &&
			s.Not == nil && len(s.Enum) == 0 && len(s.Properties) == 0 && s.Items == nil {
			s.Nullable = true
		}
		for _, p := range s.Properties {
			visit(p)
		}
		for _, refs := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, r := range refs {
				visit(r)
			}
		}
		visit(s.Items)
		visit(s.Not)
		visit(s.AdditionalProperties.Schema)
	}
	if doc.Components != nil {
		for _, ref := range doc.Components.Schemas {
			visit(ref)
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value != nil {
					visit(p.Value.Schema)
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					visit(mt.Schema)
				}
			}
			for _, resp := range op.Responses.Map() {
				if resp.Value != nil {
					for _, mt := range resp.Value.Content {
						visit(mt.Schema)
					}
				}
			}
		}
	}
}
