package authentik

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	api "goauthentik.io/api/v3"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
)

const (
	errNoURL       = "the Authentik URL is empty"
	errNoToken     = "the Authentik API token is empty" //nolint:gosec // An error message, not a credential.
	errBadCABundle = "the CA bundle holds no PEM certificate"
	errSystemRoots = "cannot load the system certificate pool"

	// APIPath is where Authentik serves its v3 API below the server URL.
	APIPath = "/api/v3"

	defaultTimeout = 30 * time.Second
	userAgent      = "provider-authentik"
)

// Config is what a client needs to reach one Authentik instance.
type Config struct {
	// URL of the Authentik server, without the API path.
	URL string
	// Token is an Authentik API token. It is sent as a bearer token and
	// never logged.
	Token string
	// CABundle holds PEM certificates trusted in addition to the system's.
	CABundle []byte
	// InsecureSkipVerify turns off certificate verification.
	InsecureSkipVerify bool
	// Timeout bounds each request, retries included.
	Timeout time.Duration
	// Kind names the managed resource kind (ProxyProvider, OutpostBinding,
	// ...) the client works for: answers may lack, or hold unknown values
	// in, fields that kind does not manage, except the ones objects are
	// looked up by. "" treats every field any kind manages as needed.
	Kind string
}

// A Client talks to one Authentik instance.
type Client struct {
	// API is the generated Authentik client.
	API *api.APIClient

	baseURL string
	// reads are the shared reads of the connector that built the client;
	// flows its flow cache, shared with the connector's other clients when
	// the connector built it.
	reads *readStore
	flows *flowCache
	// conn built the client, for As.
	conn *Connector
	// tokenSum and kind name the shared lists the client reads (reads.go).
	tokenSum [sha256.Size]byte
	kind     string
	// cfg is what the client was built from, for As.
	cfg Config
}

// New builds a client for the supplied configuration that shares conn's
// shared reads and HTTP transports (clients built for the same TLS
// settings share one transport and so its connection pool) and has a flow
// cache of its own; a nil conn shares nothing. The clients conn builds
// itself share its flow cache too.
func New(cfg Config, conn *Connector) (*Client, error) {
	if conn == nil {
		conn = NewConnector(nil, DefaultReadAge)
	}
	return newClient(cfg, conn, newFlowCache(defaultFlowCacheTTL))
}

func newClient(cfg Config, conn *Connector, flows *flowCache) (*Client, error) {
	if cfg.URL == "" {
		return nil, errors.New(errNoURL)
	}
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New(errNoToken)
	}
	shared, err := conn.transports.get(cfg)
	if err != nil {
		return nil, err
	}
	// The shared client keeps the connection pool; this one only reads
	// answers for what the client's resource needs.
	base := strings.TrimRight(cfg.URL, "/")
	tracked := &writeTracker{next: shared.Transport, server: base, reads: conn.reads}
	hc := &http.Client{Transport: &tolerantTransport{next: tracked, reader: reader{kind: cfg.Kind}}, Timeout: shared.Timeout}
	c := api.NewConfiguration()
	c.Servers = api.ServerConfigurations{{URL: base + APIPath}}
	c.HTTPClient = hc
	c.UserAgent = userAgent
	c.AddDefaultHeader("Authorization", "Bearer "+strings.TrimSpace(cfg.Token))
	token := strings.TrimSpace(cfg.Token)
	return &Client{API: api.NewAPIClient(c), baseURL: base, reads: conn.reads, flows: flows, conn: conn, tokenSum: sha256.Sum256([]byte(token)), kind: cfg.Kind, cfg: cfg}, nil
}

// ForKindOf returns a client for the same Authentik and token that reads answers
// as a client for mg's kind does, and so reads that kind's shared lists: a
// resource that checks objects of another kind reads the list those
// objects' own resources read, with what they wrote in it.
func (c *Client) ForKindOf(mg resource.Managed) (*Client, error) {
	cfg := c.cfg
	cfg.Kind = kindOf(mg)
	return newClient(cfg, c.conn, c.flows)
}

// SameCredentials tells whether two clients use the same token.
func (c *Client) SameCredentials(o *Client) bool { return c.tokenSum == o.tokenSum }

// httpClientKey identifies the TLS and timeout settings of an HTTP client.
type httpClientKey struct {
	caBundle [sha256.Size]byte
	insecure bool
	timeout  time.Duration
}

// httpClientPool hands out one HTTP client per distinct setting, so every
// reconcile reuses open connections instead of dialing anew.
type httpClientPool struct {
	mu      sync.Mutex
	clients map[httpClientKey]*http.Client
}

func newHTTPClientPool() *httpClientPool {
	return &httpClientPool{clients: map[httpClientKey]*http.Client{}}
}

func (p *httpClientPool) get(cfg Config) (*http.Client, error) {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	key := httpClientKey{caBundle: sha256.Sum256(cfg.CABundle), insecure: cfg.InsecureSkipVerify, timeout: timeout}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[key]; ok {
		return c, nil
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // Only when the user asks for it explicitly.
	if len(cfg.CABundle) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			return nil, errors.Wrap(err, errSystemRoots)
		}
		if !pool.AppendCertsFromPEM(cfg.CABundle) {
			return nil, errors.New(errBadCABundle)
		}
		tlsConfig.RootCAs = pool
	}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConfig,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   20,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	c := &http.Client{Transport: newRetryTransport(&metricsTransport{next: transport}, defaultRetry), Timeout: timeout}
	p.clients[key] = c
	return c, nil
}

// BaseURL is the Authentik server's URL, without the API path and without a
// trailing slash: the base of the URLs Authentik serves to users, such as
// an OAuth2 provider's issuer.
func (c *Client) BaseURL() string { return c.baseURL }
