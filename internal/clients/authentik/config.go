package authentik

import (
	"context"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
	"github.com/gitops-lifecycle/provider-authentik/internal/metrics"
)

const (
	errNoProviderConfigRef = "spec.providerConfigRef is not set"
	errGetProviderConfig   = "cannot get ProviderConfig"
	errGetClusterPC        = "cannot get ClusterProviderConfig"
	errUnknownConfigKind   = "spec.providerConfigRef.kind must be ProviderConfig or ClusterProviderConfig"
	errTrackUsage          = "cannot track ProviderConfig usage"
	errExtractToken        = "cannot read the Authentik API token from spec.credentials"
	errGetCABundle         = "cannot read the CA bundle Secret named by spec.tls.caBundleSecretRef"
	errCABundleKey         = "the CA bundle Secret has no such key"
	errNewClient           = "cannot build the Authentik client"
	errUseConfig           = "cannot use %s %s"
	errUnknownConfigType   = "not a ProviderConfig or ClusterProviderConfig"
	errLocalSource         = "spec.credentials.source must be Secret in a ProviderConfig: only a ClusterProviderConfig may read the provider's environment or files"
	errLocalNamespace      = "a ProviderConfig reads Secrets only from its own namespace"
	errUnhealthyConfig     = "%s %s is not ready: %s"
)

// A Connector builds the Authentik client a managed resource should use, and
// owns what those clients share: the flow cache, the shared reads, the HTTP
// transports and the outpost provider lists' editor. The provider builds
// one and gives it to every controller; each test builds its own.
type Connector struct {
	// Kube reads provider configs and their Secrets.
	Kube client.Client
	// Usage records that a resource uses its provider config.
	Usage resource.ModernTracker
	// NewClient builds a client from a resolved configuration; tests
	// replace it to see what is built.
	NewClient func(Config) (*Client, error)

	flows      *flowCache
	reads      *readStore
	transports *httpClientPool
	outposts   *OutpostLists
	states     *metrics.States
}

// NewConnector returns a Connector that tracks usage with the namespaced
// ProviderConfigUsage kind, counted by both config kinds, and whose
// clients read shared lists at most readAge old.
func NewConnector(kube client.Client, readAge time.Duration) *Connector {
	c := &Connector{
		Kube:       kube,
		Usage:      resource.NewProviderConfigUsageTracker(kube, &v1alpha1.ProviderConfigUsage{}),
		flows:      newFlowCache(defaultFlowCacheTTL),
		reads:      newReadStore(readAge),
		transports: newHTTPClientPool(),
		outposts:   NewOutpostLists(SerializePerOutpost),
		states:     metrics.NewStates(),
	}
	c.NewClient = func(cfg Config) (*Client, error) { return newClient(cfg, c, c.flows) }
	return c
}

// States are the metric states of the resources and configs this
// connector serves.
func (c *Connector) States() *metrics.States { return c.states }

// OutpostLists is the editor of outposts' provider lists that every
// controller of the connector uses, so that an Outpost and its
// OutpostBindings never overlap.
func (c *Connector) OutpostLists() *OutpostLists { return c.outposts }

// ClientFor records the resource's use of its provider config, resolves the
// config and builds a client from it.
//
// A resource being deleted records no use: it only needs the config it
// already recorded one for. Deleting a namespace removes its
// ProviderConfigUsages (they have no finalizer) together with the resources,
// and the API server refuses to create anything in a terminating namespace,
// so recording the use again would fail every Connect and keep the
// resource's finalizer, and the namespace, forever (crossplane-runtime
// issues 1010 and 1150).
func (c *Connector) ClientFor(ctx context.Context, mg resource.ModernManaged) (*Client, error) {
	if !meta.WasDeleted(mg) {
		if err := c.Usage.Track(ctx, mg); err != nil {
			return nil, errors.Wrap(err, errTrackUsage)
		}
	}
	pc, err := c.providerConfig(ctx, mg)
	if err != nil {
		return nil, err
	}
	cfg, err := c.ConfigFor(ctx, pc)
	if err != nil {
		return nil, err
	}
	cfg.Kind = kindOf(mg)
	ac, err := c.NewClient(cfg)
	if err != nil {
		return nil, errors.Wrap(err, errNewClient)
	}
	return ac, checkUnhealthy(ctx, pc, ac)
}

// checkUnhealthy fails when the config's status says Authentik is
// unreachable or refuses the token and a fresh check confirms it, naming
// the config, so that every resource using it says which config to look
// at. The fresh check costs one request only while the config looks
// unhealthy, and keeps a status that is a poll interval old from holding
// resources back once Authentik is back.
func checkUnhealthy(ctx context.Context, pc resource.ProviderConfig, ac *Client) error {
	ready := pc.GetCondition(xpv2.TypeReady)
	if ready.Status != corev1.ConditionFalse || (ready.Reason != v1alpha1.ReasonUnreachable && ready.Reason != v1alpha1.ReasonTokenRefused) {
		return nil
	}
	if h := ac.CheckHealth(ctx); !h.Usable() {
		return errors.Errorf(errUnhealthyConfig, ConfigKind(pc), configName(pc), h.Problem())
	}
	return nil
}

// Resolve reads the ProviderConfig (in the resource's namespace) or the
// ClusterProviderConfig the resource refers to, with its token.
func (c *Connector) Resolve(ctx context.Context, mg resource.ModernManaged) (Config, error) {
	pc, err := c.providerConfig(ctx, mg)
	if err != nil {
		return Config{}, err
	}
	return c.ConfigFor(ctx, pc)
}

// providerConfig reads the ProviderConfig (in the resource's namespace) or
// the ClusterProviderConfig the resource refers to.
func (c *Connector) providerConfig(ctx context.Context, mg resource.ModernManaged) (resource.ProviderConfig, error) {
	ref := mg.GetProviderConfigReference()
	if ref == nil {
		return nil, errors.New(errNoProviderConfigRef)
	}
	switch ref.Kind {
	case v1alpha1.ProviderConfigKind:
		pc := &v1alpha1.ProviderConfig{}
		err := c.Kube.Get(ctx, types.NamespacedName{Namespace: mg.GetNamespace(), Name: ref.Name}, pc)
		return pc, errors.Wrapf(err, "%s %s/%s", errGetProviderConfig, mg.GetNamespace(), ref.Name)
	case v1alpha1.ClusterProviderConfigKind:
		pc := &v1alpha1.ClusterProviderConfig{}
		err := c.Kube.Get(ctx, types.NamespacedName{Name: ref.Name}, pc)
		return pc, errors.Wrapf(err, "%s %s", errGetClusterPC, ref.Name)
	}
	return nil, errors.Errorf("%s, not %q", errUnknownConfigKind, ref.Kind)
}

// ConfigFor reads the token and TLS settings of a ProviderConfig or a
// ClusterProviderConfig. Errors name the config and the field at fault.
func (c *Connector) ConfigFor(ctx context.Context, pc resource.ProviderConfig) (Config, error) {
	var spec v1alpha1.ClusterProviderConfigSpec
	var err error
	switch pc := pc.(type) {
	case *v1alpha1.ClusterProviderConfig:
		spec = pc.Spec
	case *v1alpha1.ProviderConfig:
		spec, err = confine(pc)
	default:
		return Config{}, errors.Errorf("%T is %s", pc, errUnknownConfigType)
	}
	cfg := Config{}
	if err == nil {
		cfg, err = c.configFromSpec(ctx, spec)
	}
	return cfg, errors.Wrapf(err, errUseConfig, ConfigKind(pc), configName(pc))
}

// confine turns a ProviderConfig's spec into the form both kinds resolve
// through, with every Secret in the config's own namespace. Anything that
// would read credentials from elsewhere (another namespace, the provider's
// environment or files) is refused before any Secret is read, so a token
// that is not the namespace's own never leaves the provider. The CRD's
// rules refuse the same; this covers objects they never validated.
func confine(pc *v1alpha1.ProviderConfig) (v1alpha1.ClusterProviderConfigSpec, error) {
	ns, in := pc.GetNamespace(), pc.Spec
	// An empty source is the CRD's default, Secret, in an object that
	// bypassed defaulting.
	if src := in.Credentials.Source; src != "" && src != xpv2.CredentialsSourceSecret {
		return v1alpha1.ClusterProviderConfigSpec{}, errors.Errorf("%s, not %q", errLocalSource, src)
	}
	token, err := localSecret(ns, "spec.credentials.secretRef", &in.Credentials.SecretRef)
	if err != nil {
		return v1alpha1.ClusterProviderConfigSpec{}, err
	}
	out := v1alpha1.ClusterProviderConfigSpec{
		URL:            in.URL,
		Credentials:    v1alpha1.ProviderCredentials{Source: xpv2.CredentialsSourceSecret, CommonCredentialSelectors: xpv2.CommonCredentialSelectors{SecretRef: token}},
		RequestTimeout: in.RequestTimeout,
	}
	if in.TLS == nil {
		return out, nil
	}
	out.TLS = &v1alpha1.TLSConfig{InsecureSkipVerify: in.TLS.InsecureSkipVerify}
	if in.TLS.CABundleSecretRef != nil {
		ca, err := localSecret(ns, "spec.tls.caBundleSecretRef", in.TLS.CABundleSecretRef)
		if err != nil {
			return v1alpha1.ClusterProviderConfigSpec{}, err
		}
		out.TLS.CABundleSecretRef = ca
	}
	return out, nil
}

// localSecret places a ProviderConfig's Secret reference in the config's
// namespace. A namespace equal to the config's own is tolerated: objects
// stored before the CRD refused the field may carry one.
func localSecret(ns, field string, ref *v1alpha1.LocalSecretKeySelector) (*xpv2.SecretKeySelector, error) {
	if ref.Namespace != "" && ref.Namespace != ns {
		return nil, errors.Errorf("%s.namespace is %q: %s, %q", field, ref.Namespace, errLocalNamespace, ns)
	}
	return &xpv2.SecretKeySelector{SecretReference: xpv2.SecretReference{Namespace: ns, Name: ref.Name}, Key: ref.Key}, nil
}

// SecretsOf returns the Secrets a provider config reads its token and CA
// bundle from, so a controller can check the config again when one of them
// changes. A ProviderConfig's are always in its own namespace.
func SecretsOf(pc resource.ProviderConfig) []types.NamespacedName {
	var out []types.NamespacedName
	switch pc := pc.(type) {
	case *v1alpha1.ClusterProviderConfig:
		if ref := pc.Spec.Credentials.SecretRef; ref != nil && pc.Spec.Credentials.Source == xpv2.CredentialsSourceSecret {
			out = append(out, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name})
		}
		if pc.Spec.TLS != nil && pc.Spec.TLS.CABundleSecretRef != nil {
			ref := pc.Spec.TLS.CABundleSecretRef
			out = append(out, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name})
		}
	case *v1alpha1.ProviderConfig:
		out = append(out, types.NamespacedName{Namespace: pc.Namespace, Name: pc.Spec.Credentials.SecretRef.Name})
		if pc.Spec.TLS != nil && pc.Spec.TLS.CABundleSecretRef != nil {
			out = append(out, types.NamespacedName{Namespace: pc.Namespace, Name: pc.Spec.TLS.CABundleSecretRef.Name})
		}
	}
	return out
}

// ConfigKind and configName identify a provider config in messages: a
// ClusterProviderConfig by its name, a ProviderConfig by namespace/name.
func ConfigKind(pc resource.ProviderConfig) string {
	if pc.GetNamespace() == "" {
		return v1alpha1.ClusterProviderConfigKind
	}
	return v1alpha1.ProviderConfigKind
}

// configName is the config's name, qualified by its namespace if it has one.
func configName(pc resource.ProviderConfig) string {
	if pc.GetNamespace() == "" {
		return pc.GetName()
	}
	return pc.GetNamespace() + "/" + pc.GetName()
}

func (c *Connector) configFromSpec(ctx context.Context, spec v1alpha1.ClusterProviderConfigSpec) (Config, error) {
	token, err := resource.CommonCredentialExtractor(ctx, spec.Credentials.Source, c.Kube, spec.Credentials.CommonCredentialSelectors)
	if err != nil {
		return Config{}, errors.Wrap(err, errExtractToken)
	}
	cfg := Config{URL: spec.URL, Token: strings.TrimSpace(string(token))}
	if spec.RequestTimeout != nil {
		cfg.Timeout = spec.RequestTimeout.Duration
	}
	if spec.TLS == nil {
		return cfg, nil
	}
	cfg.InsecureSkipVerify = spec.TLS.InsecureSkipVerify != nil && *spec.TLS.InsecureSkipVerify
	if ref := spec.TLS.CABundleSecretRef; ref != nil {
		s := &corev1.Secret{}
		if err := c.Kube.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, s); err != nil {
			return Config{}, errors.Wrap(err, errGetCABundle)
		}
		ca, ok := s.Data[ref.Key]
		if !ok {
			return Config{}, errors.Errorf("%s: %s/%s has no key %q", errCABundleKey, ref.Namespace, ref.Name, ref.Key)
		}
		cfg.CABundle = ca
	}
	return cfg, nil
}
