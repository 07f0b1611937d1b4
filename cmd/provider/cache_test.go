package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

func TestGateView(t *testing.T) {
	t.Parallel()
	crd := func(full bool) *apiextensionsv1.CustomResourceDefinition {
		c := &apiextensionsv1.CustomResourceDefinition{
			ObjectMeta: metav1.ObjectMeta{Name: "proxyproviders.authentik.m.crossplane.io"},
			Spec: apiextensionsv1.CustomResourceDefinitionSpec{
				Group: "authentik.m.crossplane.io",
				Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: "ProxyProvider", Plural: "proxyproviders"},
				Scope: apiextensionsv1.NamespaceScoped,
				Versions: []apiextensionsv1.CustomResourceDefinitionVersion{
					{Name: "v1alpha1", Served: true, Storage: true},
					{Name: "v1alpha0", Served: false},
				},
			},
			Status: apiextensionsv1.CustomResourceDefinitionStatus{Conditions: []apiextensionsv1.CustomResourceDefinitionCondition{
				{Type: apiextensionsv1.Established, Status: apiextensionsv1.ConditionTrue},
			}},
		}
		if full {
			c.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "crossplane", Operation: metav1.ManagedFieldsOperationApply}}
			c.Spec.Conversion = &apiextensionsv1.CustomResourceConversion{Strategy: apiextensionsv1.NoneConverter}
			for i := range c.Spec.Versions {
				v := &c.Spec.Versions[i]
				v.Schema = &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object", Description: "a long schema"}}
				v.Subresources = &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}}
				v.AdditionalPrinterColumns = []apiextensionsv1.CustomResourceColumnDefinition{{Name: "READY", Type: "string", JSONPath: ".status"}}
			}
		}
		return c
	}
	got, err := gateView(cache.TransformStripManagedFields())(crd(true))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(crd(false), got); diff != "" {
		t.Errorf("The cached CRD keeps what the safe-start gate reads (group, kind, versions served, conditions) and nothing else.\n-want, +got:\n%s", diff)
	}
}
