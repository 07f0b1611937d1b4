//go:build xpkg

package pkgtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const (
	brokenFixture        = "cluster/package/testdata/broken-crossplane.yaml"
	brokenManagedFixture = "cluster/package/testdata/broken-managed.yaml"
)

// crankBin is the Crossplane CLI built by `make tools`.
func crankBin(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("TOOLS_BIN")
	if bin == "" {
		bin = filepath.Join(repoRoot(t), "_output", "bin")
	}
	p := filepath.Join(bin, "crank")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s missing: run make tools (cluster/build-tools.sh crossplane)", p)
	}
	return p
}

// seedValidateCache puts Crossplane's own CRDs where `crank beta validate`
// looks for the Crossplane image, so it needs no network (like
// seed_validate_cache in cluster/local/lib.sh). It returns the image name to
// pass as --crossplane-image.
func seedValidateCache(t testing.TB, cache string) string {
	t.Helper()
	work := filepath.Join(repoRoot(t), "cluster", ".work", "crossplane-crds")
	v, err := os.ReadFile(filepath.Join(work, "VERSION"))
	if err != nil {
		t.Fatalf("%v: run cluster/build-tools.sh crossplane", err)
	}
	ver := strings.TrimSpace(string(v))
	files, err := filepath.Glob(filepath.Join(work, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Crossplane CRDs in %s: run cluster/build-tools.sh crossplane", work)
	}
	var buf bytes.Buffer
	for _, f := range files {
		b, err := os.ReadFile(filepath.Clean(f))
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteString("\n---\n")
	}
	dir := filepath.Join(cache, "local", "crossplane-crds@"+ver)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package.yaml"), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return "local/crossplane-crds:" + ver
}

// crankValidate validates resources (comma-separated files) against
// Crossplane's CRDs, the provider's CRDs and the ProxyConfig XRD. Missing
// schemas are errors.
func crankValidate(t testing.TB, resources string) (string, error) {
	t.Helper()
	root := repoRoot(t)
	cache := t.TempDir()
	image := seedValidateCache(t, cache)
	extensions := filepath.Join(root, crdsDir) + "," + filepath.Join(root, xrdFile)
	cmd := exec.Command(crankBin(t), "beta", "validate", extensions, resources,
		"--cache-dir="+cache, "--crossplane-image="+image, "--error-on-missing-schemas")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestGitopsCrossplaneKindsValidate(t *testing.T) {
	docs, err := loadDocs(filepath.Join(repoRoot(t), gitopsDir))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n := 0
	for _, d := range docs {
		if !knownKinds[d.kind()].crossplane {
			continue
		}
		j, err := json.Marshal(d.obj) // JSON is YAML
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(j)
		buf.WriteString("\n---\n")
		n++
	}
	if n < 8 {
		t.Fatalf("found %d Crossplane objects in %s, want at least 8", n, gitopsDir)
	}
	f := filepath.Join(t.TempDir(), "gitops-crossplane.yaml")
	if err := os.WriteFile(f, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := crankValidate(t, f)
	t.Logf("crank beta validate:\n%s", out)
	if err != nil {
		t.Fatalf("crank beta validate rejected %s: %v", gitopsDir, err)
	}
	if want := fmt.Sprintf("Total %d resources: 0 missing schemas, %d success cases, 0 failure cases", n, n); !strings.Contains(out, want) {
		t.Errorf("want %q in the output", want)
	}
}

func TestGitopsBrokenCrossplaneManifestFails(t *testing.T) {
	out, err := crankValidate(t, filepath.Join(repoRoot(t), brokenFixture))
	t.Logf("crank beta validate:\n%s", out)
	if err == nil {
		t.Fatalf("crank beta validate accepted %s", brokenFixture)
	}
	for _, want := range []string{
		`unknown field: "pakage"`,
		`spec.activate in body should have at least 1 items`,
		`spec.credentials.source: Unsupported value: "OnePassword"`,
		`spec.authentikConfig.mode: Unsupported value: "forward-single"`,
		`Total 4 resources: 0 missing schemas, 0 success cases, 4 failure cases`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in the output", want)
		}
	}
}

// TestBrokenManagedManifestsFail: the managed kinds' CRDs refuse bad
// manifests at apply, naming the field at fault.
func TestBrokenManagedManifestsFail(t *testing.T) {
	out, err := crankValidate(t, filepath.Join(repoRoot(t), brokenManagedFixture))
	t.Logf("crank beta validate:\n%s", out)
	if err == nil {
		t.Fatalf("crank beta validate accepted %s", brokenManagedFixture)
	}
	for _, want := range []string{
		`CertificateKeyPair, no-secret : spec: Invalid value: spec.forProvider.tlsSecretRef is required unless managementPolicies only observe`,
		`CertificateKeyPair, empty-name : spec.forProvider.name: Invalid value: "": spec.forProvider.name in body should be at least 1 chars long`,
		`CertificateKeyPair, secret-without-name : spec.forProvider.tlsSecretRef.name: Required value`,
		`OAuth2Provider, signing-key-twice : spec: Invalid value: spec.forProvider.signingKey names the signing key by name; spec.forProvider.signingKeyRef and signingKeyId name it otherwise: set one`,
		`OAuth2Provider, signing-key-id-not-uuid : spec.forProvider.signingKeyId: Invalid value: "grafana-signing"`,
		`SAMLProvider, signing-key-signs-nothing : spec: Invalid value: spec.forProvider.signAssertion or spec.forProvider.signResponse must be true when a signing key is set`,
		`SAMLProvider, acs-url-without-scheme : spec.forProvider.acsUrl: Invalid value: "nextcloud.example.com/apps/user_saml/saml/acs"`,
		`SAMLProvider, no-acs-url : spec: Invalid value: spec.forProvider.acsUrl is required unless managementPolicies only observe`,
		`Total 8 resources: 0 missing schemas, 0 success cases, 8 failure cases`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in the output", want)
		}
	}
}
