#!/usr/bin/env bash
# Builds the Crossplane packages (make xpkg) with the Crossplane CLI (_output/bin/crank), one from
# each of the sibling package roots:
#   package/provider (crossplane.yaml + crds), the provider's examples, and the runtime image from
#     cluster/image/build.sh embedded, so the one .xpkg both installs the CRDs and runs the provider.
#     Left out on purpose (crank applies --ignore below both roots, relative, one path level per `*`):
#     examples/proxyconfig/ and examples/oidcconfig/ (the Configuration's examples),
#     examples/gitops/ (a Flux layout, monitoring included) and examples/argocd/ (the same for Argo CD),
#     not objects of this provider;
#   package/configuration (meta, XRDs, Compositions) with the ProxyConfigs of examples/proxyconfig.
# Output: $OUTPUT/xpkg/provider-authentik-$VERSION.xpkg, $OUTPUT/xpkg/configuration-authentik-proxyconfig-$VERSION.xpkg
# Env: VERSION (v0.1.0-dev), OUTPUT (_output), TOOLS_BIN (_output/bin).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VERSION=${VERSION:-v0.1.0-dev}
OUTPUT=${OUTPUT:-$ROOT/_output}
BIN=${TOOLS_BIN:-$ROOT/_output/bin}
IMAGE=$OUTPUT/image/provider-authentik-$VERSION.tar
XPKG=$OUTPUT/xpkg/provider-authentik-$VERSION.xpkg
CONFIG_XPKG=$OUTPUT/xpkg/configuration-authentik-proxyconfig-$VERSION.xpkg

log() { printf '[xpkg %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ -x "$BIN/crank" ] || die "$BIN/crank missing: run make tools (cluster/build-tools.sh crossplane)"
[ -f "$IMAGE" ] || die "$IMAGE missing: run make image (cluster/image/build.sh) with VERSION=$VERSION"

IGNORE=(
  'proxyconfig/*' 'oidcconfig/*'
  'gitops/*' 'gitops/*/*' 'gitops/*/*/*' 'gitops/*/*/*/*'
  'argocd/*' 'argocd/*/*'
)
IFS=, ; ignore="${IGNORE[*]}"; unset IFS

mkdir -p "$(dirname "$XPKG")"
# Absolute roots: crank skips every package file whose path contains the --examples-root string, so
# a relative "examples" would drop the whole package when the checkout lives under a directory named
# like that.
"$BIN/crank" xpkg build \
  --package-root="$ROOT/package/provider" \
  --examples-root="$ROOT/examples" \
  --ignore="$ignore" \
  --embed-runtime-image-tarball="$IMAGE" \
  --package-file="$XPKG"
log "wrote $XPKG ($(du -h "$XPKG" | cut -f1))"

"$BIN/crank" xpkg build \
  --package-root="$ROOT/package/configuration" \
  --examples-root="$ROOT/examples/proxyconfig" \
  --package-file="$CONFIG_XPKG"
log "wrote $CONFIG_XPKG ($(du -h "$CONFIG_XPKG" | cut -f1))"
