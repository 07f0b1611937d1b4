package mrbehavior

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A CacheLister is a client whose List fills the list with the cache's own
// objects rather than deep copies of them. It is for readers that never
// modify what they list: crossplane-runtime's state recorder keeps its last
// list of every resource of its kind until the next, which with copies
// held a second copy of each resource.
type CacheLister struct{ client.Client }

// List lists from the cache without copying the objects.
func (c CacheLister) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return c.Client.List(ctx, list, append(opts, client.UnsafeDisableDeepCopy)...)
}
