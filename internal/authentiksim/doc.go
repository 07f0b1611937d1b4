// Package authentiksim simulates the parts of the Authentik REST API that
// provider-authentik uses: proxy, OAuth2 and SAML providers, applications,
// outposts, flows, groups, expression policies and policy bindings under
// /api/v3, and the version and config endpoints.
//
// It answers as one Authentik release line (Lines, from 2024.12 to 2026.8;
// DefaultVersion unless Options.AuthentikVersion or WithAuthentikVersion
// says otherwise): answers leave out what that line did not send, and the
// schema check tolerates exactly that (lineDifferences).
//
// The simulator enforces the rules Authentik's serializers and models enforce
// (required fields, uniqueness, one application per provider, the proxy
// provider's mode/internal_host check, cascades on delete, server-side
// rewrites on save) and checks every request and every response against the
// OpenAPI schema shipped in goauthentik.io/api/v3. A schema violation is
// recorded on the Server and answered visibly (400 for a request, 500 for a
// response), so a test that talks to the simulator fails instead of passing
// against behaviour the real server would not show.
//
// Faults (error statuses, latency, dropped connections) can be injected per
// operation id for reliability tests, and requests are counted per operation.
// Control endpoints outside /api/v3 live under /_sim/.
//
// It also knows Authentik's access decision (access.go): fixture users with
// group memberships (SetUser, PUT /_sim/users/{name}; not served by the
// API) are admitted to an application or not as Authentik's policy engine
// decides. After every write it accepts, the simulator records which
// fixture users each served provider (a proxy provider on an outpost with
// an application; an OAuth2 provider with an application) admits, so a test can ask whether a provider was ever served while a user
// outside its groups was admitted (Exposures, GET /_sim/exposures).
// Expression policies are evaluated for the forms expression.go knows; a
// decision that needs any other expression is recorded as an error
// (AccessErrors, GET /_sim/access-errors), never guessed.
//
// In a Go test, package simtest starts one behind an httptest server and
// fails the test on any problem it saw (Problems).
//
// Users (beyond the fixtures), roles, sources, service connections and
// policies of types other than expression are not simulated: a reference
// to any of them is answered as a reference to a missing object, as
// Authentik answers it.
package authentiksim
