package mrbehavior

import (
	"regexp"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ExternalUUID returns the external name of a kind whose objects Authentik
// keys by UUID, or an error saying msg and naming what the external name
// is instead.
func ExternalUUID(externalName, msg string) (string, error) {
	if !uuidPattern.MatchString(externalName) {
		return "", errors.Errorf("%s, not %q", msg, externalName)
	}
	return externalName, nil
}
