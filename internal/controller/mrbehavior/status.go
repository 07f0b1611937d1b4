package mrbehavior

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SkipsUnchangedStatus returns a client whose status updates are left out
// when they would change nothing. crossplane-runtime's managed reconciler
// writes a resource's status at the end of every reconcile, so on every
// poll of every resource; the API server answers an unchanged status
// without storing it, but it decodes, validates and compares each one,
// which for hundreds of resources polled every minute is a steady load
// for nothing. An update is left out only when the object c reads (the
// manager's cache, which the reconciler read it from) is the very version
// being updated and has the same status, which is when the API server
// would leave it as it is.
func SkipsUnchangedStatus(c client.Client) client.Client {
	return &statusSkipper{Client: c}
}

type statusSkipper struct {
	client.Client
}

func (s *statusSkipper) Status() client.SubResourceWriter {
	return &statusWriter{SubResourceWriter: s.Client.Status(), read: s.Client}
}

type statusWriter struct {
	client.SubResourceWriter
	read client.Reader
}

func (w *statusWriter) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if len(opts) == 0 && w.unchanged(ctx, obj) {
		return nil
	}
	return w.SubResourceWriter.Update(ctx, obj, opts...)
}

func (w *statusWriter) unchanged(ctx context.Context, obj client.Object) bool {
	stored, ok := obj.DeepCopyObject().(client.Object)
	if !ok || w.read.Get(ctx, client.ObjectKeyFromObject(obj), stored) != nil {
		return false
	}
	if stored.GetResourceVersion() == "" || stored.GetResourceVersion() != obj.GetResourceVersion() {
		return false
	}
	want, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return false
	}
	have, err := runtime.DefaultUnstructuredConverter.ToUnstructured(stored)
	if err != nil {
		return false
	}
	return equality.Semantic.DeepEqual(want["status"], have["status"])
}
