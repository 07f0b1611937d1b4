package mrtest

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// A changeCounter counts, per object, the writes that changed it. A real
// API server sends a watch event for each, and Crossplane reconciles the
// composite of a composed resource on every one; the fake API server bumps
// the resource version on every write, even one that changes nothing, so
// the objects are compared without it.
type changeCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func changeKey(obj client.Object) string {
	return fmt.Sprintf("%T %s/%s", obj, obj.GetNamespace(), obj.GetName())
}

func (c *changeCounter) wrap(kube client.WithWatch) client.WithWatch {
	return interceptor.NewClient(kube, interceptor.Funcs{
		Update: func(ctx context.Context, k client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			return c.count(ctx, k, obj, func() error { return k.Update(ctx, obj, opts...) })
		},
		Patch: func(ctx context.Context, k client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			return c.count(ctx, k, obj, func() error { return k.Patch(ctx, obj, patch, opts...) })
		},
		SubResourceUpdate: func(ctx context.Context, k client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			return c.count(ctx, k, obj, func() error { return k.SubResource(sub).Update(ctx, obj, opts...) })
		},
		SubResourcePatch: func(ctx context.Context, k client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			return c.count(ctx, k, obj, func() error { return k.SubResource(sub).Patch(ctx, obj, patch, opts...) })
		},
	})
}

func (c *changeCounter) count(ctx context.Context, k client.Reader, obj client.Object, write func() error) error {
	before, _ := obj.DeepCopyObject().(client.Object)
	if err := k.Get(ctx, client.ObjectKeyFromObject(obj), before); err != nil {
		return write()
	}
	if err := write(); err != nil {
		return err
	}
	after, _ := obj.DeepCopyObject().(client.Object)
	if err := k.Get(ctx, client.ObjectKeyFromObject(obj), after); err != nil {
		return nil //nolint:nilerr // the write succeeded; only the count is lost
	}
	before.SetResourceVersion("")
	after.SetResourceVersion("")
	if !equality.Semantic.DeepEqual(before, after) {
		c.mu.Lock()
		c.counts[changeKey(obj)]++
		c.mu.Unlock()
	}
	return nil
}

// Changes is how many writes changed obj since the Env started: each is a
// watch event for Crossplane, which then reconciles obj's composite.
func (e *Env) Changes(obj client.Object) int {
	e.changes.mu.Lock()
	defer e.changes.mu.Unlock()
	return e.changes.counts[changeKey(obj)]
}
