package discovery

import (
	"context"
	"fmt"
	"strings"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The forward-auth wirings discovery recognises on a route: what makes the
// route's proxy ask Authentik's outpost before it lets a request through.
// A route without one reaches its Service whatever Authentik decides.
const (
	// annotationNginxAuthURL is ingress-nginx's external authentication;
	// it asks the outpost when it points at the outpost's
	// /outpost.goauthentik.io/auth/nginx.
	annotationNginxAuthURL = "nginx.ingress.kubernetes.io/auth-url"
	// annotationTraefikMiddlewares lists the Traefik Middlewares of the
	// Ingress's router, a ForwardAuth one among them. Discovery does not
	// read Middlewares: any counts.
	annotationTraefikMiddlewares = "traefik.ingress.kubernetes.io/router.middlewares"
	// outpostPath is where an Authentik outpost answers forward-auth checks.
	outpostPath = "/outpost.goauthentik.io/"
)

// securityPolicyGroupVersionKind is Envoy Gateway's SecurityPolicy, whose
// extAuth makes Envoy ask an external service (the outpost) first.
var securityPolicyGroupVersionKind = schema.GroupVersionKind{Group: "gateway.envoyproxy.io", Version: "v1alpha1", Kind: "SecurityPolicyList"}

// A wiring is what discovery found of a route's forward auth.
type wiring struct {
	// known is false when discovery cannot tell (it may not read Envoy
	// Gateway's SecurityPolicies): it then says nothing.
	known bool
	// by names the wiring found; "" for none.
	by string
}

// notProtected is the Warning a route without forward auth gets.
func notProtected(kind string) string {
	return fmt.Sprintf("the %s does not ask Authentik's outpost: its proxy sends requests straight to the Service, whatever Authentik allows. "+
		"Wire it to the outpost (%s pointing at %sauth/nginx, a Traefik ForwardAuth middleware in %s, "+
		"an HTTPRoute ExtensionRef filter, or an Envoy Gateway SecurityPolicy with extAuth targeting the route)",
		kind, annotationNginxAuthURL, outpostPath, annotationTraefikMiddlewares)
}

// ingressWiring finds an Ingress's forward auth in its annotations.
func ingressWiring(route client.Object) wiring {
	a := route.GetAnnotations()
	switch {
	case strings.Contains(a[annotationNginxAuthURL], outpostPath):
		return wiring{known: true, by: annotationNginxAuthURL}
	case strings.TrimSpace(a[annotationTraefikMiddlewares]) != "":
		return wiring{known: true, by: annotationTraefikMiddlewares}
	}
	return wiring{known: true}
}

// httpRouteWiring finds an HTTPRoute's forward auth: an ExtensionRef filter
// (a Traefik Middleware, for one), or an Envoy Gateway SecurityPolicy with
// extAuth that targets the route, read with r.
func httpRouteWiring(ctx context.Context, r client.Reader, route client.Object) wiring {
	hr, ok := route.(*gatewayv1.HTTPRoute)
	if !ok {
		return wiring{}
	}
	for _, rule := range hr.Spec.Rules {
		for _, f := range rule.Filters {
			if f.Type == gatewayv1.HTTPRouteFilterExtensionRef {
				return wiring{known: true, by: "spec.rules[].filters[].extensionRef"}
			}
		}
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(securityPolicyGroupVersionKind)
	err := r.List(ctx, list, client.InNamespace(hr.GetNamespace()))
	switch {
	case meta.IsNoMatchError(err) || runtime.IsNotRegisteredError(err) || kerrors.IsNotFound(err):
		// No Envoy Gateway in the cluster.
		return wiring{known: true}
	case err != nil:
		return wiring{}
	}
	for _, p := range list.Items {
		if _, found, _ := unstructured.NestedMap(p.Object, "spec", "extAuth"); !found {
			continue
		}
		refs, _, _ := unstructured.NestedSlice(p.Object, "spec", "targetRefs")
		if ref, found, _ := unstructured.NestedMap(p.Object, "spec", "targetRef"); found {
			refs = append(refs, ref)
		}
		for _, ref := range refs {
			m, ok := ref.(map[string]any)
			if ok && m["kind"] == "HTTPRoute" && m["name"] == hr.GetName() {
				return wiring{known: true, by: "SecurityPolicy " + p.GetName()}
			}
		}
	}
	return wiring{known: true}
}
