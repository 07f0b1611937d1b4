package main

import (
	"archive/tar"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/elf"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// fakeELF returns a minimal 64-bit little-endian ELF executable header for
// machine; with interp it also carries a PT_INTERP program header, as a
// dynamically linked binary does.
func fakeELF(t *testing.T, machine elf.Machine, interp bool) []byte {
	t.Helper()
	h := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT),
		Ehsize: 64, Phentsize: 56, Shentsize: 64,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	path := []byte("/lib64/ld-linux-x86-64.so.2\x00")
	if interp {
		h.Phoff, h.Phnum = 64, 1
	}
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.LittleEndian, h); err != nil {
		t.Fatal(err)
	}
	if interp {
		p := elf.Prog64{Type: uint32(elf.PT_INTERP), Off: 64 + 56, Filesz: uint64(len(path)), Memsz: uint64(len(path))}
		if err := binary.Write(&buf, binary.LittleEndian, p); err != nil {
			t.Fatal(err)
		}
		buf.Write(path)
	}
	return buf.Bytes()
}

// fakeCABundle returns a PEM bundle of two self-signed certificates.
func fakeCABundle(t *testing.T) []byte {
	t.Helper()
	var out bytes.Buffer
	for i := range 2 {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "test CA"},
			NotBefore: time.Unix(0, 0), NotAfter: time.Unix(0, 0).AddDate(100, 0, 0), IsCA: true, BasicConstraintsValid: true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		if err := pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: der}); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// testOptions are Options for a fake static amd64 binary and a fake bundle.
func testOptions(t *testing.T) Options {
	t.Helper()
	dir := t.TempDir()
	return Options{
		Binary:   writeFile(t, dir, "provider", fakeELF(t, elf.EM_X86_64, false)),
		CABundle: writeFile(t, dir, "ca.crt", fakeCABundle(t)),
		Version:  "v0.1.0",
		Revision: "abc123",
		Source:   defaultSource,
		Created:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Arch:     "amd64",
	}
}

// layerEntries lists a layer's entries as "path mode uid:gid".
func layerEntries(t *testing.T, l v1.Layer) []string {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	var out []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
			t.Errorf("%s: mtime %v, want the creation time", h.Name, h.ModTime)
		}
		out = append(out, strings.Join([]string{h.Name, h.FileInfo().Mode().String(), strconv.Itoa(h.Uid) + ":" + strconv.Itoa(h.Gid)}, " "))
	}
}

func TestBuild(t *testing.T) {
	o := testOptions(t)
	img, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	wantConfig := v1.Config{
		User:         "65532:65532",
		Entrypoint:   []string{"/usr/local/bin/provider"},
		WorkingDir:   "/home/nonroot",
		Env:          []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/nonroot"},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}, "8081/tcp": {}},
		Labels: map[string]string{
			"org.opencontainers.image.title":       "provider-authentik",
			"org.opencontainers.image.description": "Crossplane provider for Authentik",
			"org.opencontainers.image.version":     "v0.1.0",
			"org.opencontainers.image.revision":    "abc123",
			"org.opencontainers.image.source":      defaultSource,
			"org.opencontainers.image.url":         defaultSource,
			"org.opencontainers.image.licenses":    "Apache-2.0",
			"org.opencontainers.image.created":     "2026-01-02T03:04:05Z",
		},
	}
	if diff := cmp.Diff(wantConfig, cf.Config); diff != "" {
		t.Errorf("config: -want, +got:\n%s", diff)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" || !cf.Created.Equal(o.Created) {
		t.Errorf("platform %s/%s created %v, want linux/amd64 created %v", cf.OS, cf.Architecture, cf.Created, o.Created)
	}

	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, l := range layers {
		got = append(got, layerEntries(t, l))
	}
	want := [][]string{
		{
			"etc/ drwxr-xr-x 0:0", "etc/group -rw-r--r-- 0:0", "etc/nsswitch.conf -rw-r--r-- 0:0", "etc/passwd -rw-r--r-- 0:0",
			"home/ drwxr-xr-x 0:0", "home/nonroot/ drwx------ 65532:65532", "root/ drwx------ 0:0", "tmp/ dtrwxrwxrwx 0:0",
		},
		{"etc/ drwxr-xr-x 0:0", "etc/ssl/ drwxr-xr-x 0:0", "etc/ssl/certs/ drwxr-xr-x 0:0", "etc/ssl/certs/ca-certificates.crt -rw-r--r-- 0:0"},
		{"usr/ drwxr-xr-x 0:0", "usr/local/ drwxr-xr-x 0:0", "usr/local/bin/ drwxr-xr-x 0:0", "usr/local/bin/provider -rwxr-xr-x 0:0"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layers (base, CA certificates, binary): -want, +got:\n%s", diff)
	}
	if len(cf.History) != 3 {
		t.Errorf("history has %d entries, want one per layer", len(cf.History))
	}
}

func TestBuildIsReproducible(t *testing.T) {
	o := testOptions(t)
	digest := func(o Options) v1.Hash {
		img, err := Build(o)
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	first := digest(o)
	if again := digest(o); again != first {
		t.Errorf("same inputs, different digests: %s and %s", first, again)
	}
	o.Created = o.Created.Add(time.Second)
	if later := digest(o); later == first {
		t.Errorf("a different creation time gave the same digest %s", first)
	}
}

func TestBuildRejects(t *testing.T) {
	cases := map[string]struct {
		reason string
		change func(t *testing.T, o *Options)
		want   string
	}{
		"NoCABundle": {
			reason: "A build machine without Debian's bundle is told how to get one.",
			change: func(t *testing.T, o *Options) { o.CABundle = filepath.Join(t.TempDir(), "missing.crt") },
			want:   "apt-get install ca-certificates",
		},
		"EmptyCABundle": {
			reason: "A bundle without certificates would break every TLS connection.",
			change: func(t *testing.T, o *Options) {
				o.CABundle = writeFile(t, t.TempDir(), "ca.crt", []byte("# nothing\n"))
			},
			want: "holds no PEM certificate",
		},
		"DynamicBinary": {
			reason: "The image has no C library, so a cgo binary could not start.",
			change: func(t *testing.T, o *Options) {
				o.Binary = writeFile(t, t.TempDir(), "provider", fakeELF(t, elf.EM_X86_64, true))
			},
			want: "CGO_ENABLED=0",
		},
		"NotELF": {
			reason: "A script or a macOS binary is not a Linux executable.",
			change: func(t *testing.T, o *Options) {
				o.Binary = writeFile(t, t.TempDir(), "provider", []byte("#!/bin/sh\n"))
			},
			want: "GOOS=linux",
		},
		"WrongArch": {
			reason: "The image's architecture must be the binary's.",
			change: func(_ *testing.T, o *Options) { o.Arch = "arm64" },
			want:   "another CPU architecture",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := testOptions(t)
			tc.change(t, &o)
			_, err := Build(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s\nBuild(...): want an error containing %q, got %v", tc.reason, tc.want, err)
			}
		})
	}
}

func TestRunWritesATarballCrankReads(t *testing.T) {
	o := testOptions(t)
	out := filepath.Join(t.TempDir(), "image", "provider.tar")
	var stdout, stderr bytes.Buffer
	err := run([]string{"build", "--binary", o.Binary, "--ca-bundle", o.CABundle, "--tag", "v0.1.0", "--arch", "amd64", "--out", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "3 layers") {
		t.Errorf("summary %q does not mention the 3 layers", stdout.String())
	}
	// `crank xpkg build --embed-runtime-image-tarball` loads it like this.
	img, err := tarball.ImageFromPath(out, nil)
	if err != nil {
		t.Fatalf("tarball.ImageFromPath: %v", err)
	}
	tag, _ := name.NewTag(defaultRepo + ":v0.1.0")
	if _, err := tarball.ImageFromPath(out, &tag); err != nil {
		t.Errorf("the tarball is not tagged %s (flag defaults not applied?): %v", tag, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Created.Unix() != 0 {
		t.Errorf("without --created or SOURCE_DATE_EPOCH the image should be dated at the epoch, is %v", cf.Created)
	}

	bin := filepath.Join(t.TempDir(), "provider")
	if err := run([]string{"extract", "--image", out, "--path", EntrypointPath, "--out", bin}, &stdout, &stderr); err != nil {
		t.Fatalf("extract: %v", err)
	}
	got, err := os.ReadFile(filepath.Clean(bin))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Clean(o.Binary))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("extracted %s differs from the binary built in", EntrypointPath)
	}
	err = run([]string{"extract", "--image", out, "--path", "/bin/sh", "--out", bin}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), errNotInImage) {
		t.Errorf("extract of a missing file: want %q, got %v", errNotInImage, err)
	}
}

func TestCreationTime(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1767322800")
	got, err := creationTime("")
	if err != nil || got.Unix() != 1767322800 {
		t.Errorf("SOURCE_DATE_EPOCH: got %v, %v", got, err)
	}
	got, err = creationTime("2026-01-02T03:04:05+01:00")
	if err != nil || !got.Equal(time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC)) {
		t.Errorf("--created wins over SOURCE_DATE_EPOCH: got %v, %v", got, err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, err := creationTime(""); err == nil {
		t.Error("an invalid SOURCE_DATE_EPOCH should be an error")
	}
}

func TestBuildAnotherImage(t *testing.T) {
	o := testOptions(t)
	o.Entrypoint, o.Title, o.Description, o.Ports = "/function", "function-auto-ready", "A composition function", []string{"9443/tcp"}
	img, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	got := []string{strings.Join(cf.Config.Entrypoint, " "), cf.Config.Labels["org.opencontainers.image.title"], cf.Config.Labels["org.opencontainers.image.description"]}
	for p := range cf.Config.ExposedPorts {
		got = append(got, p)
	}
	if diff := cmp.Diff([]string{"/function", "function-auto-ready", "A composition function", "9443/tcp"}, got); diff != "" {
		t.Errorf("entrypoint, title, description, ports: -want, +got:\n%s", diff)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"function -rwxr-xr-x 0:0"}, layerEntries(t, layers[2])); diff != "" {
		t.Errorf("binary layer: -want, +got:\n%s", diff)
	}
}

func TestBuildCopiesDirectories(t *testing.T) {
	o := testOptions(t)
	src := t.TempDir()
	writeFile(t, src, "b.yaml", []byte("b"))
	if err := os.Mkdir(filepath.Join(src, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(src, "sub"), "a.yaml", []byte("a"))
	o.Entrypoint, o.Dirs = "/usr/local/bin/crossplane", []Dir{{Source: src, Target: "/crds"}}
	img, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, l := range layers[2:] {
		got = append(got, layerEntries(t, l))
	}
	want := [][]string{
		{"crds/ drwxr-xr-x 0:0", "crds/b.yaml -rw-r--r-- 0:0", "crds/sub/ drwxr-xr-x 0:0", "crds/sub/a.yaml -rw-r--r-- 0:0"},
		{"usr/ drwxr-xr-x 0:0", "usr/local/ drwxr-xr-x 0:0", "usr/local/bin/ drwxr-xr-x 0:0", "usr/local/bin/crossplane -rwxr-xr-x 0:0"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layers after the CA certificates: -want, +got:\n%s", diff)
	}

	var stdout, stderr bytes.Buffer
	err = run([]string{"build", "--binary", o.Binary, "--ca-bundle", o.CABundle, "--tag", "v0.1.0", "--arch", "amd64",
		"--dir", src + ":/crds", "--out", filepath.Join(t.TempDir(), "x.tar")}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), errDirFlag) {
		t.Errorf("--dir without '=': want %q, got %v", errDirFlag, err)
	}
}

func TestRunPushes(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	o := testOptions(t)
	out := filepath.Join(t.TempDir(), "provider.tar")
	var stdout, stderr bytes.Buffer
	if err := run([]string{"build", "--binary", o.Binary, "--ca-bundle", o.CABundle, "--tag", "v0.1.0", "--arch", "amd64", "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("build: %v\n%s", err, stderr.String())
	}
	ref := host + "/gitops-lifecycle/provider-authentik:v0.1.0"
	if err := run([]string{"push", "--image", out, "--ref", ref, "--insecure"}, &stdout, &stderr); err != nil {
		t.Fatalf("push: %v\n%s", err, stderr.String())
	}
	want, err := tarball.ImageFromPath(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantDigest, _ := want.Digest()
	r, _ := name.ParseReference(ref, name.Insecure)
	got, err := remote.Image(r)
	if err != nil {
		t.Fatalf("pull after push: %v", err)
	}
	if d, _ := got.Digest(); d != wantDigest {
		t.Errorf("the registry serves %s, the tarball is %s", d, wantDigest)
	}
	if !strings.Contains(stdout.String(), wantDigest.String()) {
		t.Errorf("push output %q does not name the digest %s", stdout.String(), wantDigest)
	}
	err = run([]string{"push", "--image", out, "--ref", "Not A Ref"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), errRef) {
		t.Errorf("push to a bad reference: want %q, got %v", errRef, err)
	}
}
