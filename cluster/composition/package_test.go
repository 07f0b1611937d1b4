package composition

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// Paths relative to the repository root.
const (
	configurationDir = "package/configuration"
	xrdFile          = configurationDir + "/xrd.yaml"
	compositionFile  = configurationDir + "/composition.yaml"
	metaFile         = configurationDir + "/crossplane.yaml"
	examplesDir      = "examples/proxyconfig"
	testdataDir      = "cluster/composition/testdata"
	buildToolsFile   = "cluster/build-tools.sh"
	localLibFile     = "cluster/local/lib.sh"
)

// renderInputs pairs each example claim with its XR form in testdata.
var renderInputs = map[string]string{
	"longhorn-proxy.yaml":   "xr-longhorn-proxy.yaml",
	"my-service-proxy.yaml": "xr-my-service-proxy.yaml",
	"grafana-proxy.yaml":    "xr-grafana.yaml",
}

// repoRoot is the repository root; tests run in cluster/composition.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// decodeAll parses every YAML document in data; numbers become float64 as
// in JSON.
func decodeAll(data []byte) ([]map[string]any, error) {
	var out []map[string]any
	d := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var m map[string]any
		err := d.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if m != nil {
			out = append(out, m)
		}
	}
}

// readObjects parses the YAML file at path (relative to the repository root).
func readObjects(t testing.TB, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), path))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeAll(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return objs
}

func readObject(t testing.TB, path string) map[string]any {
	t.Helper()
	objs := readObjects(t, path)
	if len(objs) != 1 {
		t.Fatalf("%s holds %d objects, want 1", path, len(objs))
	}
	return objs[0]
}

// get walks obj along keys; nil when a key is missing.
func get(obj any, keys ...string) any {
	for _, k := range keys {
		m, ok := obj.(map[string]any)
		if !ok {
			return nil
		}
		obj = m[k]
	}
	return obj
}

func str(obj any, keys ...string) string {
	s, _ := get(obj, keys...).(string)
	return s
}

// shellVar returns the value of NAME=value in a shell script.
func shellVar(t testing.TB, path, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), path))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `=([^\s#]+)`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("%s sets no %s", path, name)
	}
	return strings.Trim(string(m[1]), `"'`)
}

func TestConfigurationDependsOnTheFunctionsWeRun(t *testing.T) {
	meta := readObject(t, metaFile)
	deps, _ := get(meta, "spec", "dependsOn").([]any)
	got := map[string]string{}
	for _, d := range deps {
		for _, k := range []string{"provider", "function", "configuration"} {
			if p := str(d, k); p != "" {
				got[p] = str(d, "version")
			}
		}
	}
	want := map[string]string{
		"xpkg.crossplane.io/gitops-lifecycle/provider-authentik":       ">=v0.1.0-0",
		"xpkg.crossplane.io/crossplane-contrib/function-go-templating": ">=" + shellVar(t, buildToolsFile, "FN_GOTPL_VERSION"),
		"xpkg.crossplane.io/crossplane-contrib/function-auto-ready":    ">=" + shellVar(t, buildToolsFile, "FN_READY_VERSION"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s dependsOn (package -> version constraint) differs from the functions cluster/build-tools.sh builds: -want, +got:\n%s", metaFile, diff)
	}
}

// dependencyName is the name Crossplane's dependency resolver gives a package
// it installs by itself: the package's repository path without the registry,
// "/" turned into "-" (xpkg.ToDNSLabel in crossplane-runtime; our paths are
// lower-case and short, so nothing else of it applies).
func dependencyName(pkg string) string {
	_, path, _ := strings.Cut(pkg, "/")
	return strings.ReplaceAll(path, "/", "-")
}

// TestCompositionCallsFunctionsByTheirDependencyNames: the Composition calls
// each function by the name Crossplane gives the Configuration's function
// dependency, and the local control plane (cluster/local/up.sh, lib.sh's
// fn_object) installs its functions under those names too. A Function the
// user installs first under that name satisfies the dependency; otherwise
// Crossplane creates it under the same name. Either way one Function, and
// the Composition finds it.
func TestCompositionCallsFunctionsByTheirDependencyNames(t *testing.T) {
	meta := readObject(t, metaFile)
	deps, _ := get(meta, "spec", "dependsOn").([]any)
	var want []string
	for _, d := range deps {
		if p := str(d, "function"); p != "" {
			want = append(want, dependencyName(p))
		}
	}
	comp := readObject(t, compositionFile)
	steps, _ := get(comp, "spec", "pipeline").([]any)
	var got []string
	for _, s := range steps {
		got = append(got, str(s, "functionRef", "name"))
	}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("%s pipeline functions differ from the names of %s's function dependencies: -want, +got:\n%s", compositionFile, metaFile, diff)
	}

	lib, err := os.ReadFile(filepath.Join(repoRoot(t), localLibFile))
	if err != nil {
		t.Fatal(err)
	}
	fns := regexp.MustCompile(`(?m)^FUNCTIONS=\(([^)]*)\)`).FindSubmatch(lib)
	repo := regexp.MustCompile(`(?m)^FN_REPO=(\S+)`).FindSubmatch(lib)
	if fns == nil || repo == nil {
		t.Fatalf("%s sets no FUNCTIONS=(...) or FN_REPO=", localLibFile)
	}
	var installed []string
	for _, fn := range strings.Fields(string(fns[1])) {
		installed = append(installed, dependencyName("registry/"+string(repo[1])+"/"+fn))
	}
	for _, fn := range got {
		if !slices.Contains(installed, fn) {
			t.Errorf("%s calls %s, but cluster/local/up.sh installs only %v", compositionFile, fn, installed)
		}
	}
}

func TestDependencyName(t *testing.T) {
	cases := map[string]struct {
		pkg  string
		want string
	}{
		"Function":      {pkg: "xpkg.crossplane.io/crossplane-contrib/function-go-templating", want: "crossplane-contrib-function-go-templating"},
		"Provider":      {pkg: "xpkg.crossplane.io/gitops-lifecycle/provider-authentik", want: "gitops-lifecycle-provider-authentik"},
		"LocalRegistry": {pkg: "127.0.0.1:25600/crossplane-contrib/function-auto-ready", want: "crossplane-contrib-function-auto-ready"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := dependencyName(tc.pkg); got != tc.want {
				t.Errorf("dependencyName(%q) = %q, want %q", tc.pkg, got, tc.want)
			}
		})
	}
}

func TestCompositionIsTheXRDsDefault(t *testing.T) {
	xrd := readObject(t, xrdFile)
	comp := readObject(t, compositionFile)
	versions, _ := get(xrd, "spec", "versions").([]any)
	if len(versions) != 1 {
		t.Fatalf("%s has %d versions, want 1", xrdFile, len(versions))
	}
	want := map[string]string{
		"apiVersion":            str(xrd, "spec", "group") + "/" + str(versions[0], "name"),
		"kind":                  str(xrd, "spec", "names", "kind"),
		"defaultCompositionRef": str(xrd, "spec", "defaultCompositionRef", "name"),
		"claim":                 str(xrd, "spec", "claimNames", "kind"),
		"xrdAPIVersion":         str(xrd, "apiVersion"),
	}
	got := map[string]string{
		"apiVersion":            str(comp, "spec", "compositeTypeRef", "apiVersion"),
		"kind":                  str(comp, "spec", "compositeTypeRef", "kind"),
		"defaultCompositionRef": str(comp, "metadata", "name"),
		"claim":                 "ProxyConfig",
		"xrdAPIVersion":         "apiextensions.crossplane.io/v1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s and %s disagree: -xrd, +composition:\n%s", xrdFile, compositionFile, diff)
	}
	if got["apiVersion"] != "gitops.io/v1" {
		t.Errorf("the claim's apiVersion is %s; the seed's manifests use gitops.io/v1", got["apiVersion"])
	}
}

func TestRenderInputsAreTheExampleClaims(t *testing.T) {
	for example, xrFile := range renderInputs {
		t.Run(example, func(t *testing.T) {
			claim := readObject(t, filepath.Join(examplesDir, example))
			xr := readObject(t, filepath.Join(testdataDir, xrFile))

			xrSpec, _ := get(xr, "spec").(map[string]any)
			spec := map[string]any{}
			for k, v := range xrSpec {
				if k != "claimRef" {
					spec[k] = v
				}
			}
			if diff := cmp.Diff(get(claim, "spec"), spec); diff != "" {
				t.Errorf("%s spec differs from the claim %s: -claim, +xr:\n%s", xrFile, example, diff)
			}
			name, ns := str(claim, "metadata", "name"), str(claim, "metadata", "namespace")
			want := []string{name, ns, name, ns, "ProxyConfig"}
			got := []string{
				str(xr, "metadata", "labels", "crossplane.io/claim-name"),
				str(xr, "metadata", "labels", "crossplane.io/claim-namespace"),
				str(xr, "spec", "claimRef", "name"),
				str(xr, "spec", "claimRef", "namespace"),
				str(xr, "spec", "claimRef", "kind"),
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s does not point at the claim %s/%s (labels claim-name, claim-namespace, claimRef name, namespace, kind): -want, +got:\n%s", xrFile, ns, name, diff)
			}
		})
	}
}
