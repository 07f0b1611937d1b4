package docs

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"sigs.k8s.io/yaml"

	"github.com/gitops-lifecycle/provider-authentik/internal/authentiksim"
)

// read returns a file of this repository.
func read(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file) //nolint:gosec // Paths of this repository, named by the tests.
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	return b
}

// tableRows returns the cells of every Markdown table row in page, keyed by
// the row's first cell; separator rows are left out.
func tableRows(t *testing.T, page string) map[string][]string {
	t.Helper()
	b := read(t, page)
	rows := map[string][]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "|") || strings.HasPrefix(l, "| ---") {
			continue
		}
		cells := strings.Split(strings.Trim(l, "| "), " | ")
		if _, dup := rows[cells[0]]; dup {
			t.Fatalf("%s: two rows named %q", page, cells[0])
		}
		rows[cells[0]] = cells[1:]
	}
	return rows
}

// pins reads NAME=VALUE assignments (shell) or NAME ?= VALUE (make) from file.
func pins(t *testing.T, file string, names ...string) map[string]string {
	t.Helper()
	b := read(t, file)
	out := map[string]string{}
	for _, n := range names {
		m := regexp.MustCompile(`(?m)^` + n + `\s*\??=\s*(\S+)`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s: no %s", file, n)
		}
		out[n] = string(m[1])
	}
	return out
}

// required returns the version go.mod requires of module.
func required(t *testing.T, module string) string {
	t.Helper()
	b := read(t, "../go.mod")
	m := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(module) + ` (\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("go.mod requires no %s", module)
	}
	return string(m[1])
}

// A pkgMeta is what a package's crossplane.yaml declares about its dependencies.
type pkgMeta struct {
	Spec struct {
		Crossplane struct {
			Version string `json:"version"`
		} `json:"crossplane"`
		DependsOn []struct {
			Function string `json:"function"`
			Version  string `json:"version"`
		} `json:"dependsOn"`
	} `json:"spec"`
}

func readMeta(t *testing.T, file string) pkgMeta {
	t.Helper()
	b := read(t, file)
	var m pkgMeta
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	return m
}

// TestCompatibility checks docs/compatibility.md against the versions make
// test runs: the tools cluster/build-tools.sh builds, the Authentik lines
// the Makefile's e2e and the simulator use, go.mod, and the packages'
// declared constraints.
func TestCompatibility(t *testing.T) {
	tools := pins(t, "../cluster/build-tools.sh", "K8S_VERSION", "ETCD_VERSION", "XP_CORE_VERSION",
		"XP_CLI_VERSION", "FN_GOTPL_VERSION", "FN_READY_VERSION")
	e2e := pins(t, "../Makefile", "E2E_OLDEST_AUTHENTIK", "E2E_NEWEST_AUTHENTIK")
	provider := readMeta(t, "../package/provider/crossplane.yaml")
	config := readMeta(t, "../package/configuration/crossplane.yaml")
	if provider.Spec.Crossplane.Version != config.Spec.Crossplane.Version {
		t.Fatalf("the packages need different Crossplane versions: provider %q, configuration %q",
			provider.Spec.Crossplane.Version, config.Spec.Crossplane.Version)
	}
	fn := map[string]string{}
	for _, d := range config.Spec.DependsOn {
		if d.Function != "" {
			fn[d.Function[strings.LastIndex(d.Function, "/")+1:]] = d.Version
		}
	}
	first, last := authentiksim.Lines[0].Name, authentiksim.Lines[len(authentiksim.Lines)-1].Name
	minor := tools["K8S_VERSION"][1:strings.LastIndex(tools["K8S_VERSION"], ".")]

	want := map[string][]string{
		"Component":  {"Supported", "make test runs"},
		"Crossplane": {fmt.Sprintf("`%s`", config.Spec.Crossplane.Version), fmt.Sprintf("core `%s`, CLI (crank) `%s`", tools["XP_CORE_VERSION"], tools["XP_CLI_VERSION"])},
		"Kubernetes": {fmt.Sprintf("`%s` (the line tested)", minor), fmt.Sprintf("`%s`, etcd `%s`", tools["K8S_VERSION"], tools["ETCD_VERSION"])},
		"Authentik": {fmt.Sprintf("`%s` to `%s`", first, last), fmt.Sprintf("simulator lines `%s` to `%s`; `make e2e`: suite on `%s`, examples on `%s`",
			first, last, e2e["E2E_NEWEST_AUTHENTIK"], e2e["E2E_OLDEST_AUTHENTIK"])},
		"function-go-templating": {fmt.Sprintf("`%s`", fn["function-go-templating"]), fmt.Sprintf("`%s`", tools["FN_GOTPL_VERSION"])},
		"function-auto-ready":    {fmt.Sprintf("`%s`", fn["function-auto-ready"]), fmt.Sprintf("`%s`", tools["FN_READY_VERSION"])},
		"crossplane-runtime":     {"(built in)", fmt.Sprintf("`%s`", required(t, "github.com/crossplane/crossplane-runtime/v2"))},
		"goauthentik.io/api/v3":  {"(built in)", fmt.Sprintf("`%s`; the simulator's default line `%s`", required(t, "goauthentik.io/api/v3"), authentiksim.DefaultVersion)},
		"Release line":           {"Schema of"},
	}
	for _, l := range authentiksim.Lines {
		want["`"+l.Name+"`"] = []string{"`" + l.Release + "`"}
	}
	if diff := cmp.Diff(want, tableRows(t, "compatibility.md")); diff != "" {
		t.Errorf("docs/compatibility.md differs from what make test runs (-want +got):\n%s", diff)
	}

	// The e2e lines are the simulator's oldest and newest, as the table says.
	if e2e["E2E_OLDEST_AUTHENTIK"] != first || e2e["E2E_NEWEST_AUTHENTIK"] != last {
		t.Errorf("Makefile e2e lines %s..%s, simulator lines %s..%s", e2e["E2E_OLDEST_AUTHENTIK"], e2e["E2E_NEWEST_AUTHENTIK"], first, last)
	}
	// The API reference links the Kubernetes API docs of the line tested.
	if m := regexp.MustCompile(`(?m)^\s+kubernetesVersion: (\S+)`).FindSubmatch(read(t, "../hack/crd-ref-docs.yaml")); m == nil || string(m[1]) != minor {
		t.Errorf("hack/crd-ref-docs.yaml: want kubernetesVersion %s (cluster/build-tools.sh's K8S_VERSION)", minor)
	}
	// The functions the Configuration needs are at least the versions tested.
	for name, tested := range map[string]string{"function-go-templating": tools["FN_GOTPL_VERSION"], "function-auto-ready": tools["FN_READY_VERSION"]} {
		if fn[name] != ">="+tested {
			t.Errorf("configuration dependsOn %s %q, make test runs %s", name, fn[name], tested)
		}
	}
}

// TestIndex checks that docs/README.md links every page under docs/ and
// that every relative link in it names a file that exists.
func TestIndex(t *testing.T) {
	index := string(read(t, "README.md"))
	linked := map[string]bool{}
	for _, m := range regexp.MustCompile(`\]\(([^)#:]+)(#[^)]*)?\)`).FindAllStringSubmatch(index, -1) {
		linked[m[1]] = true
	}
	var pages []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") && path != "README.md" {
			pages = append(pages, filepath.ToSlash(path))
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk docs: %v", err)
	}
	cases := map[string]struct {
		reason string
		got    []string
	}{
		"PageNotLinked": {
			reason: "Every page under docs/ must be linked from docs/README.md.",
			got:    slices.DeleteFunc(slices.Clone(pages), func(p string) bool { return linked[p] }),
		},
		"LinkToNothing": {
			reason: "Every relative link in docs/README.md must name a file.",
			got: slices.DeleteFunc(slices.Sorted(maps.Keys(linked)), func(p string) bool {
				_, err := os.Stat(p)
				return err == nil
			}),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff([]string(nil), tc.got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\n-want +got:\n%s", tc.reason, diff)
			}
		})
	}
}
