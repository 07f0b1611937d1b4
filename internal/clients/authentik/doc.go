// Package authentik builds clients for the Authentik API from the provider's
// configuration and turns Authentik's error responses into errors the
// controllers can act on. It never logs the API token.
package authentik
