package pkgtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// Paths relative to the repository root.
const (
	gitopsDir           = "examples/gitops"
	crdsDir             = "package/provider/crds"
	providerMetaFile    = "package/provider/crossplane.yaml"
	configurationMeta   = "package/configuration/crossplane.yaml"
	compositionFile     = "package/configuration/composition.yaml"
	xrdFile             = "package/configuration/xrd.yaml"
	oidcXRDFile         = "package/configuration/oidcconfig-xrd.yaml"
	oidcCompositionFile = "package/configuration/oidcconfig-composition.yaml"
	buildToolsFile      = "cluster/build-tools.sh"
	providerMainFile    = "cmd/provider/main.go"
)

// A doc is one YAML document of a manifest file.
type doc struct {
	file  string // relative to the directory it was loaded from
	index int    // position in the file, from 0
	obj   map[string]any
}

func (d doc) String() string {
	name := str(d.obj, "metadata", "name")
	if ns := str(d.obj, "metadata", "namespace"); ns != "" {
		name = ns + "/" + name
	}
	return fmt.Sprintf("%s#%d (%s %s)", d.file, d.index, d.kind(), name)
}

// kind is "apiVersion Kind", the key of knownKinds.
func (d doc) kind() string { return str(d.obj, "apiVersion") + " " + str(d.obj, "kind") }

// repoRoot is the repository root; tests run in cluster/package.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// parseDocs splits data into YAML documents and decodes each strictly
// (duplicate keys are errors); documents holding only comments are skipped.
func parseDocs(file string, data []byte) ([]doc, error) {
	r := yaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []doc
	for i := 0; ; i++ {
		chunk, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s#%d: %w", file, i, err)
		}
		j, err := sigsyaml.YAMLToJSONStrict(chunk)
		if err != nil {
			return nil, fmt.Errorf("%s#%d: not well-formed YAML: %w", file, i, err)
		}
		if string(bytes.TrimSpace(j)) == "null" {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(j, &obj); err != nil {
			return nil, fmt.Errorf("%s#%d: not a YAML mapping: %w", file, i, err)
		}
		out = append(out, doc{file: file, index: i, obj: obj})
	}
}

// loadDocs parses every .yaml/.yml file below dir; file names in the result
// are relative to dir.
func loadDocs(dir string) ([]doc, error) {
	var out []doc
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		if ext := filepath.Ext(path); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		data, err := os.ReadFile(filepath.Clean(path))
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		docs, err := parseDocs(filepath.ToSlash(rel), data)
		if err != nil {
			return err
		}
		out = append(out, docs...)
		return nil
	})
	return out, err
}

// readDocs parses one file relative to the repository root.
func readDocs(t testing.TB, path string) []doc {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), path))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := parseDocs(path, data)
	if err != nil {
		t.Fatal(err)
	}
	return docs
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

func list(obj any, keys ...string) []any {
	l, _ := get(obj, keys...).([]any)
	return l
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

// crdNames lists the CRDs in package/provider/crds by name, with their kinds.
func crdNames(t testing.TB) map[string]string {
	t.Helper()
	docs, err := loadDocs(filepath.Join(repoRoot(t), crdsDir))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range docs {
		if d.kind() == "apiextensions.k8s.io/v1 CustomResourceDefinition" {
			out[str(d.obj, "metadata", "name")] = str(d.obj, "spec", "names", "kind")
		}
	}
	if len(out) == 0 {
		t.Fatalf("no CRDs in %s", crdsDir)
	}
	return out
}

// providerConfigKinds are the provider's CRDs that Crossplane keeps as CRDs;
// it turns every other one into a ManagedResourceDefinition.
var providerConfigKinds = []string{"ProviderConfig", "ClusterProviderConfig", "ProviderConfigUsage", "ClusterProviderConfigUsage"}

func isManagedKind(kind string) bool { return !slices.Contains(providerConfigKinds, kind) }
