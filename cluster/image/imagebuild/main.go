// Command imagebuild assembles provider-authentik's OCI image without a
// container engine and without pulling a base image: every layer is a tar
// stream written here (users and groups, CA certificates, the provider
// binary), and the result is a docker-style image tarball, the format
// `crossplane xpkg build --embed-runtime-image-tarball` reads.
//
//	imagebuild build --binary _output/image/provider --tag v0.1.0 \
//	    --out _output/image/provider-authentik-v0.1.0.tar
//	imagebuild extract --image provider.xpkg --path /usr/local/bin/provider --out provider
//	imagebuild build --binary pause --entrypoint /pause --title pause --tag 3.10.1 --out pause.tar
//	imagebuild push --image pause.tar --ref 127.0.0.1:25000/pause:3.10.1 --insecure
//
// The same inputs give the same image digest: file times come from
// --created (default SOURCE_DATE_EPOCH, else the Unix epoch), owners and
// modes are fixed, and entries are written in a fixed order.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/google/go-containerregistry/pkg/name"
)

const (
	errParseFlags   = "cannot parse flags"
	errCreated      = "cannot parse --created"
	errSourceEpoch  = "cannot parse SOURCE_DATE_EPOCH"
	errRef          = "cannot parse --ref"
	errDirFlag      = "--dir wants SOURCE=/path/in/image"
	defaultCABundle = "/etc/ssl/certs/ca-certificates.crt"
	defaultSource   = "https://github.com/gitops-lifecycle/provider-authentik"
	defaultRepo     = "xpkg.crossplane.io/gitops-lifecycle/provider-authentik"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild:", err)
		os.Exit(1)
	}
}

// run parses args and runs the chosen command.
func run(args []string, stdout, stderr io.Writer) error {
	app := kingpin.New("imagebuild", "Builds provider-authentik's OCI image from a static binary, without Docker.")
	app.UsageWriter(stderr)
	app.ErrorWriter(stderr)

	build := app.Command("build", "Assemble the image and write it as an image tarball.")
	binary := build.Flag("binary", "The statically linked provider binary (CGO_ENABLED=0).").Required().ExistingFile()
	caBundle := build.Flag("ca-bundle", "PEM bundle of CA certificates to ship (Debian's ca-certificates package).").Default(defaultCABundle).String()
	// Not --version: kingpin then skips every other flag's default.
	version := build.Flag("tag", "The provider version, used as the image tag and version label (v0.1.0).").Required().String()
	revision := build.Flag("revision", "The source revision (git commit) for the image labels.").String()
	source := build.Flag("source", "The source repository URL for the image labels.").Default(defaultSource).String()
	created := build.Flag("created", "Image creation time and file time, RFC 3339. Default: SOURCE_DATE_EPOCH, else 1970-01-01T00:00:00Z.").String()
	arch := build.Flag("arch", "The image's CPU architecture (GOARCH naming); must match the binary.").Default(defaultArch()).String()
	repo := build.Flag("repository", "The repository recorded with the tag in the tarball.").Default(defaultRepo).String()
	out := build.Flag("out", "Where to write the image tarball.").Required().String()
	entrypoint := build.Flag("entrypoint", "Where the binary goes in the image; the image runs it.").Default(EntrypointPath).String()
	title := build.Flag("title", "The image's title label.").Default(ImageTitle).String()
	description := build.Flag("description", "The image's description label (default: the provider's).").String()
	ports := build.Flag("port", "A port the image exposes, as 9443/tcp; repeat it (default: the provider's metrics and probe ports).").Strings()
	noPorts := build.Flag("no-ports", "The image exposes no port.").Bool()
	dirs := build.Flag("dir", "A directory to copy in, as SOURCE=/path/in/image; repeat it.").Strings()

	push := app.Command("push", "Push an image tarball (an image or an .xpkg) to a registry.")
	pushImage := push.Flag("image", "The image tarball.").Required().ExistingFile()
	ref := push.Flag("ref", "Where to push it: registry/repository:tag.").Required().String()
	insecure := push.Flag("insecure", "Talk plain HTTP to the registry (a loopback one).").Bool()

	extract := app.Command("extract", "Copy one file out of an image tarball (an image or an .xpkg).")
	image := extract.Flag("image", "The image tarball.").Required().ExistingFile()
	path := extract.Flag("path", "The file's absolute path in the image.").Required().String()
	extractOut := extract.Flag("out", "Where to write the file (mode 0755).").Required().String()

	cmd, err := app.Parse(args)
	if err != nil {
		return wrap(err, errParseFlags)
	}

	switch cmd {
	case build.FullCommand():
		t, err := creationTime(*created)
		if err != nil {
			return err
		}
		if *noPorts {
			*ports = []string{}
		}
		var ds []Dir
		for _, d := range *dirs {
			src, target, ok := strings.Cut(d, "=")
			if !ok || src == "" || !strings.HasPrefix(target, "/") {
				return fmt.Errorf("%s: %q", errDirFlag, d)
			}
			ds = append(ds, Dir{Source: src, Target: target})
		}
		o := Options{
			Binary:   *binary,
			CABundle: *caBundle,
			Version:  *version,
			Revision: *revision,
			Source:   *source,
			Created:  t,
			Arch:     *arch,

			Entrypoint:  *entrypoint,
			Title:       *title,
			Description: *description,
			Ports:       *ports,
			Dirs:        ds,
		}
		sum, err := WriteImage(o, *repo+":"+*version, *out)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, sum)
		return err
	case extract.FullCommand():
		return ExtractFile(*image, *path, *extractOut)
	case push.FullCommand():
		var opts []name.Option
		if *insecure {
			opts = append(opts, name.Insecure)
		}
		r, err := name.ParseReference(*ref, opts...)
		if err != nil {
			return wrap(err, errRef)
		}
		d, err := PushImage(*pushImage, r)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "pushed %s to %s@%s\n", *pushImage, r, d)
		return err
	}
	return nil
}

// defaultArch is GOARCH from the environment (as `go build` would use it),
// else the architecture imagebuild itself runs on.
func defaultArch() string {
	if a := os.Getenv("GOARCH"); a != "" {
		return a
	}
	return runtime.GOARCH
}

// creationTime is --created if set, else SOURCE_DATE_EPOCH, else the Unix
// epoch, so that builds are reproducible unless asked otherwise.
func creationTime(flag string) (time.Time, error) {
	if flag != "" {
		t, err := time.Parse(time.RFC3339, flag)
		return t.UTC(), wrap(err, errCreated)
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, wrap(err, errSourceEpoch)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Unix(0, 0).UTC(), nil
}
