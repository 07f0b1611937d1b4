//go:build render && linux

package composition

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// renderFunctions are the functions the Composition's pipeline calls.
var renderFunctions = []string{"function-go-templating", "function-auto-ready"}

// env is what TestMain prepared for the render and validate tests.
var env struct {
	root      string // repository root
	bin       string // _output/bin, or $TOOLS_BIN
	functions string // Function objects pointing crank render at the running functions
	cache     string // crank beta validate's cache, seeded with Crossplane's CRDs
	image     string // --crossplane-image naming that seeded cache entry
	schemas   string // every schema validate needs: provider CRDs, the XRD, function inputs
}

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

// runMain starts the functions crank render calls (--insecure, on free
// loopback ports), prepares validate's schemas and cache, runs the tests and
// stops the functions again.
func runMain(m *testing.M) int {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env.root = root
	env.bin = os.Getenv("TOOLS_BIN")
	if env.bin == "" {
		env.bin = filepath.Join(root, "_output", "bin")
	}
	work := filepath.Join(root, "cluster", ".work")
	var missing []string
	for _, b := range append([]string{"crank"}, renderFunctions...) {
		if _, err := os.Stat(filepath.Join(env.bin, b)); err != nil {
			missing = append(missing, filepath.Join(env.bin, b))
		}
	}
	for _, d := range []string{"crossplane-crds/VERSION", "pkg/function-go-templating/input", "pkg/function-auto-ready/input"} {
		if _, err := os.Stat(filepath.Join(work, d)); err != nil {
			missing = append(missing, filepath.Join(work, d))
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the render tests need %s: run `make tools` (cluster/build-tools.sh all) first\n", strings.Join(missing, ", "))
		return 1
	}

	dir, err := os.MkdirTemp("", "composition-render-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)

	stop, err := startFunctions(dir)
	defer stop()
	if err == nil {
		err = prepareValidate(dir, work)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	return m.Run()
}

// startFunctions runs each function with --insecure on a free port and
// writes the Function objects crank render needs to reach them, named as
// Crossplane names them when it installs them as the Configuration's
// dependencies.
func startFunctions(dir string) (func(), error) {
	var cmds []*exec.Cmd
	stop := func() {
		for _, c := range cmds {
			_ = c.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = c.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				_ = c.Process.Kill()
			}
		}
	}
	var fns bytes.Buffer
	for _, fn := range renderFunctions {
		port, err := freePort()
		if err != nil {
			return stop, err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		logf, err := os.Create(filepath.Join(dir, fn+".log"))
		if err != nil {
			return stop, err
		}
		c := exec.Command(filepath.Join(env.bin, fn), "--insecure", "--address="+addr)
		c.Stdout, c.Stderr = logf, logf
		// Killed with the test binary, also when a test times out.
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			return stop, fmt.Errorf("cannot start %s: %w", fn, err)
		}
		cmds = append(cmds, c)
		if err := waitForPort(addr, 30*time.Second); err != nil {
			out, _ := os.ReadFile(logf.Name())
			return stop, fmt.Errorf("%s did not listen on %s: %w; its log:\n%s", fn, addr, err, out)
		}
		fmt.Fprintf(&fns, `---
apiVersion: pkg.crossplane.io/v1
kind: Function
metadata:
  name: crossplane-contrib-%s
  annotations:
    render.crossplane.io/runtime: Development
    render.crossplane.io/runtime-development-target: %s
spec:
  package: xpkg.crossplane.io/crossplane-contrib/%s
`, fn, addr, fn)
	}
	env.functions = filepath.Join(dir, "functions.yaml")
	return stop, os.WriteFile(env.functions, fns.Bytes(), 0o600)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitForPort(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// prepareValidate collects the schemas and seeds validate's cache with
// Crossplane's own CRDs, so that validate never pulls an image (the recipe
// of seed_validate_cache in cluster/local/lib.sh).
func prepareValidate(dir, work string) error {
	v, err := os.ReadFile(filepath.Join(work, "crossplane-crds", "VERSION"))
	if err != nil {
		return err
	}
	version := strings.TrimSpace(string(v))
	env.cache = filepath.Join(dir, "validate-cache")
	env.image = "local/crossplane-crds:" + version
	var crds bytes.Buffer
	files, _ := filepath.Glob(filepath.Join(work, "crossplane-crds", "*.yaml"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		crds.Write(b)
		crds.WriteString("\n---\n")
	}
	entry := filepath.Join(env.cache, "local", "crossplane-crds@"+version)
	if err := os.MkdirAll(entry, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(entry, "package.yaml"), crds.Bytes(), 0o600); err != nil {
		return err
	}

	env.schemas = filepath.Join(dir, "schemas")
	if err := os.MkdirAll(env.schemas, 0o755); err != nil {
		return err
	}
	sources, _ := filepath.Glob(filepath.Join(env.root, "package", "provider", "crds", "*.yaml"))
	sources = append(sources, filepath.Join(env.root, xrdFile), filepath.Join(env.root, oidcXRDFile))
	for _, fn := range renderFunctions {
		in, _ := filepath.Glob(filepath.Join(work, "pkg", fn, "input", "*.yaml"))
		sources = append(sources, in...)
	}
	for _, s := range sources {
		b, err := os.ReadFile(s)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(env.schemas, filepath.Base(s)), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// crank runs the Crossplane CLI and returns its stdout; the error carries
// stderr.
func crank(args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	c := exec.Command(filepath.Join(env.bin, "crank"), args...)
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return stdout.String(), fmt.Errorf("crank %s: %w: %s", strings.Join(args[:2], " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// The ProxyConfigs rendered as they are: the seed's two and the example
// with every optional field.
var (
	longhornXR  = filepath.Join(examplesDir, "longhorn-proxy.yaml")
	myServiceXR = filepath.Join(examplesDir, "my-service-proxy.yaml")
	grafanaXR   = filepath.Join(examplesDir, "grafana-proxy.yaml")
	longhornObs = filepath.Join(testdataDir, "observed-longhorn-proxy.yaml")
)

// input returns the path of a file in the repository, or writes inline
// YAML to a file and returns its path.
func input(t *testing.T, s string) string {
	t.Helper()
	if !strings.Contains(s, "\n") {
		return filepath.Join(env.root, s)
	}
	p := filepath.Join(t.TempDir(), "input.yaml")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// renderXR runs crank render of a ProxyConfig through its Composition, with
// the XRD's defaults applied and the given observed composed resources.
func renderXR(t *testing.T, xr, observed string) (string, error) {
	t.Helper()
	return renderWith(t, xrdFile, compositionFile, xr, observed)
}

// renderWith runs crank render of the XR through the given XRD and
// Composition of package/configuration.
func renderWith(t *testing.T, xrd, composition, xr, observed string) (string, error) {
	t.Helper()
	args := []string{"render", "--include-full-xr", "--xrd=" + filepath.Join(env.root, xrd)}
	if observed != "" {
		args = append(args, "--observed-resources="+input(t, observed))
	}
	args = append(args, input(t, xr), filepath.Join(env.root, composition), env.functions)
	return crank(args...)
}

// A composed resource, as far as the tests look at it.
type composed struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Resource is the crossplane.io/composition-resource-name annotation.
	Resource string `json:"resource"`
	// Labels are the composition's own labels (gitops.io/...).
	Labels map[string]string `json:"labels,omitempty"`
	Spec   map[string]any    `json:"spec"`
}

// xrAPIVersion is the API version of this Configuration's XRs.
const xrAPIVersion = "gitops.io/v1"

// rendered is what a render produced: the XR's status and Ready condition
// and the composed resources, sorted by kind and name.
type rendered struct {
	Status   map[string]any `json:"status,omitempty"`
	Ready    string         `json:"ready"`
	Why      string         `json:"why,omitempty"` // the Ready condition's message
	Composed []composed     `json:"composed"`
}

func summarize(t *testing.T, out string) rendered {
	t.Helper()
	objs, err := decodeAll([]byte(out))
	if err != nil {
		t.Fatalf("cannot parse crank render's output: %v\n%s", err, out)
	}
	var r rendered
	for _, o := range objs {
		kind := str(o, "kind")
		if str(o, "apiVersion") == xrAPIVersion {
			r.Status = map[string]any{}
			for k, v := range get(o, "status").(map[string]any) {
				if k != "conditions" {
					r.Status[k] = v
				}
			}
			conds, _ := get(o, "status", "conditions").([]any)
			for _, c := range conds {
				if str(c, "type") == "Ready" {
					r.Ready, r.Why = str(c, "status"), str(c, "message")
				}
			}
			continue
		}
		c := composed{
			Kind:      kind,
			Namespace: str(o, "metadata", "namespace"),
			Name:      str(o, "metadata", "name"),
			Resource:  str(o, "metadata", "annotations", "crossplane.io/composition-resource-name"),
			Spec:      get(o, "spec").(map[string]any),
		}
		labels, _ := get(o, "metadata", "labels").(map[string]any)
		for k, v := range labels {
			if strings.HasPrefix(k, "gitops.io/") {
				if c.Labels == nil {
					c.Labels = map[string]string{}
				}
				c.Labels[k] = v.(string)
			}
		}
		r.Composed = append(r.Composed, c)
	}
	sort.Slice(r.Composed, func(i, j int) bool {
		a, b := r.Composed[i], r.Composed[j]
		return a.Kind+"/"+a.Name < b.Kind+"/"+b.Name
	})
	return r
}

func mustRendered(t *testing.T, s string) rendered {
	t.Helper()
	var r rendered
	if err := yaml.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("bad want: %v", err)
	}
	return r
}

// What the seed's longhorn-proxy composes.
const longhornComposed = `
composed:
- kind: Application
  namespace: longhorn-system
  name: longhorn-proxy
  resource: application
  labels: {gitops.io/service-name: longhorn-frontend, gitops.io/service-namespace: longhorn-system}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider:
      name: longhorn-proxy
      slug: longhorn-proxy
      providerRef: {name: longhorn-proxy}
      policyEngineMode: any
- kind: OutpostBinding
  namespace: longhorn-system
  name: longhorn-proxy
  resource: outpostbinding
  labels: {gitops.io/service-name: longhorn-frontend, gitops.io/service-namespace: longhorn-system}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider:
      providerRef: {name: longhorn-proxy}
- kind: ProxyProvider
  namespace: longhorn-system
  name: longhorn-proxy
  resource: proxyprovider
  labels: {gitops.io/service-name: longhorn-frontend, gitops.io/service-namespace: longhorn-system}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider:
      name: longhorn-proxy
      mode: forward_single
      externalHost: https://longhorn.k8s.home.geoffdavis.com
      internalHost: http://longhorn-frontend.longhorn-system.svc.cluster.local:80
`

// notProtectedLonghornXR is the seed's longhorn-proxy as route discovery
// leaves it when its Ingress does not ask the outpost.
const notProtectedLonghornXR = `
apiVersion: gitops.io/v1
kind: ProxyConfig
metadata:
  name: longhorn-proxy
  namespace: longhorn-system
  annotations:
    authentik.m.crossplane.io/route-not-protected: the Ingress does not ask Authentik's outpost
spec:
  serviceName: longhorn-frontend
  serviceNamespace: longhorn-system
  externalHost: longhorn.k8s.home.geoffdavis.com
  internalHost: http://longhorn-frontend.longhorn-system.svc.cluster.local:80
  authentikConfig:
    providerName: longhorn-proxy
    mode: forward_single
`

// nothingReady is the Ready condition before any composed resource is Ready.
const nothingReady = `ready: "False"
why: 'Unready resources: application, outpostbinding, and proxyprovider'
`

// waiting is the access a ProxyConfig without groups states until it is served.
const waiting = `status:
  access: not served
  accessReason: waiting for the application and the outpost binding to be Ready
`

// A ProxyConfig with nothing but the required fields, in namespace storage.
const minimalXR = `
apiVersion: gitops.io/v1
kind: ProxyConfig
metadata: {name: nas, namespace: storage}
spec:
  externalHost: nas.example.com
  internalHost: https://nas.storage.svc:5001
`

// What minimalXR composes with the XRD's defaults.
func minimalComposed(slug string) string {
	return `
composed:
- kind: Application
  namespace: storage
  name: nas
  resource: application
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider: {name: nas, slug: ` + slug + `, providerRef: {name: nas}, policyEngineMode: any}
- kind: OutpostBinding
  namespace: storage
  name: nas
  resource: outpostbinding
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider: {providerRef: {name: nas}}
- kind: ProxyProvider
  namespace: storage
  name: nas
  resource: proxyprovider
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider: {name: storage/nas, mode: proxy, externalHost: "https://nas.example.com", internalHost: "https://nas.storage.svc:5001"}
`
}

// Conditions of an observed PolicyBinding.
const (
	ready        = `[{type: Ready, status: "True", reason: Available, lastTransitionTime: "2026-01-01T00:00:00Z"}, {type: Synced, status: "True", reason: ReconcileSuccess, lastTransitionTime: "2026-01-01T00:00:00Z"}]`
	missingGroup = `[{type: Ready, status: "False", reason: Creating, lastTransitionTime: "2026-01-01T00:00:00Z"}, {type: Synced, status: "False", reason: ReconcileError, lastTransitionTime: "2026-01-01T00:00:00Z", message: 'create failed: cannot create policy binding: no Authentik group is named "monitoring-viewers" (spec.forProvider.groupName)'}]`
	pending      = `[{type: Ready, status: "False", reason: Creating, lastTransitionTime: "2026-01-01T00:00:00Z"}, {type: Synced, status: "False", reason: ReconcileError, lastTransitionTime: "2026-01-01T00:00:00Z", message: 'cannot resolve references: spec.forProvider.policyRef: referenced ExpressionPolicy has no UUID yet'}]`
	deletedGroup = `[{type: Ready, status: "False", reason: Unavailable, lastTransitionTime: "2026-01-01T00:00:00Z", message: 'group "authentik Admins" bound by this PolicyBinding no longer exists in Authentik'}, {type: Synced, status: "False", reason: ReconcileError, lastTransitionTime: "2026-01-01T00:00:00Z", message: 'observe failed: group "authentik Admins" bound by this PolicyBinding no longer exists in Authentik'}]`
)

// grafanaObserved is what Crossplane observes of the grafana example's composed
// resources: provider and application Ready, the two PolicyBindings with
// the given conditions, the access policy's binding with its conditions
// and the OutpostBinding with its conditions ("" when either does not
// exist).
func grafanaObserved(admins, viewers, access, outpostBinding string) string {
	out := `
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ProxyProvider
metadata:
  name: grafana
  namespace: monitoring
  annotations: {crossplane.io/composition-resource-name: proxyprovider, crossplane.io/external-name: "9"}
status:
  atProvider: {pk: 9}
  conditions: ` + ready + `
---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: Application
metadata:
  name: grafana
  namespace: monitoring
  annotations: {crossplane.io/composition-resource-name: application, crossplane.io/external-name: grafana}
spec:
  forProvider: {name: Grafana, slug: grafana, providerRef: {name: grafana}}
status:
  atProvider: {pk: 4f1c6d2e-8b7a-4c3d-9e0f-1a2b3c4d5e6f, launchUrl: "https://grafana.k8s.example.com/dashboards"}
  conditions: ` + ready + `
---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: PolicyBinding
metadata:
  name: grafana-authentik-admins-ebd15a
  namespace: monitoring
  annotations: {crossplane.io/composition-resource-name: policybinding-authentik Admins}
status:
  conditions: ` + admins + `
---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: PolicyBinding
metadata:
  name: grafana-monitoring-viewers-4c8d4f
  namespace: monitoring
  annotations: {crossplane.io/composition-resource-name: policybinding-monitoring-viewers}
status:
  conditions: ` + viewers + `
`
	if access != "" {
		out += `---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ExpressionPolicy
metadata:
  name: grafana-access
  namespace: monitoring
  annotations: {crossplane.io/composition-resource-name: access-policy}
status:
  conditions: ` + ready + `
---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: PolicyBinding
metadata:
  name: grafana-access
  namespace: monitoring
  annotations: {crossplane.io/composition-resource-name: access-policy-binding}
status:
  conditions: ` + access + `
`
	}
	if outpostBinding != "" {
		out += `---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: OutpostBinding
metadata:
  name: grafana-authentik-embedded-outpost-7d7e5b
  namespace: monitoring
  annotations: {crossplane.io/composition-resource-name: outpostbinding-authentik-embedded-outpost-7d7e5b}
status:
  atProvider: {outpostName: authentik Embedded Outpost}
  conditions: ` + outpostBinding + `
`
	}
	return out
}

// grafanaWithheld is what Crossplane observes when the grafana example's
// OutpostBinding has found the authentik Admins binding gone (and taken the
// provider off the outpost) before the PolicyBinding's next poll.
var grafanaWithheld = strings.Replace(grafanaObserved(ready, ready, ready,
	`[{type: Ready, status: "False", reason: Unavailable, lastTransitionTime: "2026-01-01T00:00:00Z", message: 'not served: group "authentik Admins" has no policy binding on application "grafana"'}, {type: Synced, status: "True", reason: ReconcileSuccess, lastTransitionTime: "2026-01-01T00:00:00Z"}]`),
	"atProvider: {outpostName: authentik Embedded Outpost}",
	`atProvider: {outpostName: authentik Embedded Outpost, notServedReason: 'not served: group "authentik Admins" has no policy binding on application "grafana"'}`, 1)

// grafanaComposed is what the grafana example composes, with or without its
// OutpostBinding.
func grafanaComposed(served bool) string {
	out := `
composed:
- kind: Application
  namespace: monitoring
  name: grafana
  resource: application
  labels: {gitops.io/service-name: grafana, gitops.io/service-namespace: monitoring}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider:
      name: Grafana
      slug: grafana
      providerRef: {name: grafana}
      policyEngineMode: any
      requiredGroups: [authentik Admins, monitoring-viewers]
      metaLaunchUrl: https://grafana.k8s.example.com/dashboards
      group: Monitoring
      metaDescription: Dashboards and alerts
- kind: ExpressionPolicy
  namespace: monitoring
  name: grafana-access
  resource: access-policy
  labels: {gitops.io/service-name: grafana, gitops.io/service-namespace: monitoring}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider:
      name: "grafana-proxy: allowed groups"
      expression: 'return ak_is_group_member(request.user, name="authentik Admins") or ak_is_group_member(request.user, name="monitoring-viewers")'
`
	if served {
		out += `- kind: OutpostBinding
  namespace: monitoring
  name: grafana-authentik-embedded-outpost-7d7e5b
  resource: outpostbinding-authentik-embedded-outpost-7d7e5b
  labels: {gitops.io/service-name: grafana, gitops.io/service-namespace: monitoring}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider: {providerRef: {name: grafana}, outpostName: authentik Embedded Outpost, requiredGroups: [authentik Admins, monitoring-viewers]}
`
	}
	return out + `- kind: PolicyBinding
  namespace: monitoring
  name: grafana-access
  resource: access-policy-binding
  labels: {gitops.io/service-name: grafana, gitops.io/service-namespace: monitoring}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider: {applicationRef: {name: grafana}, policyRef: {name: grafana-access}, order: 1000}
- kind: PolicyBinding
  namespace: monitoring
  name: grafana-authentik-admins-ebd15a
  resource: policybinding-authentik Admins
  labels: {gitops.io/service-name: grafana, gitops.io/service-namespace: monitoring}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider: {applicationRef: {name: grafana}, groupName: authentik Admins, order: 0}
- kind: PolicyBinding
  namespace: monitoring
  name: grafana-monitoring-viewers-4c8d4f
  resource: policybinding-monitoring-viewers
  labels: {gitops.io/service-name: grafana, gitops.io/service-namespace: monitoring}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider: {applicationRef: {name: grafana}, groupName: monitoring-viewers, order: 1}
- kind: ProxyProvider
  namespace: monitoring
  name: grafana
  resource: proxyprovider
  labels: {gitops.io/service-name: grafana, gitops.io/service-namespace: monitoring}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider:
      name: grafana-proxy
      mode: proxy
      externalHost: https://grafana.k8s.example.com
      internalHost: http://grafana.monitoring.svc.cluster.local:3000
      skipPathRegex: "^/api/health$\n^/public/.*\n"
`
}

// takeOverXR is the seed's longhorn-proxy with consent to take over what
// the Jobs made.
const takeOverXR = `
apiVersion: gitops.io/v1
kind: ProxyConfig
metadata:
  name: longhorn-proxy
  namespace: longhorn-system
spec:
  serviceName: longhorn-frontend
  serviceNamespace: longhorn-system
  externalHost: longhorn.k8s.home.geoffdavis.com
  internalHost: http://longhorn-frontend.longhorn-system.svc.cluster.local:80
  authentikConfig:
    providerName: longhorn-proxy
    mode: forward_single
    takeOverExisting: true
`

// takeOverComposed is what takeOverXR composes: every resource with
// adoptExisting, the Application (when the provider's pk is known) with
// the slug of the provider's own application.
func takeOverComposed(slug string) string {
	out := "\ncomposed:\n"
	if slug != "" {
		out += `- kind: Application
  namespace: longhorn-system
  name: longhorn-proxy
  resource: application
  labels: {gitops.io/service-name: longhorn-frontend, gitops.io/service-namespace: longhorn-system}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    adoptExisting: true
    forProvider: {name: longhorn-proxy, slug: ` + slug + `, providerRef: {name: longhorn-proxy}, policyEngineMode: any}
`
	}
	return out + `- kind: OutpostBinding
  namespace: longhorn-system
  name: longhorn-proxy
  resource: outpostbinding
  labels: {gitops.io/service-name: longhorn-frontend, gitops.io/service-namespace: longhorn-system}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    adoptExisting: true
    forProvider: {providerRef: {name: longhorn-proxy}}
- kind: ProxyProvider
  namespace: longhorn-system
  name: longhorn-proxy
  resource: proxyprovider
  labels: {gitops.io/service-name: longhorn-frontend, gitops.io/service-namespace: longhorn-system}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    adoptExisting: true
    forProvider:
      name: longhorn-proxy
      mode: forward_single
      externalHost: https://longhorn.k8s.home.geoffdavis.com
      internalHost: http://longhorn-frontend.longhorn-system.svc.cluster.local:80
`
}

// jobsProviderObserved is the ProxyProvider once it adopted the Jobs'
// provider 7, whose application is longhorn.
const jobsProviderObserved = `
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ProxyProvider
metadata:
  name: longhorn-proxy
  namespace: longhorn-system
  annotations: {crossplane.io/composition-resource-name: proxyprovider, crossplane.io/external-name: "7"}
status:
  atProvider: {pk: 7, assignedApplicationSlug: longhorn}
  conditions: ` + ready + `
`

// refusedProviderObserved is the ProxyProvider that met the Jobs' provider
// without consent, and the Application composed before it knew.
const refusedProviderObserved = `
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ProxyProvider
metadata:
  name: longhorn-proxy
  namespace: longhorn-system
  annotations: {crossplane.io/composition-resource-name: proxyprovider}
status:
  conditions: [{type: Synced, status: "False", reason: ReconcileError, lastTransitionTime: "2026-01-01T00:00:00Z", message: 'create failed: proxy provider "longhorn-proxy" (7) already exists in Authentik and this resource did not create it, so nothing was changed; to manage it set spec.adoptExisting: true, or its id as the crossplane.io/external-name annotation'}]
---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: Application
metadata:
  name: longhorn-proxy
  namespace: longhorn-system
  annotations: {crossplane.io/composition-resource-name: application}
spec:
  forProvider: {name: longhorn-proxy, slug: longhorn-proxy, providerRef: {name: longhorn-proxy}}
`

func TestRender(t *testing.T) {
	cases := map[string]struct {
		reason   string
		xr       string
		observed string
		want     string
	}{
		"TakeOverFirstRender": {
			reason: "With takeOverExisting every composed resource adopts; the Application waits for the provider's pk, since its slug is the provider's own application's and cannot change, and the ProxyConfig is held not Ready meanwhile.",
			xr:     takeOverXR,
			want: `
ready: "False"
why: 'Unready resources: outpostbinding, proxyprovider'
` + waiting + takeOverComposed(""),
		},
		"TakeOverKeepsTheJobsSlug": {
			reason:   "Once the ProxyProvider adopted the Jobs' provider, the Application takes over the provider's application by its slug (longhorn), not the derived longhorn-proxy.",
			xr:       takeOverXR,
			observed: jobsProviderObserved,
			want: `
ready: "False"
why: 'Unready resources: application, outpostbinding'
status:
  providerPk: 7
  access: not served
  accessReason: waiting for the application and the outpost binding to be Ready
` + takeOverComposed("longhorn"),
		},
		"NoConsentSaysHow": {
			reason:   "Without the switch, a ProxyProvider refused because the Jobs' provider exists makes the ProxyConfig say so, not managed, naming the field that consents; the Application, not yet made in Authentik, is left out so that consent given later can take the provider's own slug.",
			xr:       longhornXR,
			observed: refusedProviderObserved,
			want: `
ready: "False"
why: 'Unready resources: outpostbinding, proxyprovider'
status:
  access: not managed
  accessReason: 'proxyprovider: create failed: proxy provider "longhorn-proxy" (7) already exists in Authentik and this resource did not create it, so nothing was changed. To take over what exists in Authentik without interrupting it, set spec.authentikConfig.takeOverExisting: true'
composed:
` + longhornComposed[strings.Index(longhornComposed, "- kind: OutpostBinding"):],
		},
		"SeedLonghornFirstRender": {
			reason: "The seed's longhorn-proxy composes a forward_single ProxyProvider with https:// added to the bare host, an Application and an OutpostBinding on the embedded outpost that refer to it by name; nothing exists yet, so the ProxyConfig is not Ready and has no status.",
			xr:     longhornXR,
			want:   nothingReady + waiting + longhornComposed,
		},
		"SeedLonghornAllReady": {
			reason:   "Once every composed resource is Ready the ProxyConfig is Ready, and its status shows the provider pk, the application's slug and launch URL and the outpost, as Authentik reports them.",
			xr:       longhornXR,
			observed: longhornObs,
			want: `
ready: "True"
status:
  providerPk: 7
  applicationSlug: longhorn-proxy
  launchUrl: https://longhorn.k8s.home.geoffdavis.com
  outpost: authentik Embedded Outpost
  access: open to every user
  accessReason: ""
` + longhornComposed,
		},
		"RouteNotProtected": {
			reason:   "Route discovery's finding that the route does not ask the outpost goes into accessReason; ACCESS stays what Authentik enforces.",
			xr:       notProtectedLonghornXR,
			observed: longhornObs,
			want: `
ready: "True"
status:
  providerPk: 7
  applicationSlug: longhorn-proxy
  launchUrl: https://longhorn.k8s.home.geoffdavis.com
  outpost: authentik Embedded Outpost
  access: open to every user
  accessReason: the Ingress does not ask Authentik's outpost
` + longhornComposed,
		},
		"RouteNotProtectedNotServed": {
			reason: "While the provider is not served yet, the finding follows the reason it is not.",
			xr:     notProtectedLonghornXR,
			want: nothingReady + `status:
  access: not served
  accessReason: "waiting for the application and the outpost binding to be Ready; the Ingress does not ask Authentik's outpost"
` + longhornComposed,
		},
		"SeedLonghornApplicationPending": {
			reason: "The status shows only what Authentik has confirmed: the provider exists, the Application has not been observed in Authentik yet, so there is no slug or launch URL and the ProxyConfig is not Ready.",
			xr:     longhornXR,
			observed: `
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: ProxyProvider
metadata:
  name: longhorn-proxy
  namespace: longhorn-system
  annotations: {crossplane.io/composition-resource-name: proxyprovider, crossplane.io/external-name: "7"}
status:
  atProvider: {pk: 7}
  conditions: [{type: Ready, status: "True", reason: Available, lastTransitionTime: "2026-01-01T00:00:00Z"}]
---
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: Application
metadata:
  name: longhorn-proxy
  namespace: longhorn-system
  annotations: {crossplane.io/composition-resource-name: application, crossplane.io/external-name: longhorn-proxy}
spec:
  forProvider: {name: longhorn-proxy, slug: longhorn-proxy, providerRef: {name: longhorn-proxy}}
`,
			want: `
ready: "False"
why: 'Unready resources: application, outpostbinding'
status:
  providerPk: 7
  access: not served
  accessReason: waiting for the application and the outpost binding to be Ready
` + longhornComposed,
		},
		"SeedMyService": {
			reason: "The seed's second ProxyConfig composes the same three resources in its own namespace.",
			xr:     myServiceXR,
			want: `
ready: "False"
why: 'Unready resources: application, outpostbinding, and proxyprovider'
` + waiting + `composed:
- kind: Application
  namespace: my-namespace
  name: my-service-proxy
  resource: application
  labels: {gitops.io/service-name: my-service, gitops.io/service-namespace: my-namespace}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider: {name: my-service-proxy, slug: my-service-proxy, providerRef: {name: my-service-proxy}, policyEngineMode: any}
- kind: OutpostBinding
  namespace: my-namespace
  name: my-service-proxy
  resource: outpostbinding
  labels: {gitops.io/service-name: my-service, gitops.io/service-namespace: my-namespace}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider: {providerRef: {name: my-service-proxy}}
- kind: ProxyProvider
  namespace: my-namespace
  name: my-service-proxy
  resource: proxyprovider
  labels: {gitops.io/service-name: my-service, gitops.io/service-namespace: my-namespace}
  spec:
    providerConfigRef: {kind: ClusterProviderConfig, name: default}
    forProvider:
      name: my-service-proxy
      mode: forward_single
      externalHost: https://my-service.k8s.home.geoffdavis.com
      internalHost: http://my-service.my-namespace.svc.cluster.local:80
`,
		},
		"EveryOption": {
			reason: "A URL external host is kept as it is; the application's fields and skip paths pass through; each allowed group gets one PolicyBinding, named after the group and referring to the Application, ordered as listed; no OutpostBinding until every binding exists, so nothing serves the application while it is open to everyone.",
			xr:     grafanaXR,
			want: `
ready: "False"
why: 'Unready resources: access-policy, access-policy-binding, application, and 3 more'
status:
  access: not served
  accessReason: 'no outpost serves it until every allowed group is bound: group "authentik Admins": its policy binding does not exist in Authentik yet; group "monitoring-viewers": its policy binding does not exist in Authentik yet; access policy: its policy binding does not exist in Authentik yet'
` + grafanaComposed(false),
		},
		"GroupsBoundThenServed": {
			reason:   "Once every PolicyBinding is observed Ready, the OutpostBinding is composed; the ProxyConfig is not Ready until it is.",
			xr:       grafanaXR,
			observed: grafanaObserved(ready, ready, ready, ""),
			want: `
ready: "False"
why: 'Unready resources: outpostbinding-authentik-embedded-outpost-7d7e5b'
status:
  providerPk: 9
  applicationSlug: grafana
  launchUrl: https://grafana.k8s.example.com/dashboards
  access: not served
  accessReason: waiting for the application and the outpost binding to be Ready
` + grafanaComposed(true),
		},
		"AccessPolicyPendingNotServed": {
			reason:   "A new ProxyConfig is served only once the access policy is bound too, beside every group, so that no single deletion in Authentik can open it.",
			xr:       grafanaXR,
			observed: grafanaObserved(ready, ready, pending, ""),
			want: `
ready: "False"
why: 'Unready resources: access-policy-binding'
status:
  providerPk: 9
  applicationSlug: grafana
  launchUrl: https://grafana.k8s.example.com/dashboards
  access: not served
  accessReason: 'no outpost serves it until every allowed group is bound: access policy: cannot resolve references: spec.forProvider.policyRef: referenced ExpressionPolicy has no UUID yet'
` + grafanaComposed(false),
		},
		"AccessPolicyAddedToServedProxyConfig": {
			reason:   "A ProxyConfig made before the access policy existed stays served while the policy is added: its OutpostBinding is kept, nothing is removed first.",
			xr:       grafanaXR,
			observed: grafanaObserved(ready, ready, "", ready),
			want: `
ready: "False"
why: 'Unready resources: access-policy, access-policy-binding'
status:
  providerPk: 9
  applicationSlug: grafana
  launchUrl: https://grafana.k8s.example.com/dashboards
  outpost: authentik Embedded Outpost
  access: restricted to authentik Admins, monitoring-viewers
  accessReason: ""
` + grafanaComposed(true),
		},
		"GroupsRestricted": {
			reason:   "With every binding and the OutpostBinding Ready the ProxyConfig is Ready and says who can get in.",
			xr:       grafanaXR,
			observed: grafanaObserved(ready, ready, ready, ready),
			want: `
ready: "True"
status:
  providerPk: 9
  applicationSlug: grafana
  launchUrl: https://grafana.k8s.example.com/dashboards
  outpost: authentik Embedded Outpost
  access: restricted to authentik Admins, monitoring-viewers
  accessReason: ""
` + grafanaComposed(true),
		},
		"GroupMissing": {
			reason:   "A group that does not exist keeps its binding from being made: no OutpostBinding, the ProxyConfig not Ready, its Ready message naming the binding by its group, and its status names the group in the binding's words.",
			xr:       grafanaXR,
			observed: grafanaObserved(ready, missingGroup, ready, ""),
			want: `
ready: "False"
why: 'Unready resources: policybinding-monitoring-viewers'
status:
  providerPk: 9
  applicationSlug: grafana
  launchUrl: https://grafana.k8s.example.com/dashboards
  access: not served
  accessReason: 'no outpost serves it until every allowed group is bound: group "monitoring-viewers": create failed: cannot create policy binding: no Authentik group is named "monitoring-viewers" (spec.forProvider.groupName)'
` + grafanaComposed(false),
		},
		"BoundGroupDeletedSeenByTheOutpostBindingFirst": {
			reason:   "The OutpostBinding's own check (requiredGroups) took the provider off the outpost before the composite saw the PolicyBinding turn not Ready: the ProxyConfig is not served and quotes the OutpostBinding.",
			xr:       grafanaXR,
			observed: grafanaWithheld,
			want: `
ready: "False"
why: 'Unready resources: outpostbinding-authentik-embedded-outpost-7d7e5b'
status:
  providerPk: 9
  applicationSlug: grafana
  launchUrl: https://grafana.k8s.example.com/dashboards
  access: not served
  accessReason: 'not served: group "authentik Admins" has no policy binding on application "grafana"'
` + grafanaComposed(true),
		},
		"BoundGroupDeleted": {
			reason:   "A bound group deleted in Authentik takes its binding with it: the OutpostBinding is no longer desired (Crossplane deletes it, so the provider leaves the outpost) and the ProxyConfig says why.",
			xr:       grafanaXR,
			observed: grafanaObserved(deletedGroup, ready, ready, ready),
			want: `
ready: "False"
why: 'Unready resources: policybinding-authentik Admins'
status:
  providerPk: 9
  applicationSlug: grafana
  launchUrl: https://grafana.k8s.example.com/dashboards
  access: not served
  accessReason: 'no outpost serves it until every allowed group is bound: group "authentik Admins": group "authentik Admins" bound by this PolicyBinding no longer exists in Authentik'
` + grafanaComposed(false),
		},
		"DefaultsUniqueAcrossNamespaces": {
			reason: "Two ProxyConfigs named nas in two namespaces get distinct provider names and slugs by default.",
			xr:     strings.ReplaceAll(minimalXR, "storage", "storage-b"),
			want:   nothingReady + waiting + strings.ReplaceAll(strings.ReplaceAll(minimalComposed("SLUG"), "storage", "storage-b"), "SLUG", "storage-b_nas"),
		},
		"Defaults": {
			reason: "With only externalHost and internalHost the XRD's defaults apply: mode proxy, the provider named <namespace>/<name> and the slug <namespace>_<name> (unique across namespaces, as Authentik needs them), the application named after the ProxyConfig, the ClusterProviderConfig default, the embedded outpost.",
			xr:     minimalXR,
			want:   nothingReady + waiting + minimalComposed("storage_nas"),
		},
		"SlugInUseIsKept": {
			reason: "A slug cannot change in Authentik, so a slug the composition chose before stays, even if the provider name it came from changed.",
			xr:     minimalXR,
			observed: `
apiVersion: authentik.m.crossplane.io/v1alpha1
kind: Application
metadata:
  name: nas
  namespace: storage
  annotations: {crossplane.io/composition-resource-name: application}
spec:
  forProvider: {name: nas, slug: nas-legacy, providerRef: {name: nas}}
`,
			want: nothingReady + waiting + minimalComposed("nas-legacy"),
		},
		"ProviderNameBecomesASlug": {
			reason: "A provider name that is no valid slug is lower-cased and every run of other characters becomes -; forward_domain passes its cookie domain.",
			xr: `
apiVersion: gitops.io/v1
kind: ProxyConfig
metadata: {name: nas, namespace: storage}
spec:
  externalHost: http://auth.lan:8080
  authentikConfig: {providerName: "NAS UI (LAN)", mode: forward_domain, cookieDomain: lan}
  providerConfigRef: {kind: ProviderConfig, name: lan-authentik}
`,
			want: `
ready: "False"
why: 'Unready resources: application, outpostbinding, and proxyprovider'
` + waiting + `composed:
- kind: Application
  namespace: storage
  name: nas
  resource: application
  spec:
    providerConfigRef: {kind: ProviderConfig, name: lan-authentik}
    forProvider: {name: NAS UI (LAN), slug: nas-ui-lan, providerRef: {name: nas}, policyEngineMode: any}
- kind: OutpostBinding
  namespace: storage
  name: nas
  resource: outpostbinding
  spec:
    providerConfigRef: {kind: ProviderConfig, name: lan-authentik}
    forProvider: {providerRef: {name: nas}}
- kind: ProxyProvider
  namespace: storage
  name: nas
  resource: proxyprovider
  spec:
    providerConfigRef: {kind: ProviderConfig, name: lan-authentik}
    forProvider: {name: NAS UI (LAN), mode: forward_domain, externalHost: "http://auth.lan:8080", cookieDomain: lan}
`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := renderXR(t, tc.xr, tc.observed)
			if err != nil {
				t.Fatalf("%s\n%v", tc.reason, err)
			}
			if diff := cmp.Diff(mustRendered(t, tc.want), summarize(t, out), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\ncrank render: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// validateLine is one line of crank beta validate's report: mark, what
// failed (or the group/version), kind, name, message.
var validateLine = regexp.MustCompile(`^\[(.)\] (.*?), Kind=(\S+), (\S*)(?: : (.*)| validated successfully)$`)

// validate runs crank beta validate against every schema, failing on a
// missing one, and returns its report.
func validate(resources ...string) (string, error) {
	return crank("beta", "validate", env.schemas, strings.Join(resources, ","),
		"--cache-dir="+env.cache, "--crossplane-image="+env.image, "--error-on-missing-schemas")
}

func TestValidateRenderedExamples(t *testing.T) {
	runs := map[string][2]string{
		"longhorn-proxy":          {longhornXR, ""},
		"longhorn-proxy-observed": {longhornXR, longhornObs},
		"my-service-proxy":        {myServiceXR, ""},
		"grafana":                 {grafanaXR, ""},
	}
	checkRenderedValidate(t, xrdFile, compositionFile, examplesDir, runs)
}

func TestValidateRefusesBrokenProxyConfigs(t *testing.T) {
	want := map[string]string{
		"bad-mode":                           `spec.authentikConfig.mode: Unsupported value: "forward": supported values: "proxy", "forward_single", "forward_domain"`,
		"proxy-mode-without-internal-host":   "spec.internalHost is required when spec.authentikConfig.mode is proxy (the default)",
		"default-mode-without-internal-host": "spec.internalHost is required when spec.authentikConfig.mode is proxy (the default)",
		"external-host-ftp-url":              "spec.externalHost must be a host name such as app.example.com or an http(s) URL such as https://app.example.com",
		"slug-with-space":                    "spec.authentikConfig.application.slug may contain only letters, digits, - and _",
		"internal-host-without-scheme":       "spec.internalHost must be an http(s) URL such as http://app.ns.svc.cluster.local:8080",
	}
	checkRefusals(t, "ProxyConfig", "proxyconfigs-broken.yaml", want)
}

// checkRenderedValidate renders each run (an XR and what Crossplane
// observes of its composed resources, "" for nothing) through the XRD and
// Composition, and checks that crank beta validate accepts every rendered
// object together with the XRD, the Composition and the examples.
func checkRenderedValidate(t *testing.T, xrd, composition, examples string, runs map[string][2]string) {
	t.Helper()
	dir := t.TempDir()
	resources := []string{
		filepath.Join(env.root, xrd),
		filepath.Join(env.root, composition),
		filepath.Join(env.root, examples),
	}
	want := 3 // the XRD, the Composition and its go-templating input
	for name, in := range runs {
		out, err := renderWith(t, xrd, composition, in[0], in[1])
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(p, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
		resources = append(resources, p)
		want += strings.Count(out, "\nkind: ") // one per rendered object
	}
	exampleFiles, _ := filepath.Glob(filepath.Join(env.root, examples, "*.yaml"))
	want += len(exampleFiles)

	out, err := validate(resources...)
	t.Logf("crank beta validate:\n%s", out)
	if err != nil {
		t.Fatalf("the rendered XRs, the examples, the XRD and the Composition do not validate: %v", err)
	}
	summary := fmt.Sprintf("Total %d resources: 0 missing schemas, %d success cases, 0 failure cases", want, want)
	if !strings.Contains(out, summary) {
		t.Errorf("crank beta validate: want %q in its report", summary)
	}
	for _, l := range strings.Split(out, "\n") {
		if m := validateLine.FindStringSubmatch(l); m != nil && m[1] != "✓" {
			t.Errorf("not validated: %s", l)
		}
	}
}

// checkRefusals validates the file of broken XRs of kind in testdata and
// checks that crank beta validate refuses each of them, and only them,
// with a message containing want[name].
func checkRefusals(t *testing.T, kind, file string, want map[string]string) {
	t.Helper()
	out, err := validate(filepath.Join(env.root, testdataDir, file))
	t.Logf("crank beta validate:\n%s", out)
	if err == nil {
		t.Fatalf("crank beta validate accepted %s", file)
	}
	got := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		m := validateLine.FindStringSubmatch(l)
		if m == nil || m[3] != kind {
			continue
		}
		if m[1] == "✓" {
			t.Errorf("crank beta validate accepted the broken %s %s", kind, m[4])
			continue
		}
		got[m[4]] = m[5]
	}
	for name, msg := range want {
		if !strings.Contains(got[name], msg) {
			t.Errorf("%s %s: want a refusal containing %q, got %q", kind, name, msg, got[name])
		}
	}
	if len(got) != len(want) {
		t.Errorf("crank beta validate refused %d %ss, want %d: %v", len(got), kind, len(want), got)
	}
}
