package main

import (
	"archive/tar"
	"bytes"
	"crypto/x509"
	"debug/elf"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Where things live in the image, and who runs the provider. Other images
// (the node's pause image, the composition functions) set their own
// entrypoint, title and ports through Options.
const (
	EntrypointPath = "/usr/local/bin/provider"
	CABundlePath   = "/etc/ssl/certs/ca-certificates.crt"
	NonRootUID     = 65532
	NonRootName    = "nonroot"
	MetricsPort    = "8080/tcp"
	ProbesPort     = "8081/tcp"
	ImageTitle     = "provider-authentik"
)

const (
	errReadBinary    = "cannot read the provider binary"
	errNotELF        = "is not a Linux ELF executable: build it with GOOS=linux"
	errDynamic       = "is dynamically linked: build it with CGO_ENABLED=0, the image has no C library"
	errArch          = "was built for another CPU architecture"
	errCANotFound    = "CA bundle not found: install Debian's ca-certificates package (apt-get install ca-certificates) or pass --ca-bundle"
	errReadCA        = "cannot read the CA bundle"
	errNoCerts       = "holds no PEM certificate"
	errBadCert       = "holds a certificate that does not parse"
	errLayer         = "cannot build the image layer"
	errAppend        = "cannot add the layers to the image"
	errConfig        = "cannot set the image config"
	errTag           = "cannot parse the image reference"
	errWrite         = "cannot write the image tarball"
	errDigest        = "cannot compute the image digest"
	errLayerSize     = "cannot compute a layer's size"
	errMkdirOut      = "cannot create the output directory"
	errRenameOut     = "cannot move the image tarball into place"
	errOpenImage     = "cannot read the image tarball"
	errReadImageFile = "cannot read the image's file system"
	errNotInImage    = "is not a regular file in the image"
	errWriteOut      = "cannot write the extracted file"
	errPush          = "cannot push the image"
	errReadDir       = "cannot read a directory to copy in"
)

// Options say what goes into the image.
type Options struct {
	Binary   string    // the static provider binary
	CABundle string    // PEM CA bundle, copied to CABundlePath
	Version  string    // provider version, for labels
	Revision string    // source revision, for labels (optional)
	Source   string    // source repository URL, for labels
	Created  time.Time // image creation time and every file's mtime
	Arch     string    // GOARCH naming

	Entrypoint  string   // where the binary goes and what runs; default EntrypointPath
	Title       string   // the title label; default ImageTitle
	Description string   // the description label; default the provider's
	Ports       []string // exposed ports ("9443/tcp"); nil means the provider's
	Dirs        []Dir    // directories copied in, one layer each, before the binary's
}

// A Dir is a directory of the build machine copied into the image.
type Dir struct {
	Source string // on the build machine
	Target string // absolute path in the image
}

// withDefaults fills what an image other than the provider's may set.
func (o Options) withDefaults() Options {
	if o.Entrypoint == "" {
		o.Entrypoint = EntrypointPath
	}
	if o.Title == "" {
		o.Title = ImageTitle
	}
	if o.Description == "" {
		o.Description = "Crossplane provider for Authentik"
	}
	if o.Ports == nil {
		o.Ports = []string{MetricsPort, ProbesPort}
	}
	return o
}

// entry is one file or directory in a layer.
type entry struct {
	path string // relative, no leading slash
	mode int64
	uid  int
	dir  bool
	data []byte
}

// elfMachines maps GOARCH to the ELF machine a binary for it declares.
var elfMachines = map[string]elf.Machine{
	"amd64":   elf.EM_X86_64,
	"arm64":   elf.EM_AARCH64,
	"arm":     elf.EM_ARM,
	"ppc64le": elf.EM_PPC64,
	"s390x":   elf.EM_S390,
	"riscv64": elf.EM_RISCV,
}

// baseEntries is the minimal root file system: users and groups with the
// non-root user the provider runs as, its home, /tmp, and name service
// configuration for Go's resolver.
func baseEntries() []entry {
	passwd := "root:x:0:0:root:/root:/sbin/nologin\n" +
		fmt.Sprintf("%s:x:%d:%d:%s:/home/%s:/sbin/nologin\n", NonRootName, NonRootUID, NonRootUID, NonRootName, NonRootName) +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
	group := "root:x:0:\n" +
		fmt.Sprintf("%s:x:%d:\n", NonRootName, NonRootUID) +
		"nobody:x:65534:\n"
	return []entry{
		{path: "etc", mode: 0o755, dir: true},
		{path: "etc/group", mode: 0o644, data: []byte(group)},
		{path: "etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{path: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{path: "home", mode: 0o755, dir: true},
		{path: "home/" + NonRootName, mode: 0o700, uid: NonRootUID, dir: true},
		{path: "root", mode: 0o700, dir: true},
		{path: "tmp", mode: 0o1777, dir: true},
	}
}

// caEntries ships the CA bundle where Go's crypto/x509 looks first on Linux.
func caEntries(bundle []byte) []entry {
	return []entry{
		{path: "etc", mode: 0o755, dir: true},
		{path: "etc/ssl", mode: 0o755, dir: true},
		{path: "etc/ssl/certs", mode: 0o755, dir: true},
		{path: strings.TrimPrefix(CABundlePath, "/"), mode: 0o644, data: bundle},
	}
}

// binaryEntries ships the binary at the entrypoint, with its parent
// directories, owned by root so the non-root user cannot replace it.
func binaryEntries(entrypoint string, bin []byte) []entry {
	p := strings.TrimPrefix(filepath.Clean("/"+entrypoint), "/")
	var es []entry
	for d := filepath.Dir(p); d != "."; d = filepath.Dir(d) {
		es = append([]entry{{path: d, mode: 0o755, dir: true}}, es...)
	}
	return append(es, entry{path: p, mode: 0o755, data: bin})
}

// dirEntries copies the regular files below d.Source to d.Target, in
// lexical order, readable by everyone and owned by root.
func dirEntries(d Dir) ([]entry, error) {
	target := strings.TrimPrefix(filepath.Clean("/"+d.Target), "/")
	var es []entry
	for p := filepath.Dir(target); p != "."; p = filepath.Dir(p) {
		es = append([]entry{{path: p, mode: 0o755, dir: true}}, es...)
	}
	// Read through the directory's own file system: nothing outside it.
	src := os.DirFS(d.Source)
	err := fs.WalkDir(src, ".", func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := path.Join(target, p)
		switch {
		case de.IsDir():
			es = append(es, entry{path: name, mode: 0o755, dir: true})
		case de.Type().IsRegular():
			b, err := fs.ReadFile(src, p)
			if err != nil {
				return err
			}
			es = append(es, entry{path: name, mode: 0o644, data: b})
		}
		return nil
	})
	return es, wrapf(err, "%s: %s", errReadDir, d.Source)
}

// layerSpec is one layer's entries and its history line.
type layerSpec struct {
	what    string
	entries []entry
}

// tarLayer writes entries, in order, as one gzip-compressed layer.
func tarLayer(entries []entry, mtime time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.path,
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.uid,
			ModTime: mtime,
			Format:  tar.FormatPAX,
		}
		if e.dir {
			h.Typeflag = tar.TypeDir
			h.Name += "/"
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, wrapf(err, "%s: %s", errLayer, e.path)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, wrapf(err, "%s: %s", errLayer, e.path)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, wrap(err, errLayer)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	})
	return l, wrap(err, errLayer)
}

// readStaticBinary returns the binary at path after checking it can run in
// an image without a C library, on arch.
func readStaticBinary(path, arch string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		return nil, wrap(err, errReadBinary)
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s %s", path, errNotELF)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return nil, fmt.Errorf("%s %s", path, errDynamic)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		return nil, fmt.Errorf("%s %s (needs %s)", path, errDynamic, strings.Join(libs, ", "))
	}
	if want, ok := elfMachines[arch]; ok && f.Machine != want {
		return nil, fmt.Errorf("%s %s (%s, not %s)", path, errArch, f.Machine, arch)
	}
	return b, nil
}

// readCABundle returns the bundle at path after checking that it holds PEM
// certificates, and how many.
func readCABundle(path string) ([]byte, int, error) {
	b, err := os.ReadFile(filepath.Clean(path))
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, fmt.Errorf("%s: %s", path, errCANotFound)
	}
	if err != nil {
		return nil, 0, wrap(err, errReadCA)
	}
	n := 0
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			return nil, 0, wrapf(err, "%s %s (number %d)", path, errBadCert, n+1)
		}
		n++
	}
	if n == 0 {
		return nil, 0, fmt.Errorf("%s %s", path, errNoCerts)
	}
	return b, n, nil
}

// Labels are the OCI annotations-as-labels on the image config.
func Labels(o Options) map[string]string {
	o = o.withDefaults()
	l := map[string]string{
		"org.opencontainers.image.title":       o.Title,
		"org.opencontainers.image.description": o.Description,
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.source":      o.Source,
		"org.opencontainers.image.url":         o.Source,
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.created":     o.Created.Format(time.RFC3339),
	}
	if o.Revision != "" {
		l["org.opencontainers.image.revision"] = o.Revision
	}
	return l
}

// Build assembles the image: three layers (base file system, CA
// certificates, binary) on an empty image, run as 65532:65532.
func Build(o Options) (v1.Image, error) {
	o = o.withDefaults()
	bin, err := readStaticBinary(o.Binary, o.Arch)
	if err != nil {
		return nil, err
	}
	ca, _, err := readCABundle(o.CABundle)
	if err != nil {
		return nil, err
	}

	layers := []layerSpec{
		{"base: /etc/passwd, /etc/group (nonroot 65532), /etc/nsswitch.conf, /home/nonroot, /tmp", baseEntries()},
		{"ca-certificates: " + CABundlePath + " from " + o.CABundle, caEntries(ca)},
	}
	for _, d := range o.Dirs {
		es, err := dirEntries(d)
		if err != nil {
			return nil, err
		}
		layers = append(layers, layerSpec{"files: " + d.Target + " from " + d.Source, es})
	}
	layers = append(layers, layerSpec{o.Title + " " + o.Version + ": " + o.Entrypoint, binaryEntries(o.Entrypoint, bin)})
	adds := make([]mutate.Addendum, 0, len(layers))
	for _, l := range layers {
		layer, err := tarLayer(l.entries, o.Created)
		if err != nil {
			return nil, err
		}
		adds = append(adds, mutate.Addendum{
			Layer:   layer,
			History: v1.History{Created: v1.Time{Time: o.Created}, CreatedBy: "imagebuild " + l.what},
		})
	}
	img, err := mutate.Append(empty.Image, adds...)
	if err != nil {
		return nil, wrap(err, errAppend)
	}

	cf, err := img.ConfigFile()
	if err != nil {
		return nil, wrap(err, errConfig)
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = o.Arch
	cf.Created = v1.Time{Time: o.Created}
	ports := make(map[string]struct{}, len(o.Ports))
	for _, p := range o.Ports {
		ports[p] = struct{}{}
	}
	cf.Config = v1.Config{
		User:         fmt.Sprintf("%d:%d", NonRootUID, NonRootUID),
		Entrypoint:   []string{o.Entrypoint},
		WorkingDir:   "/home/" + NonRootName,
		Env:          []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/" + NonRootName},
		ExposedPorts: ports,
		Labels:       Labels(o),
	}
	img, err = mutate.ConfigFile(img, cf)
	return img, wrap(err, errConfig)
}

// WriteImage builds the image and writes it to out as a docker-style image
// tarball tagged ref. It returns a one-line summary.
func WriteImage(o Options, ref, out string) (string, error) {
	img, err := Build(o)
	if err != nil {
		return "", err
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return "", wrap(err, errTag)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
		return "", wrap(err, errMkdirOut)
	}
	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, tag, img); err != nil {
		_ = os.Remove(tmp)
		return "", wrap(err, errWrite)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", wrap(err, errRenameOut)
	}
	return summary(img, out, o.withDefaults().Entrypoint)
}

// summary describes a written image in one line.
func summary(img v1.Image, out, entrypoint string) (string, error) {
	d, err := img.Digest()
	if err != nil {
		return "", wrap(err, errDigest)
	}
	ls, err := img.Layers()
	if err != nil {
		return "", wrap(err, errLayerSize)
	}
	sizes := make([]string, 0, len(ls))
	var total int64
	for _, l := range ls {
		n, err := l.Size()
		if err != nil {
			return "", wrap(err, errLayerSize)
		}
		total += n
		sizes = append(sizes, humanBytes(n))
	}
	return fmt.Sprintf("wrote %s: %s, %d layers (%s) %s compressed, user %d:%d, entrypoint %s",
		out, d, len(ls), strings.Join(sizes, " + "), humanBytes(total), NonRootUID, NonRootUID, entrypoint), nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}

// ExtractFile copies the regular file at path in the image tarball at image
// (a runtime image or an .xpkg) to out, executable.
func ExtractFile(image, path, out string) error {
	img, err := tarball.ImageFromPath(filepath.Clean(image), nil)
	if err != nil {
		return wrap(err, errOpenImage)
	}
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	want := strings.TrimPrefix(filepath.Clean("/"+path), "/")
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s %s", path, errNotInImage)
		}
		if err != nil {
			return wrap(err, errReadImageFile)
		}
		if strings.TrimPrefix(filepath.Clean("/"+h.Name), "/") != want || h.Typeflag != tar.TypeReg {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
			return wrap(err, errMkdirOut)
		}
		f, err := os.OpenFile(filepath.Clean(out), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755) //nolint:gosec // an executable on purpose
		if err != nil {
			return wrap(err, errWriteOut)
		}
		if _, err := io.Copy(f, tr); err != nil { //nolint:gosec // size bounded by the image we built
			_ = f.Close()
			return wrap(err, errWriteOut)
		}
		return wrap(f.Close(), errWriteOut)
	}
}

// PushImage pushes the image tarball at image (a runtime image or an .xpkg)
// to ref and returns its digest.
func PushImage(image string, ref name.Reference) (v1.Hash, error) {
	img, err := tarball.ImageFromPath(filepath.Clean(image), nil)
	if err != nil {
		return v1.Hash{}, wrap(err, errOpenImage)
	}
	d, err := img.Digest()
	if err != nil {
		return v1.Hash{}, wrap(err, errDigest)
	}
	return d, wrapf(remote.Write(ref, img), "%s to %s", errPush, ref)
}

// wrap annotates err with what failed; nil stays nil.
func wrap(err error, msg string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// wrapf is wrap with a formatted message.
func wrapf(err error, format string, args ...any) error {
	return wrap(err, fmt.Sprintf(format, args...))
}
