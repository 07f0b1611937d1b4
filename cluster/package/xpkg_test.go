//go:build xpkg

package pkgtest

import (
	"archive/tar"
	"bytes"
	"crypto/x509"
	"debug/elf"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// What Crossplane and the image builder promise (cluster/image/imagebuild; the xpkg
// format of crossplane/crossplane internal/xpkg).
const (
	entrypoint       = "/usr/local/bin/provider"
	caBundle         = "/etc/ssl/certs/ca-certificates.crt"
	xpkgAnnotation   = "io.crossplane.xpkg"
	baseLayer        = "base"    // the layer holding package.yaml
	examplesLayer    = "upbound" // the examples layer; Crossplane kept the historical value
	packageFile      = "package.yaml"
	examplesFile     = ".up/examples.yaml"
	defaultVersion   = "v0.1.0-dev"
	providerMetaName = "provider-authentik"
)

// artifacts are the paths `make image xpkg` writes for VERSION.
func artifacts(t testing.TB) (version, image, xpkg string) {
	t.Helper()
	version = os.Getenv("VERSION")
	if version == "" {
		version = defaultVersion
	}
	out := os.Getenv("OUTPUT")
	if out == "" {
		out = filepath.Join(repoRoot(t), "_output")
	}
	image = filepath.Join(out, "image", "provider-authentik-"+version+".tar")
	xpkg = filepath.Join(out, "xpkg", "provider-authentik-"+version+".xpkg")
	for _, p := range []string{image, xpkg} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s missing: run make image xpkg (VERSION=%s)", p, version)
		}
	}
	return version, image, xpkg
}

func loadImage(t testing.TB, path string) v1.Image {
	t.Helper()
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// fsEntry is a file or directory of an image's flattened file system.
type fsEntry struct {
	hdr  *tar.Header
	data []byte // contents of regular files
}

// flatten reads an image's file system as the container runtime would see it.
func flatten(t testing.TB, img v1.Image) map[string]fsEntry {
	t.Helper()
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	out := map[string]fsEntry{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var data []byte
		if h.Typeflag == tar.TypeReg {
			if data, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
		out["/"+strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")] = fsEntry{hdr: h, data: data}
	}
}

// layerFiles lists the files in one layer, with their contents.
func layerFiles(t testing.TB, l v1.Layer) map[string][]byte {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	out := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			out[h.Name] = b
		}
	}
}

// checkRuntime checks what makes img run as the provider: config and files.
func checkRuntime(t *testing.T, img v1.Image, version string) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("config User = %q, want 65532:65532 (non-root)", c.User)
	}
	if diff := cmp.Diff([]string{entrypoint}, c.Entrypoint); diff != "" {
		t.Errorf("config Entrypoint: -want, +got:\n%s", diff)
	}
	ports := make([]string, 0, len(c.ExposedPorts))
	for p := range c.ExposedPorts {
		ports = append(ports, p)
	}
	sort.Strings(ports)
	if diff := cmp.Diff([]string{"8080/tcp", "8081/tcp"}, ports); diff != "" {
		t.Errorf("config ExposedPorts (metrics, probes): -want, +got:\n%s", diff)
	}
	if cf.OS != "linux" || cf.Architecture == "" {
		t.Errorf("platform = %s/%s, want linux/<arch>", cf.OS, cf.Architecture)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.title":    "provider-authentik",
		"org.opencontainers.image.version":  version,
		"org.opencontainers.image.source":   "https://github.com/gitops-lifecycle/provider-authentik",
		"org.opencontainers.image.licenses": "Apache-2.0",
	} {
		if got := c.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}

	fs := flatten(t, img)
	bin, ok := fs[entrypoint]
	if !ok || bin.hdr.Typeflag != tar.TypeReg {
		t.Fatalf("no regular file at the entrypoint %s", entrypoint)
	}
	if bin.hdr.Mode&0o111 == 0 || bin.hdr.Mode&0o022 != 0 || bin.hdr.Uid != 0 {
		t.Errorf("%s: mode %o owner %d, want executable, not group/world-writable, owned by root", entrypoint, bin.hdr.Mode, bin.hdr.Uid)
	}
	f, err := elf.NewFile(bytes.NewReader(bin.data))
	if err != nil {
		t.Fatalf("%s is not an ELF binary: %v", entrypoint, err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked; the image has no C library", entrypoint)
		}
	}
	if !strings.Contains(string(fs["/etc/passwd"].data), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no nonroot user 65532:\n%s", fs["/etc/passwd"].data)
	}
	if !strings.Contains(string(fs["/etc/group"].data), "nonroot:x:65532:") {
		t.Errorf("/etc/group has no nonroot group 65532:\n%s", fs["/etc/group"].data)
	}
	if h := fs["/home/nonroot"].hdr; h == nil || h.Uid != 65532 {
		t.Errorf("/home/nonroot should exist, owned by 65532")
	}
	if h := fs["/tmp"].hdr; h == nil || h.Mode&0o1777 != 0o1777 {
		t.Errorf("/tmp should exist with mode 1777")
	}
	n := 0
	for rest := fs[caBundle].data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if _, err := x509.ParseCertificate(b.Bytes); err == nil {
			n++
		}
	}
	if n < 10 {
		t.Errorf("%s holds %d certificates, want the system bundle", caBundle, n)
	}
	t.Logf("runtime: user %s, entrypoint %v, ports %v, %d files, %d CA certificates, %s/%s", c.User, c.Entrypoint, ports, len(fs), n, cf.OS, cf.Architecture)
}

func TestRuntimeImage(t *testing.T) {
	version, image, _ := artifacts(t)
	checkRuntime(t, loadImage(t, image), version)
}

// xpkgLabelled returns, by annotation value, the digests of the layers an
// .xpkg tarball labels (crank stores layer annotations as config labels
// until it pushes).
func xpkgLabelled(t testing.TB, img v1.Image) map[string][]v1.Hash {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]v1.Hash{}
	for k, v := range cf.Config.Labels {
		d, ok := strings.CutPrefix(k, xpkgAnnotation+":")
		if !ok {
			continue
		}
		h, err := v1.NewHash(d)
		if err != nil {
			t.Fatalf("label %s: %v", k, err)
		}
		out[v] = append(out[v], h)
	}
	return out
}

func TestXpkgEmbedsTheRuntimeImage(t *testing.T) {
	version, image, xpkg := artifacts(t)
	rt, pkg := loadImage(t, image), loadImage(t, xpkg)
	rtLayers, err := rt.Layers()
	if err != nil {
		t.Fatal(err)
	}
	pkgLayers, err := pkg.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgLayers) != len(rtLayers)+2 {
		t.Fatalf("the xpkg has %d layers, want the runtime's %d + package.yaml + examples", len(pkgLayers), len(rtLayers))
	}
	for i, l := range rtLayers {
		want, _ := l.Digest()
		got, _ := pkgLayers[i].Digest()
		if want != got {
			t.Errorf("xpkg layer %d is %s, want the runtime image's %s", i, got, want)
		}
	}
	// The package is also the runtime: Crossplane runs the xpkg image itself.
	checkRuntime(t, pkg, version)
}

func TestXpkgLayers(t *testing.T) {
	_, _, xpkg := artifacts(t)
	img := loadImage(t, xpkg)
	labelled := xpkgLabelled(t, img)
	if len(labelled[baseLayer]) != 1 || len(labelled[examplesLayer]) != 1 || len(labelled) != 2 {
		t.Fatalf("want one layer labelled %s=%s and one %s=%s, got %v", xpkgAnnotation, baseLayer, xpkgAnnotation, examplesLayer, labelled)
	}
	base, err := img.LayerByDigest(labelled[baseLayer][0])
	if err != nil {
		t.Fatal(err)
	}
	files := layerFiles(t, base)
	if len(files) != 1 || files[packageFile] == nil {
		t.Fatalf("the %s layer should hold %s only, holds %v", baseLayer, packageFile, slices.Sorted(maps.Keys(files)))
	}
	checkPackageYAML(t, files[packageFile])

	ex, err := img.LayerByDigest(labelled[examplesLayer][0])
	if err != nil {
		t.Fatal(err)
	}
	files = layerFiles(t, ex)
	if len(files) != 1 || files[examplesFile] == nil {
		t.Fatalf("the examples layer should hold %s only, holds %v", examplesFile, slices.Sorted(maps.Keys(files)))
	}
	checkExamples(t, files[examplesFile])
}

// checkPackageYAML: the Provider meta of package/provider/crossplane.yaml,
// then every CRD of package/provider/crds unchanged, and nothing else (no
// Configuration, XRD or Composition from the sibling package/configuration).
func checkPackageYAML(t *testing.T, data []byte) {
	t.Helper()
	docs, err := parseDocs(packageFile, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatalf("%s is empty", packageFile)
	}
	meta := docs[0]
	want := readDocs(t, providerMetaFile)[0]
	if meta.kind() != "meta.pkg.crossplane.io/v1 Provider" || str(meta.obj, "metadata", "name") != providerMetaName {
		t.Errorf("%s starts with %s, want the Provider meta %s", packageFile, meta, providerMetaName)
	}
	if diff := cmp.Diff(want.obj["spec"], meta.obj["spec"]); diff != "" {
		t.Errorf("Provider meta spec differs from %s: -want, +got:\n%s", providerMetaFile, diff)
	}
	if caps := list(meta.obj, "spec", "capabilities"); !slices.Contains(caps, any("safe-start")) {
		t.Errorf("Provider meta capabilities %v, want safe-start", caps)
	}

	wantCRDs := map[string]extv1.CustomResourceDefinitionSpec{}
	crdDocs, err := loadDocs(filepath.Join(repoRoot(t), crdsDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range crdDocs {
		wantCRDs[str(d.obj, "metadata", "name")] = crdSpec(t, d.obj)
	}
	got := map[string]extv1.CustomResourceDefinitionSpec{}
	for _, d := range docs[1:] {
		if d.kind() != "apiextensions.k8s.io/v1 CustomResourceDefinition" {
			t.Errorf("%s holds %s: only the provider's CRDs belong there (package/configuration leaked in?)", packageFile, d)
			continue
		}
		got[str(d.obj, "metadata", "name")] = crdSpec(t, d.obj)
	}
	if diff := cmp.Diff(wantCRDs, got); diff != "" {
		t.Errorf("CRDs in %s differ from %s: -want, +got:\n%s", packageFile, crdsDir, diff)
	}
	t.Logf("%s: Provider %s (capabilities %v) + %d CRDs", packageFile, str(meta.obj, "metadata", "name"), list(meta.obj, "spec", "capabilities"), len(got))
}

func crdSpec(t testing.TB, obj map[string]any) extv1.CustomResourceDefinitionSpec {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var crd extv1.CustomResourceDefinition
	if err := sigsyaml.Unmarshal(b, &crd); err != nil {
		t.Fatal(err)
	}
	return crd.Spec
}

// checkExamples: the provider's own examples, not the Configuration's ProxyConfigs
// nor the Flux layout.
func checkExamples(t *testing.T, data []byte) {
	t.Helper()
	docs, err := parseDocs(examplesFile, data)
	if err != nil {
		t.Fatal(err)
	}
	var want []doc
	for _, pattern := range []string{"examples/*.yaml", "examples/import/*.yaml"} {
		files, _ := filepath.Glob(filepath.Join(repoRoot(t), pattern))
		for _, f := range files {
			rel, _ := filepath.Rel(repoRoot(t), f)
			want = append(want, readDocs(t, rel)...)
		}
	}
	kinds := func(ds []doc) []string {
		out := make([]string, 0, len(ds))
		for _, d := range ds {
			out = append(out, d.kind()+" "+str(d.obj, "metadata", "name"))
		}
		sort.Strings(out)
		return out
	}
	if diff := cmp.Diff(kinds(want), kinds(docs)); diff != "" {
		t.Errorf("examples in the package differ from examples/*.yaml and examples/import/: -want, +got:\n%s", diff)
	}
	for _, d := range docs {
		if g := str(d.obj, "apiVersion"); !strings.HasPrefix(g, "authentik.m.crossplane.io/") && g != "v1" {
			t.Errorf("example %s is not the provider's", d)
		}
	}
	t.Logf("%s: %d examples", examplesFile, len(docs))
}

// TestXpkgPushedLayerAnnotations pushes the .xpkg with `crank xpkg push` to
// an in-process registry and reads the manifest the way Crossplane does:
// package.yaml from the layer annotated io.crossplane.xpkg: base.
func TestXpkgPushedLayerAnnotations(t *testing.T) {
	version, _, xpkg := artifacts(t)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/gitops-lifecycle/provider-authentik:" + version
	if out, err := exec.Command(crankBin(t), "xpkg", "push", "-f", xpkg, ref).CombinedOutput(); err != nil {
		t.Fatalf("crank xpkg push: %v\n%s", err, out)
	}
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var base v1.Hash
	for _, l := range m.Layers {
		got = append(got, l.Annotations[xpkgAnnotation])
		if l.Annotations[xpkgAnnotation] == baseLayer {
			base = l.Digest
		}
	}
	if diff := cmp.Diff([]string{"", "", "", baseLayer, examplesLayer}, got); diff != "" {
		t.Errorf("pushed layer annotations %s (runtime layers have none): -want, +got:\n%s", xpkgAnnotation, diff)
	}
	l, err := img.LayerByDigest(base)
	if err != nil {
		t.Fatal(err)
	}
	checkPackageYAML(t, layerFiles(t, l)[packageFile])
	d, _ := img.Digest()
	t.Logf("pushed %s@%s; layer annotations %q", ref, d, got)
}

// TestXpkgBinaryRuns runs the provider binary out of the package.
func TestXpkgBinaryRuns(t *testing.T) {
	_, _, xpkg := artifacts(t)
	img := loadImage(t, xpkg)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Architecture != runtime.GOARCH {
		t.Skipf("the package is for %s, this machine is %s", cf.Architecture, runtime.GOARCH)
	}
	bin := filepath.Join(t.TempDir(), "provider")
	if err := os.WriteFile(bin, flatten(t, img)[entrypoint].data, 0o700); err != nil { //nolint:gosec // an executable on purpose
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --help: %v\n%s", entrypoint, err, out)
	}
	for _, want := range []string{"Crossplane provider for Authentik", "--metrics-bind-address", "--health-probe-bind-address"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("%s --help does not mention %q:\n%s", entrypoint, want, out)
		}
	}
	t.Logf("%s --help: %s", entrypoint, strings.SplitN(string(out), "\n", 2)[0])
}

// configurationXpkg is the path `make xpkg` writes the ProxyConfig
// Configuration's package to for VERSION.
func configurationXpkg(t testing.TB) string {
	t.Helper()
	version, _, xpkg := artifacts(t)
	p := filepath.Join(filepath.Dir(xpkg), "configuration-authentik-proxyconfig-"+version+".xpkg")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s missing: run make xpkg (VERSION=%s)", p, version)
	}
	return p
}

// TestConfigurationXpkgLayers: the Configuration's package is metadata only
// (no runtime), its package.yaml is package/configuration as it is (meta, XRD,
// Composition, nothing of the provider) and its examples are
// examples/proxyconfig's ProxyConfigs.
func TestConfigurationXpkgLayers(t *testing.T) {
	img := loadImage(t, configurationXpkg(t))
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	labelled := xpkgLabelled(t, img)
	if len(layers) != 2 || len(labelled[baseLayer]) != 1 || len(labelled[examplesLayer]) != 1 || len(labelled) != 2 {
		t.Fatalf("want two layers, one labelled %s=%s and one %s=%s; got %d layers labelled %v", xpkgAnnotation, baseLayer, xpkgAnnotation, examplesLayer, len(layers), labelled)
	}
	base, err := img.LayerByDigest(labelled[baseLayer][0])
	if err != nil {
		t.Fatal(err)
	}
	files := layerFiles(t, base)
	if len(files) != 1 || files[packageFile] == nil {
		t.Fatalf("the %s layer should hold %s only, holds %v", baseLayer, packageFile, slices.Sorted(maps.Keys(files)))
	}
	docs, err := parseDocs(packageFile, files[packageFile])
	if err != nil {
		t.Fatal(err)
	}
	// By kind and name, the specs (crank adds an empty status and
	// creationTimestamp).
	objects := func(ds []doc) map[string]any {
		out := map[string]any{}
		for _, d := range ds {
			out[d.kind()+" "+str(d.obj, "metadata", "name")] = d.obj["spec"]
		}
		return out
	}
	var want []doc
	for _, f := range []string{configurationMeta, xrdFile, compositionFile, oidcXRDFile, oidcCompositionFile} {
		want = append(want, readDocs(t, f)...)
	}
	if len(docs) == 0 || docs[0].kind() != "meta.pkg.crossplane.io/v1 Configuration" {
		t.Errorf("%s does not start with the Configuration meta", packageFile)
	}
	if diff := cmp.Diff(objects(want), objects(docs)); diff != "" {
		t.Errorf("%s differs from package/configuration: -want, +got:\n%s", packageFile, diff)
	}

	ex, err := img.LayerByDigest(labelled[examplesLayer][0])
	if err != nil {
		t.Fatal(err)
	}
	files = layerFiles(t, ex)
	if len(files) != 1 || files[examplesFile] == nil {
		t.Fatalf("the examples layer should hold %s only, holds %v", examplesFile, slices.Sorted(maps.Keys(files)))
	}
	examples, err := parseDocs(examplesFile, files[examplesFile])
	if err != nil {
		t.Fatal(err)
	}
	proxyConfigs, _ := filepath.Glob(filepath.Join(repoRoot(t), "examples", "proxyconfig", "*.yaml"))
	want = nil
	for _, f := range proxyConfigs {
		rel, _ := filepath.Rel(repoRoot(t), f)
		want = append(want, readDocs(t, rel)...)
	}
	if diff := cmp.Diff(objects(want), objects(examples)); diff != "" {
		t.Errorf("examples in the Configuration's package differ from examples/proxyconfig: -want, +got:\n%s", diff)
	}
	t.Logf("%s: %d objects; %s: %d ProxyConfigs", packageFile, len(docs), examplesFile, len(examples))
}
