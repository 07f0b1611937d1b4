package discovery

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/test"
)

const (
	ns       = "media"
	name     = "jellyfin"
	routeUID = types.UID("0b5c6f4e-route")
)

// events records what the reconciler says on routes.
type events struct {
	mu  sync.Mutex
	got []event.Event
}

func (e *events) Event(_ runtime.Object, ev event.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev)
}

func (e *events) WithAnnotations(...string) event.Recorder { return e }

type ingressOption func(*networkingv1.Ingress)

func withAnnotations(kv ...string) ingressOption {
	return func(i *networkingv1.Ingress) {
		i.Annotations = map[string]string{}
		for j := 0; j+1 < len(kv); j += 2 {
			i.Annotations[kv[j]] = kv[j+1]
		}
	}
}

func withRules(rules ...networkingv1.IngressRule) ingressOption {
	return func(i *networkingv1.Ingress) { i.Spec.Rules = rules }
}

func rule(host, svc string, port networkingv1.ServiceBackendPort) networkingv1.IngressRule {
	return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
		Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix), Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: svc, Port: port},
		}}},
	}}}
}

// ingress is an Ingress for host jellyfin.example.com to Service jellyfin
// port 8096, changed by opts.
func ingress(opts ...ingressOption) *networkingv1.Ingress {
	i := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: routeUID},
		Spec:       networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{rule("jellyfin.example.com", "jellyfin", networkingv1.ServiceBackendPort{Number: 8096})}},
	}
	for _, o := range opts {
		o(i)
	}
	return i
}

type pcOption func(*unstructured.Unstructured)

// discoveredFrom makes the ProxyConfig one discovery made from the route
// with this kind and UID.
func discoveredFrom(kind, apiVersion string, uid types.UID) pcOption {
	return func(u *unstructured.Unstructured) {
		u.SetLabels(map[string]string{labelDiscoveredFrom: kind})
		u.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}})
	}
}

func fromIngress() pcOption { return discoveredFrom("Ingress", "networking.k8s.io/v1", routeUID) }

func withSpec(path []string, v any) pcOption {
	return func(u *unstructured.Unstructured) {
		if err := unstructured.SetNestedField(u.Object, v, path...); err != nil {
			panic(err)
		}
	}
}

func withoutSpec(path ...string) pcOption {
	return func(u *unstructured.Unstructured) { unstructured.RemoveNestedField(u.Object, path...) }
}

// proxyConfig is the ProxyConfig for the default ingress, mode proxy, with
// neither label nor owner, changed by opts.
func proxyConfig(opts ...pcOption) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"spec": map[string]any{
			"serviceName":      "jellyfin",
			"serviceNamespace": ns,
			"externalHost":     "https://jellyfin.example.com",
			"internalHost":     "http://jellyfin.media.svc.cluster.local:8096",
			"authentikConfig":  map[string]any{"mode": "proxy"},
		},
	}}
	u.SetGroupVersionKind(proxyConfigGroupVersionKind)
	u.SetNamespace(ns)
	u.SetName(name)
	for _, o := range opts {
		o(u)
	}
	return u
}

func scheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := gatewayv1.Install(s); err != nil {
		t.Fatal(err)
	}
	s.AddKnownTypeWithName(securityPolicyGroupVersionKind.GroupVersion().WithKind("SecurityPolicy"), &unstructured.Unstructured{})
	s.AddKnownTypeWithName(securityPolicyGroupVersionKind, &unstructured.UnstructuredList{})
	return s
}

// getProxyConfig returns the ProxyConfig, or nil. Its resourceVersion
// tells whether it was written: the fake client starts objects it is given
// at 999, and counts from 1 for those created.
func getProxyConfig(t *testing.T, kube client.Client) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(proxyConfigGroupVersionKind)
	err := kube.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, u)
	if kerrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Resource versions the fake client gives.
const (
	rvGiven   = "999"
	rvCreated = "1"
	rvPatched = "1000"
)

func withRV(rv string) pcOption {
	return func(u *unstructured.Unstructured) { u.SetResourceVersion(rv) }
}

// nginxAuthURL is ingress-nginx's auth-url as Authentik documents it.
const nginxAuthURL = "http://ak-outpost-authentik-embedded-outpost.authentik.svc.cluster.local:9000/outpost.goauthentik.io/auth/nginx"

// withNotProtected is the annotation discovery puts on the ProxyConfig of
// a route of kind without forward auth.
func withNotProtected(kind string) pcOption {
	return func(u *unstructured.Unstructured) {
		u.SetAnnotations(map[string]string{annotationNotProtected: notProtected(kind)})
	}
}

// unwired is the Warning on a route of kind without forward auth.
func unwired(kind string) event.Event {
	return event.Warning(reasonNotProtected, errorString(notProtected(kind)))
}

type want struct {
	pc     *unstructured.Unstructured
	events []event.Event
	result reconcile.Result
	err    error
}

func run(t *testing.T, r Route, objs []client.Object, w want) {
	t.Helper()
	kube := fake.NewClientBuilder().WithScheme(scheme(t)).WithObjects(objs...).Build()
	rec := &events{}
	rc := &Reconciler{kube: kube, reader: kube, route: r, record: rec, log: logging.NewNopLogger(), retry: time.Minute}
	got, err := rc.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}})
	if diff := cmp.Diff(w.err, err, test.EquateErrors()); diff != "" {
		t.Errorf("Reconcile(...): -want error, +got error:\n%s", diff)
	}
	if diff := cmp.Diff(w.result, got); diff != "" {
		t.Errorf("Reconcile(...): -want result, +got result:\n%s", diff)
	}
	if diff := cmp.Diff(w.pc, getProxyConfig(t, kube)); diff != "" {
		t.Errorf("ProxyConfig after Reconcile: -want, +got:\n%s", diff)
	}
	if diff := cmp.Diff(w.events, rec.got, test.EquateErrors()); diff != "" {
		t.Errorf("Events on the route: -want, +got:\n%s", diff)
	}
}

func TestReconcileIngress(t *testing.T) {
	t.Parallel()
	handWritten := func(opts ...pcOption) *unstructured.Unstructured {
		return proxyConfig(append([]pcOption{withSpec([]string{"spec", "externalHost"}, "https://by-hand.example.com")}, opts...)...)
	}
	cases := map[string]struct {
		reason string
		objs   []client.Object
		want   want
	}{
		"AnnotatedIngressMakesProxyConfig": {
			reason: "An annotated Ingress gets a ProxyConfig with its host, its Service's address, mode and groups from the annotations, labelled and owned by the Ingress.",
			objs:   []client.Object{ingress(withAnnotations(annotationProxy, "true", annotationMode, "forward_single", annotationAllowedGroups, " admins, media-users ,,admins"))},
			want: want{
				pc: proxyConfig(withNotProtected("Ingress"), fromIngress(), withRV(rvCreated),
					withSpec([]string{"spec", "authentikConfig"}, map[string]any{"mode": "forward_single", "allowedGroups": []any{"admins", "media-users"}})),
				events: []event.Event{event.Normal(reasonCreated, "Created ProxyConfig jellyfin: https://jellyfin.example.com -> http://jellyfin.media.svc.cluster.local:8096"), unwired("Ingress")},
			},
		},
		"NamedPortIsResolvedThroughTheService": {
			reason: "A backend port given by name is looked up in the Service.",
			objs: []client.Object{
				ingress(withAnnotations(annotationProxy, "true"), withRules(rule("jellyfin.example.com", "jellyfin", networkingv1.ServiceBackendPort{Name: "http"}))),
				&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "jellyfin"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "metrics", Port: 9090}, {Name: "http", Port: 8096}}}},
			},
			want: want{
				pc:     proxyConfig(withNotProtected("Ingress"), fromIngress(), withRV(rvCreated)),
				events: []event.Event{event.Normal(reasonCreated, "Created ProxyConfig jellyfin: https://jellyfin.example.com -> http://jellyfin.media.svc.cluster.local:8096"), unwired("Ingress")},
			},
		},
		"NamedPortOfMissingServiceIsRetried": {
			reason: "A port named on a Service that does not exist yet is reported and looked up again later.",
			objs:   []client.Object{ingress(withAnnotations(annotationProxy, "true"), withRules(rule("jellyfin.example.com", "jellyfin", networkingv1.ServiceBackendPort{Name: "http"})))},
			want: want{
				events: []event.Event{event.Warning(reasonNoServer, missingService(`the backend Service media/jellyfin does not exist, so its port "http" has no number yet`))},
				result: reconcile.Result{RequeueAfter: time.Minute},
			},
		},
		"NoAnnotationMakesNothing": {
			reason: "An Ingress without the annotation gets no ProxyConfig and no Event.",
			objs:   []client.Object{ingress()},
			want:   want{},
		},
		"AnnotationFalseMakesNothing": {
			reason: "Only \"true\" asks for a ProxyConfig.",
			objs:   []client.Object{ingress(withAnnotations(annotationProxy, "false"))},
			want:   want{},
		},
		"AnnotationRemovedDeletesProxyConfig": {
			reason: "When the annotation goes, the ProxyConfig made from the Ingress goes too.",
			objs:   []client.Object{ingress(), proxyConfig(fromIngress())},
			want: want{
				events: []event.Event{event.Normal(reasonDeleted, `Deleted ProxyConfig jellyfin: the Ingress no longer has authentik.m.crossplane.io/proxy: "true"`)},
			},
		},
		"UnannotatedIngressLeavesHandWrittenProxyConfig": {
			reason: "A ProxyConfig of the same name that discovery did not make is not deleted.",
			objs:   []client.Object{ingress(), handWritten()},
			want:   want{pc: handWritten(withRV(rvGiven))},
		},
		"AnnotatedIngressLeavesHandWrittenProxyConfig": {
			reason: "A ProxyConfig of the same name that discovery did not make is never changed; the Ingress gets an Event saying so.",
			objs:   []client.Object{ingress(withAnnotations(annotationProxy, "true")), handWritten()},
			want: want{
				pc:     handWritten(withRV(rvGiven)),
				events: []event.Event{event.Warning(reasonNotOurs, errorString("ProxyConfig jellyfin already exists and was not made from this Ingress; discovery leaves it alone"))},
			},
		},
		"LabelledButOwnedByAnotherObjectIsLeftAlone": {
			reason: "The label alone does not make a ProxyConfig discovery's: it must be controlled by this very Ingress (here an earlier Ingress of the same name).",
			objs: []client.Object{
				ingress(withAnnotations(annotationProxy, "true")),
				proxyConfig(discoveredFrom("Ingress", "networking.k8s.io/v1", "an-earlier-ingress")),
			},
			want: want{
				pc:     proxyConfig(discoveredFrom("Ingress", "networking.k8s.io/v1", "an-earlier-ingress"), withRV(rvGiven)),
				events: []event.Event{event.Warning(reasonNotOurs, errorString("ProxyConfig jellyfin already exists and was not made from this Ingress; discovery leaves it alone"))},
			},
		},
		"OwnedButUnlabelledIsLeftAlone": {
			reason: "A ProxyConfig the user made and pointed at the Ingress, without the label, is not discovery's.",
			objs: []client.Object{
				ingress(),
				proxyConfig(fromIngress(), func(u *unstructured.Unstructured) { u.SetLabels(nil) }),
			},
			want: want{pc: proxyConfig(fromIngress(), func(u *unstructured.Unstructured) { u.SetLabels(nil) }, withRV(rvGiven))},
		},
		"NoHostIsReported": {
			reason: "An annotated Ingress without a host gets an Event naming the problem, and no ProxyConfig.",
			objs:   []client.Object{ingress(withAnnotations(annotationProxy, "true"), withRules(rule("", "jellyfin", networkingv1.ServiceBackendPort{Number: 8096})))},
			want: want{
				events: []event.Event{event.Warning(reasonCannot, routeProblem("the Ingress has no rule with a host (spec.rules[].host; wildcard hosts do not count): Authentik needs the host users open"))},
			},
		},
		"WildcardHostOnlyIsReported": {
			reason: "A wildcard host names no one service.",
			objs:   []client.Object{ingress(withAnnotations(annotationProxy, "true"), withRules(rule("*.example.com", "jellyfin", networkingv1.ServiceBackendPort{Number: 8096})))},
			want: want{
				events: []event.Event{event.Warning(reasonCannot, routeProblem("the Ingress has no rule with a host (spec.rules[].host; wildcard hosts do not count): Authentik needs the host users open"))},
			},
		},
		"FirstHostWithAServiceBackendIsUsed": {
			reason: "Wildcard hosts and rules without a Service backend are skipped; the first rule with both makes the ProxyConfig.",
			objs: []client.Object{ingress(withAnnotations(annotationProxy, "true"), withRules(
				rule("*.example.com", "catch-all", networkingv1.ServiceBackendPort{Number: 80}),
				networkingv1.IngressRule{Host: "static.example.com"},
				rule("jellyfin.example.com", "jellyfin", networkingv1.ServiceBackendPort{Number: 8096}),
				rule("tv.example.com", "tv", networkingv1.ServiceBackendPort{Number: 80}),
			))},
			want: want{
				pc:     proxyConfig(withNotProtected("Ingress"), fromIngress(), withRV(rvCreated)),
				events: []event.Event{event.Normal(reasonCreated, "Created ProxyConfig jellyfin: https://jellyfin.example.com -> http://jellyfin.media.svc.cluster.local:8096"), unwired("Ingress")},
			},
		},
		"HostWithoutServiceBackendIsReported": {
			reason: "A host with no Service behind it gives no internal host.",
			objs:   []client.Object{ingress(withAnnotations(annotationProxy, "true"), withRules(networkingv1.IngressRule{Host: "static.example.com"}))},
			want: want{
				events: []event.Event{event.Warning(reasonCannot, routeProblem("the Ingress has no Service backend for host static.example.com (spec.rules[].http.paths[].backend.service)"))},
			},
		},
		"UnknownServicePortNameIsReported": {
			reason: "A port name the Service does not have is reported.",
			objs: []client.Object{
				ingress(withAnnotations(annotationProxy, "true"), withRules(rule("jellyfin.example.com", "jellyfin", networkingv1.ServiceBackendPort{Name: "web"}))),
				&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "jellyfin"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 8096}}}},
			},
			want: want{
				events: []event.Event{event.Warning(reasonCannot, routeProblem(`the backend Service media/jellyfin has no port named "web"`))},
			},
		},
		"UnknownModeIsReported": {
			reason: "A mode the ProxyConfig does not know is reported, not written.",
			objs:   []client.Object{ingress(withAnnotations(annotationProxy, "true", annotationMode, "forward"))},
			want: want{
				events: []event.Event{event.Warning(reasonCannot, routeProblem(`annotation authentik.m.crossplane.io/mode is "forward"; it must be one of proxy, forward_single, forward_domain`))},
			},
		},
		"ChangedIngressUpdatesOnlyDiscoveredFields": {
			reason: "A changed host, mode and groups reach the ProxyConfig; fields the user or Crossplane added stay, and groups no longer annotated go.",
			objs: []client.Object{
				ingress(withAnnotations(annotationProxy, "true", annotationMode, "forward_single"), withRules(rule("tv.example.com", "jellyfin", networkingv1.ServiceBackendPort{Number: 8096}))),
				proxyConfig(fromIngress(),
					withSpec([]string{"spec", "authentikConfig", "allowedGroups"}, []any{"admins"}),
					withSpec([]string{"spec", "authentikConfig", "skipPathRegex"}, "^/health$"),
					withSpec([]string{"spec", "crossplane", "compositionRef", "name"}, "proxyconfigs.gitops.io")),
			},
			want: want{
				pc: proxyConfig(withNotProtected("Ingress"), fromIngress(), withRV(rvPatched),
					withSpec([]string{"spec", "externalHost"}, "https://tv.example.com"),
					withSpec([]string{"spec", "authentikConfig", "mode"}, "forward_single"),
					withSpec([]string{"spec", "authentikConfig", "skipPathRegex"}, "^/health$"),
					withSpec([]string{"spec", "crossplane", "compositionRef", "name"}, "proxyconfigs.gitops.io"),
					withoutSpec("spec", "authentikConfig", "allowedGroups")),
				events: []event.Event{event.Normal(reasonUpdated, "Updated ProxyConfig jellyfin: https://tv.example.com -> http://jellyfin.media.svc.cluster.local:8096"), unwired("Ingress")},
			},
		},
		"UnchangedIngressWritesNothing": {
			reason: "A ProxyConfig that already is what the Ingress asks for is left as it is, without an Event.",
			objs:   []client.Object{ingress(withAnnotations(annotationProxy, "true", annotationNginxAuthURL, nginxAuthURL)), proxyConfig(fromIngress())},
			want:   want{pc: proxyConfig(fromIngress(), withRV(rvGiven))},
		},
		"UnchangedUnwiredIngressWarns": {
			reason: "An Ingress without forward auth is told so even when its ProxyConfig needs no change.",
			objs:   []client.Object{ingress(withAnnotations(annotationProxy, "true")), proxyConfig(withNotProtected("Ingress"), fromIngress())},
			want:   want{pc: proxyConfig(withNotProtected("Ingress"), fromIngress(), withRV(rvGiven)), events: []event.Event{unwired("Ingress")}},
		},
		"WiredIngressClearsTheFinding": {
			reason: "Once the Ingress asks the outpost, the ProxyConfig no longer says it does not.",
			objs:   []client.Object{ingress(withAnnotations(annotationProxy, "true", annotationNginxAuthURL, nginxAuthURL)), proxyConfig(withNotProtected("Ingress"), fromIngress())},
			want: want{
				pc:     proxyConfig(fromIngress(), withRV(rvPatched)),
				events: []event.Event{event.Normal(reasonUpdated, "Updated ProxyConfig jellyfin: https://jellyfin.example.com -> http://jellyfin.media.svc.cluster.local:8096")},
			},
		},
		"NginxAuthURLToTheOutpost": {
			reason: "ingress-nginx's auth-url pointing at the outpost is forward auth: no warning.",
			objs:   []client.Object{ingress(withAnnotations(annotationProxy, "true", annotationNginxAuthURL, nginxAuthURL))},
			want: want{
				pc:     proxyConfig(fromIngress(), withRV(rvCreated)),
				events: []event.Event{event.Normal(reasonCreated, "Created ProxyConfig jellyfin: https://jellyfin.example.com -> http://jellyfin.media.svc.cluster.local:8096")},
			},
		},
		"NginxAuthURLElsewhere": {
			reason: "An auth-url that does not point at an outpost asks something else, not Authentik: NotProtected.",
			objs:   []client.Object{ingress(withAnnotations(annotationProxy, "true", annotationNginxAuthURL, "http://oauth2-proxy.auth.svc/oauth2/auth"))},
			want: want{
				pc:     proxyConfig(withNotProtected("Ingress"), fromIngress(), withRV(rvCreated)),
				events: []event.Event{event.Normal(reasonCreated, "Created ProxyConfig jellyfin: https://jellyfin.example.com -> http://jellyfin.media.svc.cluster.local:8096"), unwired("Ingress")},
			},
		},
		"TraefikMiddleware": {
			reason: "A Traefik router middleware (the ForwardAuth one) is forward auth: no warning.",
			objs:   []client.Object{ingress(withAnnotations(annotationProxy, "true", annotationTraefikMiddlewares, "authentik-authentik@kubernetescrd"))},
			want: want{
				pc:     proxyConfig(fromIngress(), withRV(rvCreated)),
				events: []event.Event{event.Normal(reasonCreated, "Created ProxyConfig jellyfin: https://jellyfin.example.com -> http://jellyfin.media.svc.cluster.local:8096")},
			},
		},
		"DeletedIngressDoesNothing": {
			reason: "A deleted Ingress's ProxyConfig is left to the garbage collector, which follows the owner reference.",
			objs:   []client.Object{proxyConfig(fromIngress())},
			want:   want{pc: proxyConfig(fromIngress(), withRV(rvGiven))},
		},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			t.Log(tc.reason)
			run(t, Ingress, tc.objs, tc.want)
		})
	}
}

// httpRoute is an HTTPRoute for jellyfin.example.com to Service jellyfin
// port 8096, changed by opts.
func httpRoute(annotations map[string]string, opts ...func(*gatewayv1.HTTPRoute)) *gatewayv1.HTTPRoute {
	r := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: routeUID, Annotations: annotations},
		Spec: gatewayv1.HTTPRouteSpec{
			Hostnames: []gatewayv1.Hostname{"jellyfin.example.com"},
			Rules: []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{
				Name: "jellyfin", Port: ptr.To(gatewayv1.PortNumber(8096)),
			}}}}}},
		},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// securityPolicy is an Envoy Gateway SecurityPolicy in the routes'
// namespace targeting the HTTPRoute route, with extAuth or without.
func securityPolicy(policy, route string, extAuth bool) *unstructured.Unstructured {
	spec := map[string]any{"targetRefs": []any{map[string]any{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": route}}}
	if extAuth {
		spec["extAuth"] = map[string]any{"http": map[string]any{"backendRefs": []any{map[string]any{"name": "ak-outpost-authentik-embedded-outpost", "port": int64(9000)}}, "path": "/outpost.goauthentik.io/auth/envoy"}}
	} else {
		spec["cors"] = map[string]any{"allowOrigins": []any{"https://example.com"}}
	}
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetGroupVersionKind(securityPolicyGroupVersionKind.GroupVersion().WithKind("SecurityPolicy"))
	u.SetNamespace(ns)
	u.SetName(policy)
	return u
}

func TestReconcileHTTPRoute(t *testing.T) {
	t.Parallel()
	fromRoute := discoveredFrom("HTTPRoute", "gateway.networking.k8s.io/v1", routeUID)
	asked := map[string]string{annotationProxy: "true"}
	cases := map[string]struct {
		reason string
		objs   []client.Object
		want   want
	}{
		"AnnotatedHTTPRouteMakesProxyConfig": {
			reason: "An annotated HTTPRoute gets a ProxyConfig with its hostname and backend Service, owned by the HTTPRoute.",
			objs:   []client.Object{httpRoute(asked)},
			want: want{
				pc:     proxyConfig(withNotProtected("HTTPRoute"), fromRoute, withRV(rvCreated)),
				events: []event.Event{event.Normal(reasonCreated, "Created ProxyConfig jellyfin: https://jellyfin.example.com -> http://jellyfin.media.svc.cluster.local:8096"), unwired("HTTPRoute")},
			},
		},
		"ExtensionRefFilter": {
			reason: "An ExtensionRef filter (a Traefik ForwardAuth Middleware, for one) is forward auth: no warning.",
			objs: []client.Object{httpRoute(asked, func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].Filters = []gatewayv1.HTTPRouteFilter{{Type: gatewayv1.HTTPRouteFilterExtensionRef, ExtensionRef: &gatewayv1.LocalObjectReference{Group: "traefik.io", Kind: "Middleware", Name: "authentik"}}}
			})},
			want: want{
				pc:     proxyConfig(fromRoute, withRV(rvCreated)),
				events: []event.Event{event.Normal(reasonCreated, "Created ProxyConfig jellyfin: https://jellyfin.example.com -> http://jellyfin.media.svc.cluster.local:8096")},
			},
		},
		"EnvoyGatewayExtAuth": {
			reason: "An Envoy Gateway SecurityPolicy with extAuth targeting the route is forward auth: no warning.",
			objs:   []client.Object{httpRoute(asked), securityPolicy("authentik", name, true)},
			want: want{
				pc:     proxyConfig(fromRoute, withRV(rvCreated)),
				events: []event.Event{event.Normal(reasonCreated, "Created ProxyConfig jellyfin: https://jellyfin.example.com -> http://jellyfin.media.svc.cluster.local:8096")},
			},
		},
		"EnvoyGatewayPolicyElsewhere": {
			reason: "A SecurityPolicy targeting another route, or without extAuth, does not protect this one: NotProtected.",
			objs:   []client.Object{httpRoute(asked), securityPolicy("other", "other-route", true), securityPolicy("cors-only", name, false)},
			want: want{
				pc:     proxyConfig(withNotProtected("HTTPRoute"), fromRoute, withRV(rvCreated)),
				events: []event.Event{event.Normal(reasonCreated, "Created ProxyConfig jellyfin: https://jellyfin.example.com -> http://jellyfin.media.svc.cluster.local:8096"), unwired("HTTPRoute")},
			},
		},
		"BackendInAnotherNamespace": {
			reason: "A backendRef's namespace is the Service's namespace; the ProxyConfig stays in the route's.",
			objs: []client.Object{httpRoute(asked, func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].BackendRefs[0].Namespace = ptr.To(gatewayv1.Namespace("streaming"))
			})},
			want: want{
				pc: proxyConfig(withNotProtected("HTTPRoute"), fromRoute, withRV(rvCreated),
					withSpec([]string{"spec", "serviceNamespace"}, "streaming"),
					withSpec([]string{"spec", "internalHost"}, "http://jellyfin.streaming.svc.cluster.local:8096")),
				events: []event.Event{event.Normal(reasonCreated, "Created ProxyConfig jellyfin: https://jellyfin.example.com -> http://jellyfin.streaming.svc.cluster.local:8096"), unwired("HTTPRoute")},
			},
		},
		"NoHostnameIsReported": {
			reason: "An annotated HTTPRoute without hostnames gets an Event naming the problem.",
			objs:   []client.Object{httpRoute(asked, func(r *gatewayv1.HTTPRoute) { r.Spec.Hostnames = nil })},
			want: want{
				events: []event.Event{event.Warning(reasonCannot, routeProblem("the HTTPRoute has no hostname (spec.hostnames; wildcard hostnames do not count): Authentik needs the host users open"))},
			},
		},
		"NoServiceBackendIsReported": {
			reason: "A backendRef to something other than a Service gives no internal host.",
			objs: []client.Object{httpRoute(asked, func(r *gatewayv1.HTTPRoute) {
				r.Spec.Rules[0].BackendRefs[0].Group = ptr.To(gatewayv1.Group("example.io"))
				r.Spec.Rules[0].BackendRefs[0].Kind = ptr.To(gatewayv1.Kind("Bucket"))
			})},
			want: want{
				events: []event.Event{event.Warning(reasonCannot, routeProblem("the HTTPRoute has no Service backendRef for host jellyfin.example.com (spec.rules[].backendRefs)"))},
			},
		},
		"ProxyConfigOfAnIngressIsLeftAlone": {
			reason: "An HTTPRoute does not take over the ProxyConfig made from an Ingress of the same name.",
			objs:   []client.Object{httpRoute(asked), proxyConfig(fromIngress())},
			want: want{
				pc:     proxyConfig(fromIngress(), withRV(rvGiven)),
				events: []event.Event{event.Warning(reasonNotOurs, errorString("ProxyConfig jellyfin already exists and was not made from this HTTPRoute; discovery leaves it alone"))},
			},
		},
		"AnnotationRemovedDeletesProxyConfig": {
			reason: "When the annotation goes, the ProxyConfig made from the HTTPRoute goes too.",
			objs:   []client.Object{httpRoute(nil), proxyConfig(fromRoute)},
			want: want{
				events: []event.Event{event.Normal(reasonDeleted, `Deleted ProxyConfig jellyfin: the HTTPRoute no longer has authentik.m.crossplane.io/proxy: "true"`)},
			},
		},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			t.Log(tc.reason)
			run(t, HTTPRoute, tc.objs, tc.want)
		})
	}
}

// errorString is an error with a message, to compare Warning events with.
type errorString string

func (e errorString) Error() string { return string(e) }
