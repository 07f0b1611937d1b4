// Package mrbehavior holds what this provider's managed reconcilers do
// beyond crossplane-runtime's defaults, each through the reconciler's public
// options: adopt after an unconfirmed create or with the user's consent,
// wait for the objects references name, fold and skip writes to the API
// server, and list from the cache without copies.
package mrbehavior
