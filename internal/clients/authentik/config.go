package authentik

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/gitops-lifecycle/provider-authentik/apis/v1alpha1"
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
)

// A Connector builds the Authentik client a managed resource should use.
type Connector struct {
	// Kube reads provider configs and their Secrets.
	Kube client.Client
	// Usage records that a resource uses its provider config.
	Usage resource.ModernTracker
	// NewClient builds a client from a resolved configuration; tests
	// replace it to point at a simulator.
	NewClient func(Config) (*Client, error)
}

// NewConnector returns a Connector that tracks usage with the namespaced
// ProviderConfigUsage kind, counted by both config kinds.
func NewConnector(kube client.Client) *Connector {
	flows := NewFlowCache(DefaultFlowCacheTTL)
	return &Connector{
		Kube:      kube,
		Usage:     resource.NewProviderConfigUsageTracker(kube, &v1alpha1.ProviderConfigUsage{}),
		NewClient: func(cfg Config) (*Client, error) { return New(cfg, flows) },
	}
}

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
	cfg, err := c.Resolve(ctx, mg)
	if err != nil {
		return nil, err
	}
	ac, err := c.NewClient(cfg)
	return ac, errors.Wrap(err, errNewClient)
}

// Resolve reads the ProviderConfig (in the resource's namespace) or the
// ClusterProviderConfig the resource refers to, with its token.
func (c *Connector) Resolve(ctx context.Context, mg resource.ModernManaged) (Config, error) {
	ref := mg.GetProviderConfigReference()
	if ref == nil {
		return Config{}, errors.New(errNoProviderConfigRef)
	}
	var spec v1alpha1.ProviderConfigSpec
	switch ref.Kind {
	case v1alpha1.ProviderConfigKind:
		pc := &v1alpha1.ProviderConfig{}
		if err := c.Kube.Get(ctx, types.NamespacedName{Namespace: mg.GetNamespace(), Name: ref.Name}, pc); err != nil {
			return Config{}, errors.Wrapf(err, "%s %s/%s", errGetProviderConfig, mg.GetNamespace(), ref.Name)
		}
		spec = pc.Spec
	case v1alpha1.ClusterProviderConfigKind:
		pc := &v1alpha1.ClusterProviderConfig{}
		if err := c.Kube.Get(ctx, types.NamespacedName{Name: ref.Name}, pc); err != nil {
			return Config{}, errors.Wrapf(err, "%s %s", errGetClusterPC, ref.Name)
		}
		spec = pc.Spec
	default:
		return Config{}, errors.Errorf("%s, not %q", errUnknownConfigKind, ref.Kind)
	}
	return c.configFromSpec(ctx, spec)
}

func (c *Connector) configFromSpec(ctx context.Context, spec v1alpha1.ProviderConfigSpec) (Config, error) {
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
