// Package mrtest runs managed resource controllers in tests: the real
// crossplane-runtime managed reconciler, a fake Kubernetes API and the
// Authentik simulator over HTTP.
package mrtest

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clienttesting "k8s.io/client-go/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	resourcefake "github.com/crossplane/crossplane-runtime/v2/pkg/resource/fake"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gitops-lifecycle/provider-authentik/apis"
	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim/simtest"
	"github.com/gitops-lifecycle/provider-authentik/internal/clients/authentik"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrbehavior"
	"github.com/gitops-lifecycle/provider-authentik/internal/controller/mrsetup"
)

// Names of the objects every Env starts with.
const (
	Token         = "test-token"
	Namespace     = "team-a"
	ConfigName    = "default"
	SecretName    = "authentik-token"
	SecretNS      = "crossplane-system" //nolint:gosec // A namespace, not a credential.
	SecretKey     = "token"
	maxIterations = 10
)

// An Env is one simulator, one fake API server and clients for both.
type Env struct {
	T testing.TB
	// Sim is the Authentik simulator the controllers talk to.
	Sim *simtest.Server
	// Kube is the fake Kubernetes API.
	Kube client.Client
	// Authentik is a client for changing Authentik behind the provider's
	// back. Its writes are recorded in the connector's shared reads, as the
	// provider's own are.
	Authentik *authentik.Client
	// Connector builds the controllers' Authentik clients.
	Connector *authentik.Connector

	changes *changeCounter
}

// New starts an Env holding a ClusterProviderConfig named default whose
// token Secret matches the simulator's token, and the supplied objects.
func New(t testing.TB, objs ...client.Object) *Env {
	t.Helper()
	sim := simtest.New(t, Token, simtest.WithAuthentikVersion(ReleaseLine()))
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := apis.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	base := []client.Object{
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: SecretNS, Name: SecretName},
			Data:       map[string][]byte{SecretKey: []byte(Token + "\n")},
		},
		&v1alpha1.ClusterProviderConfig{
			ObjectMeta: metav1.ObjectMeta{Name: ConfigName},
			Spec:       ConfigSpec(sim.URL),
		},
	}
	changes := &changeCounter{counts: map[string]int{}}
	// A plain tracker, not the managed-fields one: the provider never
	// applies server-side, and that tracker builds a REST mapper of the
	// whole scheme on every write (two fifths of a controller test's CPU).
	kube := changes.wrap(fake.NewClientBuilder().
		WithScheme(s).
		WithObjectTracker(clienttesting.NewObjectTracker(s, serializer.NewCodecFactory(s).UniversalDecoder())).
		WithObjects(append(base, objs...)...).
		WithStatusSubresource(statusObjects(s)...).
		Build())
	conn := authentik.NewConnector(kube, authentik.DefaultReadAge)
	ac, err := authentik.New(authentik.Config{URL: sim.URL, Token: Token}, conn)
	if err != nil {
		t.Fatal(err)
	}
	return &Env{T: t, Sim: sim, Kube: kube, Authentik: ac, Connector: conn, changes: changes}
}

// WriteToken stores token in the provider config's Secret, as an
// administrator rotating the API token does.
func (e *Env) WriteToken(token string) {
	e.T.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: SecretNS, Name: SecretName}}
	e.Get(s)
	s.Data = map[string][]byte{SecretKey: []byte(token + "\n")}
	if err := e.Kube.Update(context.Background(), s); err != nil {
		e.T.Fatalf("update the token Secret: %v", err)
	}
}

// AcceptOnlyToken makes the simulator accept token alone, as Authentik does
// once the old token is deleted, and moves the test's own client to it.
func (e *Env) AcceptOnlyToken(token string) {
	e.T.Helper()
	if err := e.Sim.SetToken(token); err != nil {
		e.T.Fatal(err)
	}
	ac, err := authentik.New(authentik.Config{URL: e.Sim.URL, Token: token}, e.Connector)
	if err != nil {
		e.T.Fatal(err)
	}
	e.Authentik = ac
}

// ConfigSpec is a ClusterProviderConfig for the simulator at url, reading
// the token Secret every Env starts with.
func ConfigSpec(url string) v1alpha1.ClusterProviderConfigSpec {
	return v1alpha1.ClusterProviderConfigSpec{
		URL: url,
		Credentials: v1alpha1.ProviderCredentials{
			Source: xpv2.CredentialsSourceSecret,
			CommonCredentialSelectors: xpv2.CommonCredentialSelectors{
				SecretRef: &xpv2.SecretKeySelector{
					SecretReference: xpv2.SecretReference{Namespace: SecretNS, Name: SecretName},
					Key:             SecretKey,
				},
			},
		},
	}
}

// LocalConfigSpec is a ProviderConfig for the simulator at url, reading the
// token from the Secret secretName in the ProviderConfig's own namespace.
func LocalConfigSpec(url, secretName string) v1alpha1.ProviderConfigSpec {
	return v1alpha1.ProviderConfigSpec{
		URL: url,
		Credentials: v1alpha1.LocalCredentials{
			Source:    xpv2.CredentialsSourceSecret,
			SecretRef: v1alpha1.LocalSecretKeySelector{Name: secretName, Key: SecretKey},
		},
	}
}

// statusObjects are this provider's kinds, all of which have a status
// subresource.
func statusObjects(s *runtime.Scheme) []client.Object {
	var objs []client.Object
	for gvk := range s.KnownTypes(v1alpha1.SchemeGroupVersion) {
		o, err := s.New(v1alpha1.SchemeGroupVersion.WithKind(gvk))
		if err != nil {
			continue
		}
		if co, ok := o.(client.Object); ok && !strings.HasSuffix(gvk, "List") && gvk != v1alpha1.ProviderConfigUsageKind {
			objs = append(objs, co)
		}
	}
	return objs
}

// Reconciler builds the managed reconciler for a kind the way the provider
// does, with management policies on, no creation grace period, the
// finalizer recorded with the create and unchanged statuses not written.
func (e *Env) Reconciler(k mrsetup.Kind, opts ...managed.ReconcilerOption) *managed.Reconciler {
	m := &resourcefake.Manager{Client: mrbehavior.SkipsUnchangedStatus(e.Kube), Scheme: e.Kube.Scheme()}
	all := append([]managed.ReconcilerOption{
		managed.WithLogger(logging.NewNopLogger()),
		managed.WithManagementPolicies(),
		managed.WithCreationGracePeriod(0),
		mrbehavior.RecordsFinalizerWithCreate(m.Client),
	}, opts...)
	return managed.NewReconciler(m, resource.ManagedKind(k.GroupVersionKind), all...)
}

// CrashingReconciler builds a reconciler like Reconciler whose API server
// refuses every update that records an external name the stored object
// lacks. A create through it writes to Authentik and then cannot record
// what it made, as if the provider stopped right after the write.
func (e *Env) CrashingReconciler(k mrsetup.Kind, opts ...managed.ReconcilerOption) *managed.Reconciler {
	crashing := interceptor.NewClient(e.Kube.(client.WithWatch), interceptor.Funcs{
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			stored := obj.DeepCopyObject().(client.Object)
			if err := c.Get(ctx, client.ObjectKeyFromObject(obj), stored); err != nil {
				return err
			}
			if en := meta.GetExternalName(obj); en != "" && en != meta.GetExternalName(stored) {
				return errCrashed
			}
			return c.Update(ctx, obj, opts...)
		},
	})
	m := &resourcefake.Manager{Client: mrbehavior.SkipsUnchangedStatus(crashing), Scheme: e.Kube.Scheme()}
	all := append([]managed.ReconcilerOption{
		managed.WithLogger(logging.NewNopLogger()),
		managed.WithManagementPolicies(),
		managed.WithCreationGracePeriod(0),
		mrbehavior.RecordsFinalizerWithCreate(m.Client),
	}, opts...)
	return managed.NewReconciler(m, resource.ManagedKind(k.GroupVersionKind), all...)
}

// errCrashed is what CrashingReconciler's API server answers.
var errCrashed = errors.New("the provider stopped before it recorded the external name")

// Reconcile runs one reconcile of the object named key.
func (e *Env) Reconcile(r reconcile.Reconciler, key types.NamespacedName) (reconcile.Result, error) {
	return r.Reconcile(context.Background(), reconcile.Request{NamespacedName: key})
}

// Settle reconciles the object until a reconcile neither fails nor changes
// the object, and fails the test if that takes too long. The fake API
// server bumps the resource version on every write, even one that changes
// nothing, so the objects are compared without it.
func (e *Env) Settle(r reconcile.Reconciler, obj client.Object) {
	e.T.Helper()
	key := client.ObjectKeyFromObject(obj)
	var prev client.Object
	for range maxIterations {
		if _, err := e.Reconcile(r, key); err != nil {
			e.T.Fatalf("reconcile %s: %v", key, err)
		}
		if err := e.Kube.Get(context.Background(), key, obj); err != nil {
			e.T.Fatalf("get %s: %v", key, err)
		}
		cur := obj.DeepCopyObject().(client.Object)
		cur.SetResourceVersion("")
		if prev != nil && equality.Semantic.DeepEqual(prev, cur) {
			e.NoWriteLoop(r, obj)
			return
		}
		prev = cur
	}
	e.T.Fatalf("%s did not settle in %d reconciles", key, maxIterations)
}

// NoWriteLoop fails the test if a Ready resource writes to Authentik in
// any of steadyPolls further polls. A provider that updates on every poll
// leaves the Kubernetes object unchanged, so Settle alone cannot see such a
// loop; the simulator's write counters can. Settle runs it on every object
// it leaves Ready; objects that are not Ready are left alone, as a failing
// resource may retry its write.
func (e *Env) NoWriteLoop(r reconcile.Reconciler, obj client.Object) {
	e.T.Helper()
	mg, ok := obj.(resource.Managed)
	if !ok || mg.GetCondition(xpv2.TypeReady).Status != corev1.ConditionTrue {
		return
	}
	e.NoWrites(r, obj)
}

// NoWrites fails the test if the resource writes to Authentik in any of
// steadyPolls further polls, Ready or not: for a resource that is not Ready
// by design (an OutpostBinding keeping its provider off the outpost), a
// write on every poll is a loop too.
func (e *Env) NoWrites(r reconcile.Reconciler, obj client.Object) {
	e.T.Helper()
	key := client.ObjectKeyFromObject(obj)
	before := e.Sim.WriteCounts()
	for range steadyPolls {
		if _, err := e.Reconcile(r, key); err != nil {
			e.T.Fatalf("reconcile %s: %v", key, err)
		}
	}
	after := e.Sim.WriteCounts()
	for op, n := range after {
		if n != before[op] {
			e.T.Errorf("%s has settled, yet in %d more polls it called %s %d times (a write loop)", key, steadyPolls, op, n-before[op])
		}
	}
	e.Get(obj)
}

// steadyPolls is how many polls NoWriteLoop runs on a Ready resource.
const steadyPolls = 3

// SettleDeletion reconciles a deleted object until the API server no longer
// has it, and fails the test if that takes too long.
func (e *Env) SettleDeletion(r reconcile.Reconciler, obj client.Object) {
	e.T.Helper()
	key := client.ObjectKeyFromObject(obj)
	for range maxIterations {
		if _, err := e.Reconcile(r, key); err != nil {
			e.T.Fatalf("reconcile %s: %v", key, err)
		}
		if err := e.Kube.Get(context.Background(), key, obj.DeepCopyObject().(client.Object)); kerrors.IsNotFound(err) {
			return
		}
	}
	cur := obj.DeepCopyObject().(client.Object)
	_ = e.Kube.Get(context.Background(), key, cur)
	e.T.Fatalf("%s was not deleted in %d reconciles: %+v", key, maxIterations, cur)
}

// States gathers the metric states of the Env's connector.
func (e *Env) States() prometheus.Gatherer {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e.Connector.States().Collectors()...)
	return reg
}

// BackdateCreate moves the object's create annotations an hour back, as for a
// resource created long ago.
func (e *Env) BackdateCreate(obj client.Object) {
	e.T.Helper()
	if err := e.Kube.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
		e.T.Fatal(err)
	}
	meta.SetExternalCreatePending(obj, time.Now().Add(-2*time.Hour))
	meta.SetExternalCreateSucceeded(obj, time.Now().Add(-time.Hour))
	if err := e.Kube.Update(context.Background(), obj); err != nil {
		e.T.Fatal(err)
	}
}

// Calls runs steps and returns the requests they sent to Authentik, by
// operation.
func (e *Env) Calls(steps func()) map[string]int {
	e.T.Helper()
	e.Sim.ResetCounts()
	steps()
	out := map[string]int{}
	for op, n := range e.Sim.Counts() {
		if n > 0 {
			out[op] = n
		}
	}
	return out
}

// ClientAs returns a client of the test's token that reads answers, and
// the shared lists, as the provider's client for mg's kind does.
func (e *Env) ClientAs(mg resource.Managed) *authentik.Client {
	e.T.Helper()
	c, err := e.Authentik.ForKindOf(mg)
	if err != nil {
		e.T.Fatal(err)
	}
	return c
}

// PassReadAge makes every shared list of Authentik objects older than the
// read age, as a poll after it has passed finds them: the next read of
// each kind lists it anew, and sees changes made outside the provider.
func (e *Env) PassReadAge() { e.Connector.ForgetReads() }

// Get reads obj back from the fake API server.
func (e *Env) Get(obj client.Object) {
	e.T.Helper()
	if err := e.Kube.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
		e.T.Fatalf("get %s: %v", client.ObjectKeyFromObject(obj), err)
	}
}

// Create stores obj in the fake API server.
func (e *Env) Create(obj client.Object) {
	e.T.Helper()
	if err := e.Kube.Create(context.Background(), obj); err != nil {
		e.T.Fatalf("create %s: %v", client.ObjectKeyFromObject(obj), err)
	}
}

// Delete asks the fake API server to delete obj; its finalizer keeps it
// until the controller has deleted the external resource.
func (e *Env) Delete(obj client.Object) {
	e.T.Helper()
	if err := e.Kube.Delete(context.Background(), obj); err != nil {
		e.T.Fatalf("delete %s: %v", client.ObjectKeyFromObject(obj), err)
	}
}

// Condition returns the condition of type ct of a managed resource.
func Condition(mg resource.Managed, ct xpv2.ConditionType) xpv2.Condition {
	return mg.GetCondition(ct)
}

// OptionsOf is a kind's reconciler options in an Env, from the kind's
// ReconcilerOptions.
func OptionsOf(options func(client.Client, *authentik.Connector) []managed.ReconcilerOption) func(e *Env) []managed.ReconcilerOption {
	return func(e *Env) []managed.ReconcilerOption { return options(e.Kube, e.Connector) }
}
