package mrsetup

import (
	"context"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
)

// A Connector connects a managed resource of kind T to the Authentik its
// provider config names and wraps the client in the kind's external
// client E. Every kind connects this way; only E differs.
type Connector[T resource.ModernManaged, E managed.TypedExternalClient[T]] struct {
	conn        *authentik.Connector
	newExternal func(*authentik.Client) E
}

// NewConnector returns a Connector that makes each external client with
// newExternal from the client conn returns for the resource.
func NewConnector[T resource.ModernManaged, E managed.TypedExternalClient[T]](conn *authentik.Connector, newExternal func(*authentik.Client) E) *Connector[T, E] {
	return &Connector[T, E]{conn: conn, newExternal: newExternal}
}

// Client returns a client for the Authentik cr's provider config names,
// recording that cr uses the config.
func (c *Connector[T, E]) Client(ctx context.Context, cr T) (*authentik.Client, error) {
	return c.conn.ClientFor(ctx, cr)
}

// External returns the kind's external client for cr.
func (c *Connector[T, E]) External(ctx context.Context, cr T) (E, error) {
	ac, err := c.Client(ctx, cr)
	if err != nil {
		var none E
		return none, err
	}
	return c.newExternal(ac), nil
}

// Connect returns the kind's external client for cr, for the managed
// reconciler.
func (c *Connector[T, E]) Connect(ctx context.Context, cr T) (managed.TypedExternalClient[T], error) {
	e, err := c.External(ctx, cr)
	if err != nil {
		// Not e: a nil E in the interface would not compare equal to nil.
		return nil, err
	}
	return e, nil
}
