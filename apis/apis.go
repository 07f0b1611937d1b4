// Package apis contains the Kubernetes API types of provider-authentik.
package apis

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
)

// AddToScheme adds every API type of this provider to a scheme.
func AddToScheme(s *runtime.Scheme) error {
	return v1alpha1.SchemeBuilder.AddToScheme(s)
}
