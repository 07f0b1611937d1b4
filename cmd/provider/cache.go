package main

import (
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// cacheOptions keep in the provider's cache only what it reads. Every
// object loses its managed fields (which make up much of a managed
// resource that Crossplane composes with server-side apply, and which the
// provider never reads or writes: an update without them keeps the
// server's). CustomResourceDefinitions, cached for the safe-start gate,
// keep their group, kinds, versions and conditions, not their schemas.
func cacheOptions(sync *time.Duration) cache.Options {
	strip := cache.TransformStripManagedFields()
	return cache.Options{
		SyncPeriod:       sync,
		DefaultTransform: strip,
		ByObject: map[client.Object]cache.ByObject{
			&apiextensionsv1.CustomResourceDefinition{}: {Transform: gateView(strip)},
		},
	}
}

// gateView drops from a CustomResourceDefinition what the safe-start gate
// does not read: each version's schema, subresources and columns.
func gateView(next toolscache.TransformFunc) toolscache.TransformFunc {
	return func(in any) (any, error) {
		if crd, ok := in.(*apiextensionsv1.CustomResourceDefinition); ok {
			for i := range crd.Spec.Versions {
				v := &crd.Spec.Versions[i]
				v.Schema, v.Subresources, v.AdditionalPrinterColumns, v.SelectableFields = nil, nil, nil, nil
			}
			crd.Spec.Conversion = nil
		}
		return next(in)
	}
}
