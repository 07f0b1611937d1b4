package mrbehavior

import "k8s.io/utils/ptr"

// FillUnset late-initializes a spec field the user left unset with a copy
// of what Authentik has, and reports whether it did. A copy, not
// crossplane-runtime's LateInitializer, which hands back the observed
// pointer: that may point into the shared reads.
func FillUnset[T any](field **T, observed *T) bool {
	if *field != nil || observed == nil {
		return false
	}
	*field = ptr.To(*observed)
	return true
}
