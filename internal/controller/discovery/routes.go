package discovery

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const errGetService = "cannot get the backend Service"

// A Backend is where a route sends its users: the host they open and the
// Service port behind it.
type Backend struct {
	Host      string
	Service   string
	Namespace string
	Port      int32
}

// InternalURL is the Service port's in-cluster address, where the outpost
// forwards traffic in proxy mode.
func (b Backend) InternalURL() string {
	return fmt.Sprintf("http://%s.%s.svc.cluster.local:%d", b.Service, b.Namespace, b.Port)
}

// A routeProblem is something about the route itself that keeps discovery
// from building a ProxyConfig; the route's owner fixes it, so it is reported
// in an Event rather than retried.
type routeProblem string

func (p routeProblem) Error() string { return string(p) }

// A missingService is a backend Service that does not exist (yet); its
// named port cannot be resolved until it does.
type missingService string

func (m missingService) Error() string { return string(m) }

// A Route describes one kind of route discovery reads.
type Route struct {
	// GroupVersionKind of the route, for the ProxyConfig's owner reference.
	GroupVersionKind schema.GroupVersionKind
	// Resource is the route kind's resource name, for RBAC.
	Resource string
	// New returns an empty route of the kind.
	New func() client.Object
	// Backend reads the route's first host and the Service behind it. It
	// reads the Service (with r) only to resolve a port given by name.
	Backend func(ctx context.Context, r client.Reader, route client.Object) (Backend, error)
	// Wiring finds the route's forward auth, reading with r what is not on
	// the route itself.
	Wiring func(ctx context.Context, r client.Reader, route client.Object) wiring
}

// Ingress is discovery of networking.k8s.io/v1 Ingresses.
var Ingress = Route{
	GroupVersionKind: networkingv1.SchemeGroupVersion.WithKind("Ingress"),
	Resource:         "ingresses",
	New:              func() client.Object { return &networkingv1.Ingress{} },
	Backend: func(ctx context.Context, r client.Reader, route client.Object) (Backend, error) {
		ing, ok := route.(*networkingv1.Ingress)
		if !ok {
			return Backend{}, errors.Errorf("%T is not an Ingress", route)
		}
		return ingressBackend(ctx, r, ing)
	},
	Wiring: func(_ context.Context, _ client.Reader, route client.Object) wiring { return ingressWiring(route) },
}

// HTTPRoute is discovery of Gateway API gateway.networking.k8s.io/v1
// HTTPRoutes.
var HTTPRoute = Route{
	GroupVersionKind: schema.GroupVersionKind{Group: gatewayv1.GroupName, Version: "v1", Kind: "HTTPRoute"},
	Resource:         "httproutes",
	New:              func() client.Object { return &gatewayv1.HTTPRoute{} },
	Backend: func(_ context.Context, _ client.Reader, route client.Object) (Backend, error) {
		hr, ok := route.(*gatewayv1.HTTPRoute)
		if !ok {
			return Backend{}, errors.Errorf("%T is not an HTTPRoute", route)
		}
		return httpRouteBackend(hr)
	},
	Wiring: httpRouteWiring,
}

// ingressBackend takes the first rule with a host and a Service backend.
func ingressBackend(ctx context.Context, r client.Reader, ing *networkingv1.Ingress) (Backend, error) {
	host := ""
	for _, rule := range ing.Spec.Rules {
		if rule.Host == "" || strings.HasPrefix(rule.Host, "*") {
			continue
		}
		if host == "" {
			host = rule.Host
		}
		if rule.HTTP == nil {
			continue
		}
		for _, p := range rule.HTTP.Paths {
			svc := p.Backend.Service
			if svc == nil {
				continue
			}
			b := Backend{Host: rule.Host, Service: svc.Name, Namespace: ing.Namespace, Port: svc.Port.Number}
			if svc.Port.Name == "" {
				return b, nil
			}
			port, err := servicePort(ctx, r, types.NamespacedName{Namespace: ing.Namespace, Name: svc.Name}, svc.Port.Name)
			b.Port = port
			return b, err
		}
	}
	if host == "" {
		return Backend{}, routeProblem("the Ingress has no rule with a host (spec.rules[].host; wildcard hosts do not count): Authentik needs the host users open")
	}
	return Backend{}, routeProblem(fmt.Sprintf("the Ingress has no Service backend for host %s (spec.rules[].http.paths[].backend.service)", host))
}

// servicePort resolves a Service port given by name to its number.
func servicePort(ctx context.Context, r client.Reader, nn types.NamespacedName, name string) (int32, error) {
	svc := &corev1.Service{}
	if err := r.Get(ctx, nn, svc); err != nil {
		if kerrors.IsNotFound(err) {
			return 0, missingService(fmt.Sprintf("the backend Service %s does not exist, so its port %q has no number yet", nn, name))
		}
		return 0, errors.Wrapf(err, "%s %s", errGetService, nn)
	}
	for _, p := range svc.Spec.Ports {
		if p.Name == name {
			return p.Port, nil
		}
	}
	return 0, routeProblem(fmt.Sprintf("the backend Service %s has no port named %q", nn, name))
}

// httpRouteBackend takes the first hostname that is not a wildcard and the
// first backendRef that is a Service.
func httpRouteBackend(hr *gatewayv1.HTTPRoute) (Backend, error) {
	host := ""
	for _, h := range hr.Spec.Hostnames {
		if !strings.HasPrefix(string(h), "*") {
			host = string(h)
			break
		}
	}
	if host == "" {
		return Backend{}, routeProblem("the HTTPRoute has no hostname (spec.hostnames; wildcard hostnames do not count): Authentik needs the host users open")
	}
	for _, rule := range hr.Spec.Rules {
		for _, ref := range rule.BackendRefs {
			if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Service") {
				continue
			}
			if ref.Port == nil {
				return Backend{}, routeProblem(fmt.Sprintf("the HTTPRoute's backendRef to Service %s has no port", ref.Name))
			}
			ns := hr.Namespace
			if ref.Namespace != nil {
				ns = string(*ref.Namespace)
			}
			return Backend{Host: host, Service: string(ref.Name), Namespace: ns, Port: *ref.Port}, nil
		}
	}
	return Backend{}, routeProblem(fmt.Sprintf("the HTTPRoute has no Service backendRef for host %s (spec.rules[].backendRefs)", host))
}
