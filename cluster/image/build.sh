#!/usr/bin/env bash
# Builds provider-authentik's OCI image without a container engine (make image):
#   1. the provider as a static binary (CGO_ENABLED=0, GOOS=linux),
#   2. cluster/image/imagebuild assembles the image from layers it writes itself (users and groups with the
#      non-root user 65532, the build machine's Debian CA bundle, the binary) on an empty base and
#      writes a docker-style image tarball, the format `crank xpkg build --embed-runtime-image-tarball`
#      reads.
# Output: $OUTPUT/image/provider-authentik-$VERSION.tar (and the binary next to it).
# The digest is reproducible: file times are the last commit's time (SOURCE_DATE_EPOCH overrides).
# Env: VERSION (v0.1.0-dev), OUTPUT (_output), GOARCH (the Go default), CA_BUNDLE
#      (/etc/ssl/certs/ca-certificates.crt, from Debian's ca-certificates package).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VERSION=${VERSION:-v0.1.0-dev}
OUTPUT=${OUTPUT:-$ROOT/_output}
ARCH=${GOARCH:-$(go env GOARCH)}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
DIR=$OUTPUT/image
IMAGE=$DIR/provider-authentik-$VERSION.tar
BINARY=$DIR/provider-linux-$ARCH
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

log() { printf '[image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[ -f "$CA_BUNDLE" ] || { log "ERROR: CA bundle $CA_BUNDLE not found: apt-get install ca-certificates (or set CA_BUNDLE)"; exit 1; }

cd "$ROOT"
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH
REVISION=$(git rev-parse HEAD 2>/dev/null || true)
if [ -n "$REVISION" ] && [ -n "$(git status --porcelain 2>/dev/null | head -1)" ]; then REVISION=$REVISION-dirty; fi

mkdir -p "$DIR"
log "building $BINARY ($VERSION, linux/$ARCH, static)"
CGO_ENABLED=0 GOOS=linux GOARCH=$ARCH go build -trimpath \
  -ldflags "-s -w -X github.com/gitops-lifecycle/provider-authentik/internal/version.Version=$VERSION" \
  -o "$BINARY" ./cmd/provider

# imagebuild runs on the build machine: no GOOS/GOARCH for it.
env -u GOOS -u GOARCH go run ./cluster/image/imagebuild build --binary "$BINARY" --ca-bundle "$CA_BUNDLE" \
  --tag "$VERSION" --revision "$REVISION" --arch "$ARCH" --out "$IMAGE"
