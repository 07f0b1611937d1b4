package pkgtest

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/version"
)

// Packages the layout installs, and the user the image runs as
// (cluster/image/imagebuild).
const (
	providerRepo     = "xpkg.crossplane.io/gitops-lifecycle/provider-authentik"
	functionRepoBase = "xpkg.crossplane.io/crossplane-contrib/"
	imageUID         = 65532
	runtimeContainer = "package-runtime" // the container Crossplane runs a package in
)

// A kindRule says how objects of one kind may appear in examples/gitops.
type kindRule struct {
	namespaced bool   // needs metadata.namespace (and cluster-scoped kinds must not have one)
	crossplane bool   // has a schema `crank beta validate` knows (validate_test.go)
	needs      string // the package kind whose installation brings this kind's CRD
	noMeta     bool   // kustomize's own kustomization.yaml
}

var knownKinds = map[string]kindRule{
	"kustomize.config.k8s.io/v1beta1 Kustomization":                        {noMeta: true},
	"kustomize.toolkit.fluxcd.io/v1 Kustomization":                         {namespaced: true},
	"pkg.crossplane.io/v1 Provider":                                        {crossplane: true},
	"pkg.crossplane.io/v1 Function":                                        {crossplane: true},
	"pkg.crossplane.io/v1 Configuration":                                   {crossplane: true},
	"pkg.crossplane.io/v1beta1 DeploymentRuntimeConfig":                    {crossplane: true},
	"apiextensions.crossplane.io/v1alpha1 ManagedResourceActivationPolicy": {crossplane: true},
	"authentik.m.crossplane.io/v1alpha1 ClusterProviderConfig":             {crossplane: true, needs: "Provider"},
	"gitops.io/v1 ProxyConfig":                                             {namespaced: true, crossplane: true, needs: "Configuration"},
	"external-secrets.io/v1 ExternalSecret":                                {namespaced: true},
	"external-secrets.io/v1 ClusterSecretStore":                            {},
	"monitoring.coreos.com/v1 PrometheusRule":                              {namespaced: true},
	"monitoring.coreos.com/v1 PodMonitor":                                  {namespaced: true},
	"v1 ConfigMap":                                                         {namespaced: true},
	"rbac.authorization.k8s.io/v1 ClusterRole":                             {},
	"rbac.authorization.k8s.io/v1 ClusterRoleBinding":                      {},
}

const fluxKustomization = "kustomize.toolkit.fluxcd.io/v1 Kustomization"

// facts are what the rest of the repository says the layout must match.
type facts struct {
	managedCRDs   []string          // MRD names the activation policy must cover
	providerFlags []string          // flags cmd/provider accepts
	functions     map[string]string // function package (crossplane-contrib/<name>) -> version cluster/build-tools.sh builds
	functionRefs  []string          // function names the Composition calls (if present)
	configName    string            // the Configuration package's meta name (if present)
	configDeps    map[string]string // package -> version constraint it depends on (if present)
}

func loadFacts(t testing.TB) facts {
	t.Helper()
	f := facts{
		functions: map[string]string{
			"function-go-templating": shellVar(t, buildToolsFile, "FN_GOTPL_VERSION"),
			"function-auto-ready":    shellVar(t, buildToolsFile, "FN_READY_VERSION"),
		},
		configDeps: map[string]string{},
	}
	for name, kind := range crdNames(t) {
		if isManagedKind(kind) {
			f.managedCRDs = append(f.managedCRDs, name)
		}
	}
	sort.Strings(f.managedCRDs)

	src, err := os.ReadFile(filepath.Join(repoRoot(t), providerMainFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`app\.Flag\("([a-z0-9-]+)"`).FindAllSubmatch(src, -1) {
		f.providerFlags = append(f.providerFlags, string(m[1]))
	}
	if len(f.providerFlags) == 0 {
		t.Fatalf("found no flags in %s", providerMainFile)
	}

	// The ProxyConfig Configuration is another package; check against it
	// when it is there.
	if _, err := os.Stat(filepath.Join(repoRoot(t), configurationMeta)); err == nil {
		meta := readDocs(t, configurationMeta)[0]
		f.configName = str(meta.obj, "metadata", "name")
		for _, d := range list(meta.obj, "spec", "dependsOn") {
			for _, k := range []string{"provider", "function", "configuration"} {
				if p := str(d, k); p != "" {
					f.configDeps[p] = str(d, "version")
				}
			}
		}
		for _, s := range list(readDocs(t, compositionFile)[0].obj, "spec", "pipeline") {
			f.functionRefs = append(f.functionRefs, str(s, "functionRef", "name"))
		}
	}
	return f
}

// A layout is examples/gitops (or a copy of it) parsed.
type layout struct {
	dir  string
	docs []doc
}

func (l *layout) byKind(kind string) []doc {
	var out []doc
	for _, d := range l.docs {
		if d.kind() == kind {
			out = append(out, d)
		}
	}
	return out
}

// checkLayout runs every check on the layout in dir.
func checkLayout(dir string, f facts) []error {
	docs, err := loadDocs(dir)
	if err != nil {
		return []error{err}
	}
	l := &layout{dir: dir, docs: docs}
	var errs []error
	for _, check := range []func(*layout, facts) []error{
		checkKinds, checkKustomizeResources, checkFluxOrder, checkPackages,
		checkActivation, checkRuntimeConfig, checkTokenSecret, checkDiscoveryRBAC,
	} {
		errs = append(errs, check(l, f)...)
	}
	return errs
}

// checkKinds: every object has a known apiVersion and kind, a name, and a
// namespace exactly when its kind is namespaced.
func checkKinds(l *layout, _ facts) []error {
	var errs []error
	for _, d := range l.docs {
		if str(d.obj, "apiVersion") == "" || str(d.obj, "kind") == "" {
			errs = append(errs, fmt.Errorf("%s: apiVersion and kind are required", d))
			continue
		}
		rule, ok := knownKinds[d.kind()]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: unknown apiVersion and kind %q (a typo, or an old API version?)", d, d.kind()))
			continue
		}
		isKustomizeFile := path.Base(d.file) == "kustomization.yaml"
		if rule.noMeta != isKustomizeFile {
			errs = append(errs, fmt.Errorf("%s: %s belongs in kustomization.yaml files only, and they hold nothing else", d, d.kind()))
		}
		if rule.noMeta {
			continue
		}
		if str(d.obj, "metadata", "name") == "" {
			errs = append(errs, fmt.Errorf("%s: metadata.name is required", d))
		}
		if ns := str(d.obj, "metadata", "namespace"); rule.namespaced != (ns != "") {
			errs = append(errs, fmt.Errorf("%s: %s is namespaced=%v, but metadata.namespace is %q", d, d.kind(), rule.namespaced, ns))
		}
	}
	return errs
}

// checkKustomizeResources: every kustomization.yaml lists files that exist,
// and every manifest next to it is listed (Flux applies only those).
func checkKustomizeResources(l *layout, _ facts) []error {
	var errs []error
	for _, d := range l.byKind("kustomize.config.k8s.io/v1beta1 Kustomization") {
		dir := path.Dir(d.file)
		listed := map[string]bool{}
		for _, r := range list(d.obj, "resources") {
			rs, _ := r.(string)
			p := path.Clean(path.Join(dir, rs))
			listed[p] = true
			if _, err := os.Stat(filepath.Join(l.dir, filepath.FromSlash(p))); err != nil {
				errs = append(errs, fmt.Errorf("%s: resource %q does not exist", d, rs))
			}
		}
		entries, err := os.ReadDir(filepath.Join(l.dir, filepath.FromSlash(dir)))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range entries {
			p := path.Join(dir, e.Name())
			if e.IsDir() || e.Name() == "kustomization.yaml" || (path.Ext(p) != ".yaml" && path.Ext(p) != ".yml") {
				continue
			}
			if !listed[p] {
				errs = append(errs, fmt.Errorf("%s: %s is not listed in resources, so Flux would not apply it", d, e.Name()))
			}
		}
	}
	return errs
}

// fluxApplier maps each manifest outside the Flux Kustomizations' own folder
// to the name of the Flux Kustomization whose path holds it.
func fluxApplier(l *layout) (map[string]string, []error) {
	paths := map[string]string{} // folder (relative to the layout) -> Kustomization name
	var errs []error
	for _, k := range l.byKind(fluxKustomization) {
		p := path.Clean(strings.TrimPrefix(str(k.obj, "spec", "path"), "./"))
		if _, err := os.Stat(filepath.Join(l.dir, filepath.FromSlash(p), "kustomization.yaml")); err != nil {
			errs = append(errs, fmt.Errorf("%s: spec.path %q has no kustomization.yaml", k, str(k.obj, "spec", "path")))
		}
		paths[p] = str(k.obj, "metadata", "name")
	}
	applier := map[string]string{}
	for _, d := range l.docs {
		if d.kind() == fluxKustomization || path.Base(d.file) == "kustomization.yaml" {
			continue
		}
		for dir := path.Dir(d.file); dir != "." && dir != "/"; dir = path.Dir(dir) {
			if name, ok := paths[dir]; ok {
				applier[d.file] = name
				break
			}
		}
		if applier[d.file] == "" {
			errs = append(errs, fmt.Errorf("%s: no Flux Kustomization applies this file", d))
		}
	}
	return applier, errs
}

// dependsOn returns every Kustomization name k depends on, transitively,
// and an error for unknown names and cycles.
func dependsOn(ks map[string]doc, name string, seen []string) ([]string, error) {
	if slices.Contains(seen, name) {
		return nil, fmt.Errorf("dependsOn cycle: %s -> %s", strings.Join(seen, " -> "), name)
	}
	k, ok := ks[name]
	if !ok {
		return nil, fmt.Errorf("dependsOn names %q, which is not a Flux Kustomization of this layout", name)
	}
	var out []string
	for _, d := range list(k.obj, "spec", "dependsOn") {
		dep := str(d, "name")
		out = append(out, dep)
		more, err := dependsOn(ks, dep, append(seen, name))
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// checkFluxOrder: the Flux Kustomizations point at folders of this layout,
// depend on known Kustomizations without cycles, wait for and health-check
// the Crossplane packages they install, and apply an object needing a
// package's CRD only after the package is healthy.
func checkFluxOrder(l *layout, _ facts) []error {
	applier, errs := fluxApplier(l)
	ks := map[string]doc{}
	for _, k := range l.byKind(fluxKustomization) {
		ks[str(k.obj, "metadata", "name")] = k
		if str(k.obj, "spec", "sourceRef", "kind") == "" || str(k.obj, "spec", "sourceRef", "name") == "" {
			errs = append(errs, fmt.Errorf("%s: spec.sourceRef kind and name are required", k))
		}
		if get(k.obj, "spec", "interval") == nil {
			errs = append(errs, fmt.Errorf("%s: spec.interval is required", k))
		}
		if get(k.obj, "spec", "prune") == nil {
			errs = append(errs, fmt.Errorf("%s: spec.prune is required", k))
		}
	}
	deps := map[string][]string{}
	for name, k := range ks {
		d, err := dependsOn(ks, name, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		}
		deps[name] = d
	}

	// Where each package kind is installed.
	installedBy := map[string]string{}
	for _, d := range l.docs {
		if !strings.HasPrefix(d.kind(), "pkg.crossplane.io/v1 ") {
			continue
		}
		kind := str(d.obj, "kind")
		installedBy[kind] = applier[d.file]
		k, ok := ks[applier[d.file]]
		if !ok {
			continue
		}
		if w, _ := get(k.obj, "spec", "wait").(bool); !w {
			errs = append(errs, fmt.Errorf("%s: installs %s %s but does not set wait: true", k, kind, str(d.obj, "metadata", "name")))
		}
		checked := false
		for _, h := range list(k.obj, "spec", "healthCheckExprs") {
			if str(h, "apiVersion") == str(d.obj, "apiVersion") && str(h, "kind") == kind && strings.Contains(str(h, "current"), "Healthy") {
				checked = true
			}
		}
		if !checked {
			errs = append(errs, fmt.Errorf("%s: installs a %s but has no healthCheckExprs for it (Crossplane packages have no Ready condition)", k, kind))
		}
	}
	for _, d := range l.docs {
		rule := knownKinds[d.kind()]
		if rule.needs == "" {
			continue
		}
		by, ok := installedBy[rule.needs]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: needs a %s, and the layout installs none", d, rule.needs))
			continue
		}
		if a := applier[d.file]; a != "" && !slices.Contains(deps[a], by) {
			errs = append(errs, fmt.Errorf("%s: applied by %q, which does not depend on %q that installs the %s bringing its CRD", d, a, by, rule.needs))
		}
	}
	return errs
}

// dependencyName is the name Crossplane's dependency resolver gives a package
// it installs by itself: the package's repository path without the registry,
// "/" turned into "-" (xpkg.ToDNSLabel in crossplane-runtime; our paths are
// lower-case and short, so nothing else of it applies).
func dependencyName(repo string) string {
	_, p, _ := strings.Cut(repo, "/")
	return strings.ReplaceAll(p, "/", "-")
}

// splitPackage splits "registry/org/name:tag".
func splitPackage(pkg string) (repo, tag string) {
	i := strings.LastIndex(pkg, ":")
	if i < 0 || strings.Contains(pkg[i:], "/") {
		return pkg, ""
	}
	return pkg[:i], pkg[i+1:]
}

// satisfies reports whether tag meets a ">=vX.Y.Z" constraint.
func satisfies(tag, constraint string) (bool, error) {
	v, err := version.ParseSemantic(tag)
	if err != nil {
		return false, err
	}
	minimum, ok := strings.CutPrefix(strings.TrimSpace(constraint), ">=")
	if !ok {
		return false, fmt.Errorf("constraint %q is not of the form >=vX.Y.Z", constraint)
	}
	m, err := version.ParseSemantic(strings.TrimSpace(minimum))
	if err != nil {
		return false, err
	}
	return v.AtLeast(m), nil
}

// checkPackages: the packages are the provider's, the functions the local
// control plane builds under the names the Composition calls, and the
// ProxyConfig Configuration, whose dependencies they satisfy.
func checkPackages(l *layout, f facts) []error {
	var errs []error
	installed := map[string]string{} // repo -> tag
	providers := l.byKind("pkg.crossplane.io/v1 Provider")
	if len(providers) != 1 {
		errs = append(errs, fmt.Errorf("want one Provider, found %d", len(providers)))
	}
	for _, d := range l.docs {
		if !strings.HasPrefix(d.kind(), "pkg.crossplane.io/v1 ") {
			continue
		}
		repo, tag := splitPackage(str(d.obj, "spec", "package"))
		if _, err := version.ParseSemantic(tag); err != nil {
			errs = append(errs, fmt.Errorf("%s: spec.package %q needs a semantic version tag: %w", d, str(d.obj, "spec", "package"), err))
		}
		installed[repo] = tag
		name := str(d.obj, "metadata", "name")
		switch str(d.obj, "kind") {
		case "Provider":
			if repo != providerRepo {
				errs = append(errs, fmt.Errorf("%s: spec.package is %s, want %s", d, repo, providerRepo))
			}
		case "Function":
			fn := path.Base(repo)
			want, ok := f.functions[fn]
			if !ok || repo != functionRepoBase+fn {
				errs = append(errs, fmt.Errorf("%s: %s is not a function the ProxyConfig Composition uses", d, repo))
				continue
			}
			if w := functionRepoBase + fn + ":" + want; str(d.obj, "spec", "package") != w {
				errs = append(errs, fmt.Errorf("%s: spec.package is %s, want %s (the version cluster/build-tools.sh builds)", d, str(d.obj, "spec", "package"), w))
			}
			// Under another name, the Configuration's dependency on it would
			// still be met, but the Composition would call a Function that
			// only exists when Crossplane installs it by itself.
			if w := dependencyName(repo); name != w {
				errs = append(errs, fmt.Errorf("%s: named %q, want %q, the name Crossplane gives it as a dependency and the Composition calls", d, name, w))
			}
		case "Configuration":
			if f.configName != "" && path.Base(repo) != f.configName {
				errs = append(errs, fmt.Errorf("%s: spec.package %s should end in %s, the name in %s", d, repo, f.configName, configurationMeta))
			}
		}
	}
	for _, ref := range f.functionRefs {
		if len(l.byKind("pkg.crossplane.io/v1 Function")) > 0 && !slices.ContainsFunc(l.byKind("pkg.crossplane.io/v1 Function"), func(d doc) bool { return str(d.obj, "metadata", "name") == ref }) {
			errs = append(errs, fmt.Errorf("the Composition calls function %q, and no Function of that name is installed", ref))
		}
	}
	for repo, constraint := range f.configDeps {
		tag, ok := installed[repo]
		if !ok {
			errs = append(errs, fmt.Errorf("%s depends on %s, which the layout does not install", configurationMeta, repo))
			continue
		}
		if ok, err := satisfies(tag, constraint); err != nil || !ok {
			errs = append(errs, fmt.Errorf("%s depends on %s %s; the layout installs %s (%v)", configurationMeta, repo, constraint, tag, err))
		}
	}
	return errs
}

// mrapMatches is Crossplane's MRAP matching: an exact name or a "*." prefix
// wildcard.
func mrapMatches(pattern, name string) bool {
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok {
		return strings.HasSuffix(name, suffix)
	}
	return pattern == name
}

// checkActivation: the provider is safe-start, so a policy must activate
// every managed resource kind it ships.
func checkActivation(l *layout, f facts) []error {
	var patterns []string
	for _, d := range l.byKind("apiextensions.crossplane.io/v1alpha1 ManagedResourceActivationPolicy") {
		for _, p := range list(d.obj, "spec", "activate") {
			s, _ := p.(string)
			patterns = append(patterns, s)
		}
	}
	var errs []error
	for _, mrd := range f.managedCRDs {
		if !slices.ContainsFunc(patterns, func(p string) bool { return mrapMatches(p, mrd) }) {
			errs = append(errs, fmt.Errorf("no ManagedResourceActivationPolicy activates %s (activate: %v)", mrd, patterns))
		}
	}
	return errs
}

// checkRuntimeConfig: the Provider uses a DeploymentRuntimeConfig that runs
// the image's non-root user, keeps the metrics port, and passes only flags
// the provider has.
func checkRuntimeConfig(l *layout, f facts) []error {
	var errs []error
	drcs := map[string]doc{}
	for _, d := range l.byKind("pkg.crossplane.io/v1beta1 DeploymentRuntimeConfig") {
		drcs[str(d.obj, "metadata", "name")] = d
	}
	for _, p := range l.byKind("pkg.crossplane.io/v1 Provider") {
		ref := str(p.obj, "spec", "runtimeConfigRef", "name")
		d, ok := drcs[ref]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: spec.runtimeConfigRef.name %q names no DeploymentRuntimeConfig of the layout", p, ref))
			continue
		}
		pod := get(d.obj, "spec", "deploymentTemplate", "spec", "template", "spec")
		if get(pod, "securityContext", "runAsNonRoot") != true {
			errs = append(errs, fmt.Errorf("%s: the pod securityContext must set runAsNonRoot: true", d))
		}
		if uid, _ := get(pod, "securityContext", "runAsUser").(float64); uid != imageUID {
			errs = append(errs, fmt.Errorf("%s: the pod runs as user %v, the image's user is %d", d, get(pod, "securityContext", "runAsUser"), imageUID))
		}
		var c any
		for _, cc := range list(pod, "containers") {
			if str(cc, "name") == runtimeContainer {
				c = cc
			}
		}
		if c == nil {
			errs = append(errs, fmt.Errorf("%s: no container named %s (Crossplane merges the template into that container)", d, runtimeContainer))
			continue
		}
		for _, a := range list(c, "args") {
			s, _ := a.(string)
			flag, _, _ := strings.Cut(strings.TrimPrefix(s, "--"), "=")
			if !strings.HasPrefix(s, "--") || !slices.Contains(f.providerFlags, flag) {
				errs = append(errs, fmt.Errorf("%s: arg %q is not a flag of %s", d, s, providerMainFile))
			}
		}
		metrics := false
		for _, port := range list(c, "ports") {
			if str(port, "name") == "metrics" && get(port, "containerPort") == float64(8080) {
				metrics = true
			}
		}
		if !metrics {
			errs = append(errs, fmt.Errorf("%s: needs the port metrics: 8080 (the provider's metrics)", d))
		}
		if get(c, "securityContext", "allowPrivilegeEscalation") != false {
			errs = append(errs, fmt.Errorf("%s: the container securityContext must set allowPrivilegeEscalation: false", d))
		}
	}
	return errs
}

// checkTokenSecret: the ClusterProviderConfig reads the Secret an
// ExternalSecret writes, from a store the layout defines.
func checkTokenSecret(l *layout, _ facts) []error {
	var errs []error
	stores := map[string]bool{}
	for _, d := range l.byKind("external-secrets.io/v1 ClusterSecretStore") {
		stores[str(d.obj, "metadata", "name")] = true
	}
	type key struct{ ns, name, key string }
	written := map[key]bool{}
	for _, d := range l.byKind("external-secrets.io/v1 ExternalSecret") {
		if str(d.obj, "spec", "secretStoreRef", "kind") != "ClusterSecretStore" || !stores[str(d.obj, "spec", "secretStoreRef", "name")] {
			errs = append(errs, fmt.Errorf("%s: spec.secretStoreRef names no ClusterSecretStore of the layout", d))
		}
		target := str(d.obj, "spec", "target", "name")
		if target == "" {
			target = str(d.obj, "metadata", "name")
		}
		for _, item := range list(d.obj, "spec", "data") {
			written[key{str(d.obj, "metadata", "namespace"), target, str(item, "secretKey")}] = true
		}
	}
	for _, d := range l.byKind("authentik.m.crossplane.io/v1alpha1 ClusterProviderConfig") {
		ref := get(d.obj, "spec", "credentials", "secretRef")
		k := key{str(ref, "namespace"), str(ref, "name"), str(ref, "key")}
		if !written[k] {
			errs = append(errs, fmt.Errorf("%s: no ExternalSecret writes key %q of Secret %s/%s", d, k.key, k.ns, k.name))
		}
	}
	return errs
}

// discoveryNeeds is what route discovery (internal/controller/discovery)
// does beyond the provider's own kinds: group, resource, verb.
var discoveryNeeds = [][3]string{
	{"networking.k8s.io", "ingresses", "get"}, {"networking.k8s.io", "ingresses", "list"}, {"networking.k8s.io", "ingresses", "watch"},
	{"gateway.networking.k8s.io", "httproutes", "get"}, {"gateway.networking.k8s.io", "httproutes", "list"}, {"gateway.networking.k8s.io", "httproutes", "watch"},
	{"networking.k8s.io", "ingresses/finalizers", "update"}, {"gateway.networking.k8s.io", "httproutes/finalizers", "update"},
	{"", "services", "get"},
	{"gitops.io", "proxyconfigs", "get"}, {"gitops.io", "proxyconfigs", "list"}, {"gitops.io", "proxyconfigs", "watch"},
	{"gitops.io", "proxyconfigs", "create"}, {"gitops.io", "proxyconfigs", "patch"}, {"gitops.io", "proxyconfigs", "delete"},
	{"", "events", "create"}, {"", "events", "patch"},
}

// grants reports whether a ClusterRole's rules allow the verb on the
// resource of the group.
func grants(role doc, need [3]string) bool {
	has := func(r any, key, want string) bool {
		return slices.ContainsFunc(list(r, key), func(v any) bool { return v == want || v == "*" })
	}
	return slices.ContainsFunc(list(role.obj, "rules"), func(r any) bool {
		return has(r, "apiGroups", need[0]) && has(r, "resources", need[1]) && has(r, "verbs", need[2])
	})
}

// checkDiscoveryRBAC: a Provider run with --enable-discovery has a fixed
// ServiceAccount name, and a ClusterRole bound to that ServiceAccount grants
// what discovery does; Crossplane grants only the provider's own kinds.
func checkDiscoveryRBAC(l *layout, _ facts) []error {
	drcs := map[string]doc{}
	for _, d := range l.byKind("pkg.crossplane.io/v1beta1 DeploymentRuntimeConfig") {
		drcs[str(d.obj, "metadata", "name")] = d
	}
	roles := map[string]doc{}
	for _, d := range l.byKind("rbac.authorization.k8s.io/v1 ClusterRole") {
		roles[str(d.obj, "metadata", "name")] = d
	}
	var errs []error
	for _, p := range l.byKind("pkg.crossplane.io/v1 Provider") {
		d, ok := drcs[str(p.obj, "spec", "runtimeConfigRef", "name")]
		if !ok {
			continue // checkRuntimeConfig reports it
		}
		discovery := false
		for _, c := range list(d.obj, "spec", "deploymentTemplate", "spec", "template", "spec", "containers") {
			discovery = discovery || (str(c, "name") == runtimeContainer && slices.Contains(list(c, "args"), any("--enable-discovery")))
		}
		if !discovery {
			continue
		}
		sa := str(d.obj, "spec", "serviceAccountTemplate", "metadata", "name")
		if sa == "" {
			errs = append(errs, fmt.Errorf("%s: runs --enable-discovery but sets no spec.serviceAccountTemplate.metadata.name, so no binding can name the ServiceAccount that needs discovery's permissions", d))
			continue
		}
		var bound []doc
		for _, b := range l.byKind("rbac.authorization.k8s.io/v1 ClusterRoleBinding") {
			role, ok := roles[str(b.obj, "roleRef", "name")]
			if ok && str(b.obj, "roleRef", "kind") == "ClusterRole" && slices.ContainsFunc(list(b.obj, "subjects"), func(s any) bool {
				return str(s, "kind") == "ServiceAccount" && str(s, "name") == sa
			}) {
				bound = append(bound, role)
			}
		}
		for _, need := range discoveryNeeds {
			if !slices.ContainsFunc(bound, func(r doc) bool { return grants(r, need) }) {
				errs = append(errs, fmt.Errorf("%s: runs --enable-discovery, and no ClusterRole bound to ServiceAccount %s grants %s on %s in API group %q", d, sa, need[2], need[1], need[0]))
			}
		}
	}
	return errs
}

func TestGitopsLayout(t *testing.T) {
	errs := checkLayout(filepath.Join(repoRoot(t), gitopsDir), loadFacts(t))
	for _, err := range errs {
		t.Error(err)
	}
}

func TestGitopsFluxOrder(t *testing.T) {
	docs, err := loadDocs(filepath.Join(repoRoot(t), gitopsDir))
	if err != nil {
		t.Fatal(err)
	}
	l := &layout{dir: filepath.Join(repoRoot(t), gitopsDir), docs: docs}
	got := map[string][]string{}
	for _, k := range l.byKind(fluxKustomization) {
		var deps []string
		for _, d := range list(k.obj, "spec", "dependsOn") {
			deps = append(deps, str(d, "name"))
		}
		got[str(k.obj, "metadata", "name")] = deps
	}
	want := map[string][]string{
		"crossplane-providers": nil,
		"crossplane-configs":   {"crossplane-providers"},
		"apps":                 {"crossplane-configs"},
		// Beside the chain: alerts must work while the provider installs.
		"monitoring-provider-authentik": nil,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Flux Kustomizations and their dependsOn: got %v, want %v", got, want)
	}
}

// TestGitopsAppIsTheSeed: the layout's one app is the seed's ProxyConfig of
// examples/proxyconfig. examples/gitops keeps its own file so it can be
// copied into a Flux repository on its own; the two objects must not drift.
func TestGitopsAppIsTheSeed(t *testing.T) {
	const (
		seed = "examples/proxyconfig/longhorn-proxy.yaml"
		app  = gitopsDir + "/apps/longhorn-proxy.yaml"
	)
	want, got := readDocs(t, seed), readDocs(t, app)
	if len(want) != 1 || len(got) != 1 {
		t.Fatalf("%s has %d objects, %s has %d: want one each", seed, len(want), app, len(got))
	}
	if diff := cmp.Diff(want[0].obj, got[0].obj); diff != "" {
		t.Errorf("%s differs from %s: -seed, +app:\n%s", app, seed, diff)
	}
}

// copyDir copies the regular files below src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(filepath.Clean(p))
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGitopsBrokenLayoutsFail breaks a copy of examples/gitops in one place
// at a time and expects the checks to say so.
func TestGitopsBrokenLayoutsFail(t *testing.T) {
	const (
		providers = "infrastructure/crossplane-providers/"
		configs   = "infrastructure/crossplane-configs/"
	)
	cases := map[string]struct {
		reason   string
		file     string // relative to examples/gitops
		old, new string // text to replace; old "" writes new as the whole file
		want     string // part of an error
	}{
		"MalformedYAML": {
			reason: "A file that is not well-formed YAML fails to parse.",
			file:   configs + "clusterproviderconfig.yaml", old: "  requestTimeout: 30s", new: "  requestTimeout: [30s",
			want: "clusterproviderconfig.yaml#0",
		},
		"DuplicateKey": {
			reason: "A key given twice is an error, not a silent override.",
			file:   providers + "provider.yaml", old: "  revisionHistoryLimit: 1\n", new: "  revisionHistoryLimit: 1\n  revisionHistoryLimit: 2\n",
			want: "not well-formed YAML",
		},
		"MissingKind": {
			reason: "Every object needs apiVersion and kind.",
			file:   configs + "configuration.yaml", old: "kind: Configuration\n", new: "",
			want: "apiVersion and kind are required",
		},
		"OldExternalSecretsAPI": {
			reason: "An apiVersion this layout does not target is reported.",
			file:   configs + "authentik-token.yaml", old: "external-secrets.io/v1\n", new: "external-secrets.io/v1beta1\n",
			want: "unknown apiVersion and kind",
		},
		"NamespaceOnClusterScoped": {
			reason: "A ClusterProviderConfig is cluster-scoped.",
			file:   configs + "clusterproviderconfig.yaml", old: "  name: default\n", new: "  name: default\n  namespace: crossplane-system\n",
			want: "namespaced=false",
		},
		"ResourceMissing": {
			reason: "kustomization.yaml may only list files that exist.",
			file:   providers + "kustomization.yaml", old: "- functions.yaml\n", new: "- functions.yaml\n- function.yaml\n",
			want: `resource "function.yaml" does not exist`,
		},
		"FileNotListed": {
			reason: "A manifest its kustomization.yaml does not list would never be applied.",
			file:   providers + "kustomization.yaml", old: "- activation-policy.yaml\n", new: "",
			want: "activation-policy.yaml is not listed",
		},
		"WrongOrder": {
			reason: "ProxyConfigs applied before the Configuration is healthy would be refused.",
			file:   "clusters/homelab/apps.yaml", old: "  - name: crossplane-configs\n", new: "  - name: crossplane-providers\n",
			want: `does not depend on "crossplane-configs"`,
		},
		"DependencyCycle": {
			reason: "A dependsOn cycle would block every Kustomization in it.",
			file:   "clusters/homelab/crossplane-providers.yaml", old: "  interval: 30m\n", new: "  dependsOn:\n  - name: apps\n  interval: 30m\n",
			want: "dependsOn cycle",
		},
		"NoHealthCheck": {
			reason: "Without healthCheckExprs Flux would call the provider ready at once.",
			file:   "clusters/homelab/crossplane-providers.yaml", old: "    kind: Provider\n", new: "    kind: Providers\n",
			want: "no healthCheckExprs",
		},
		"FunctionVersion": {
			reason: "Functions run the versions the Composition is tested with.",
			file:   providers + "functions.yaml", old: "function-auto-ready:v0.7.0", new: "function-auto-ready:v0.6.0",
			want: "the version cluster/build-tools.sh builds",
		},
		"FunctionRenamed": {
			reason: "The Composition calls the functions by the names Crossplane gives them as dependencies.",
			file:   providers + "functions.yaml", old: "  name: crossplane-contrib-function-go-templating\n", new: "  name: function-go-templating\n",
			want: `named "function-go-templating", want "crossplane-contrib-function-go-templating"`,
		},
		"OtherFunction": {
			reason: "Only the functions the Composition calls belong in the layout.",
			file:   providers + "functions.yaml", old: "crossplane-contrib/function-go-templating:v0.4.1", new: "crossplane-contrib/function-kcl:v0.4.1",
			want: "is not a function the ProxyConfig Composition uses",
		},
		"ActivationTooNarrow": {
			reason: "A safe-start provider runs nothing its policy does not activate.",
			file:   providers + "activation-policy.yaml", old: `"*.authentik.m.crossplane.io"`, new: "proxyproviders.authentik.m.crossplane.io",
			want: "no ManagedResourceActivationPolicy activates",
		},
		"RootUser": {
			reason: "The runtime config keeps the image's non-root user.",
			file:   providers + "runtimeconfig.yaml", old: "            runAsUser: 65532\n            runAsGroup: 65532\n            seccompProfile", new: "            runAsUser: 0\n            runAsGroup: 65532\n            seccompProfile",
			want: "the pod runs as user 0",
		},
		"UnknownFlag": {
			reason: "An arg the provider does not know would crash it at start.",
			file:   providers + "runtimeconfig.yaml", old: "--poll=1m", new: "--poll-interval=1m",
			want: `arg "--poll-interval=1m" is not a flag`,
		},
		"DiscoveryWithoutServiceAccountName": {
			reason: "Without a fixed ServiceAccount name, Crossplane names it after each revision and the binding misses it.",
			file:   providers + "runtimeconfig.yaml", old: "  serviceAccountTemplate:\n    metadata:\n      name: provider-authentik\n", new: "",
			want: "sets no spec.serviceAccountTemplate.metadata.name",
		},
		"DiscoveryCannotDelete": {
			reason: "Discovery deletes the ProxyConfig of a route that is no longer annotated.",
			file:   providers + "discovery-rbac.yaml", old: "verbs: [get, list, watch, create, patch, delete]", new: "verbs: [get, list, watch, create, patch]",
			want: `grants delete on proxyconfigs in API group "gitops.io"`,
		},
		"DiscoveryBindingToOtherAccount": {
			reason: "The binding must name the ServiceAccount the DeploymentRuntimeConfig names.",
			file:   providers + "discovery-rbac.yaml", old: "  name: provider-authentik\n  namespace: crossplane-system", new: "  name: provider-authentik-old\n  namespace: crossplane-system",
			want: "no ClusterRole bound to ServiceAccount provider-authentik grants get on ingresses",
		},
		"TokenKeyMismatch": {
			reason: "The ClusterProviderConfig must read the key the ExternalSecret writes.",
			file:   configs + "clusterproviderconfig.yaml", old: "      key: token\n", new: "      key: api-token\n",
			want: `no ExternalSecret writes key "api-token"`,
		},
	}
	src := filepath.Join(repoRoot(t), gitopsDir)
	f := loadFacts(t)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, src, dir)
			p := filepath.Join(dir, filepath.FromSlash(tc.file))
			b, err := os.ReadFile(filepath.Clean(p))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), tc.old) {
				t.Fatalf("%s no longer contains %q: update this case", tc.file, tc.old)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(b), tc.old, tc.new, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			errs := checkLayout(dir, f)
			i := slices.IndexFunc(errs, func(err error) bool { return strings.Contains(err.Error(), tc.want) })
			if i < 0 {
				t.Fatalf("%s\nwant an error containing %q, got %v", tc.reason, tc.want, errs)
			}
			t.Logf("rejected: %v", errs[i])
		})
	}
}
