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
	configurationDir    = "package/configuration"
	xrdFile             = configurationDir + "/xrd.yaml"
	compositionFile     = configurationDir + "/composition.yaml"
	metaFile            = configurationDir + "/crossplane.yaml"
	examplesDir         = "examples/proxyconfig"
	oidcXRDFile         = configurationDir + "/oidcconfig-xrd.yaml"
	oidcCompositionFile = configurationDir + "/oidcconfig-composition.yaml"
	oidcExamplesDir     = "examples/oidcconfig"
	testdataDir         = "cluster/composition/testdata"
	buildToolsFile      = "cluster/build-tools.sh"
	localLibFile        = "cluster/local/lib.sh"
)

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
	}
	got := map[string]string{
		"apiVersion":            str(comp, "spec", "compositeTypeRef", "apiVersion"),
		"kind":                  str(comp, "spec", "compositeTypeRef", "kind"),
		"defaultCompositionRef": str(comp, "metadata", "name"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s and %s disagree: -xrd, +composition:\n%s", xrdFile, compositionFile, diff)
	}
}

// TestProxyConfigIsANamespacedXR: the seed's manifests (gitops.io/v1
// ProxyConfig in the service's namespace) are the XR itself, a Crossplane v2
// namespaced composite resource, with no claim in between.
func TestProxyConfigIsANamespacedXR(t *testing.T) {
	xrd := readObject(t, xrdFile)
	versions, _ := get(xrd, "spec", "versions").([]any)
	got := map[string]any{
		"xrdAPIVersion": str(xrd, "apiVersion"),
		"name":          str(xrd, "metadata", "name"),
		"scope":         str(xrd, "spec", "scope"),
		"kind":          str(xrd, "spec", "names", "kind"),
		"claimNames":    get(xrd, "spec", "claimNames"),
		"versions":      len(versions),
	}
	want := map[string]any{
		"xrdAPIVersion": "apiextensions.crossplane.io/v2",
		"name":          "proxyconfigs.gitops.io",
		"scope":         "Namespaced",
		"kind":          "ProxyConfig",
		"claimNames":    nil,
		"versions":      1,
	}
	if len(versions) == 1 {
		got["apiVersion"] = str(xrd, "spec", "group") + "/" + str(versions[0], "name")
		want["apiVersion"] = "gitops.io/v1"
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: -want, +got:\n%s", xrdFile, diff)
	}
}
