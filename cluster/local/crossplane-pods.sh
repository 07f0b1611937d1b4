#!/usr/bin/env bash
# Crossplane as users run it, on the local node (CLUSTER_NODE=1 cluster/local/up.sh, without
# --with-crossplane): core and its RBAC manager as pods from Crossplane's own Helm chart with the
# chart's default values (only the image's registry and tag are set: the chart in the module source
# names version 0.0.1), and the Configuration's functions installed from .xpkg packages with their
# runtime images embedded, which Crossplane runs as pods (its default Deployment runtime).
# Images: built here with cluster/image/imagebuild from the static binaries of cluster/build-tools.sh node,
# pushed to the loopback registry.
# Usage: cluster/local/crossplane-pods.sh [--no-function-objects]   (same CLUSTER_* env as up.sh)
# --no-function-objects pushes the function packages but leaves installing them to the caller (a layout's
# Function objects, a Configuration's dependencies).
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REG=$REGISTRY
XP_VERSION=$(sed -n 's/^XP_CORE_VERSION=\([^ ]*\).*/\1/p' "$CLUSTER_DIR/build-tools.sh")
XP_IMAGE=$REG/crossplane/crossplane
# The Configuration's dependencies (package/configuration/crossplane.yaml).
POD_FUNCTIONS=(function-go-templating function-auto-ready)

preflight() {
  require_bins helm crank crossplane-static function-go-templating-static function-auto-ready-static
  [ -d "$RUN/node" ] && running kubelet || die "no node: run CLUSTER_NODE=1 cluster/local/up.sh first"
  (exec 3<>"/dev/tcp/$CLUSTER_REGISTRY_HOST/$CLUSTER_REGISTRY_PORT") 2>/dev/null || die "no registry at $REGISTRY"
  [ -d "$WORK/crossplane-crds" ] || die "$WORK/crossplane-crds missing: run cluster/build-tools.sh crossplane"
  [ -d "$WORK/pkg" ] || die "$WORK/pkg missing: run cluster/build-tools.sh functions"
}

xp_module_dir() { (cd "$CLUSTER_DIR/tools/crossplane" && go list -m -f '{{.Dir}}' github.com/crossplane/crossplane/v2); }

crossplane_image() {
  local src T
  T=$(ts)
  src=$(xp_module_dir)
  # As Crossplane's own image: the binary, the core CRDs and webhook configurations `core init` applies.
  imagebuild build --binary "$BIN/crossplane-static" --entrypoint /usr/local/bin/crossplane --title crossplane \
    --description "Crossplane core $XP_VERSION" --port 8080/tcp --port 8081/tcp --port 9443/tcp \
    --dir "$WORK/crossplane-crds=/crds" --dir "$src/cluster/webhookconfigurations=/webhookconfigurations" \
    --tag "$XP_VERSION" --repository "$XP_IMAGE" --out "$RUN/crossplane-image.tar" >/dev/null
  imagebuild push --image "$RUN/crossplane-image.tar" --ref "$XP_IMAGE:$XP_VERSION" --insecure >/dev/null
  log "image $XP_IMAGE:$XP_VERSION: $(since "$T")s"
}

# function_package NAME : the function's .xpkg with its runtime image embedded, pushed where lib.sh's
# fn_package says.
function_package() {
  local fn=$1 v dir
  v=$(fn_version "$fn")
  imagebuild build --binary "$BIN/$fn-static" --entrypoint /function --title "$fn" \
    --description "Crossplane composition function $fn $v" --port 9443/tcp \
    --tag "$v" --repository "$REG/$FN_REPO/$fn" --out "$RUN/$fn-image.tar" >/dev/null
  # crank packs every file below the package root: a copy without anything else.
  dir=$RUN/pkg-$fn
  rm -rf "$dir"; cp -r "$WORK/pkg/$fn" "$dir"
  "$BIN/crank" xpkg build --package-root="$dir" --examples-root=/nonexistent \
    --embed-runtime-image-tarball="$RUN/$fn-image.tar" -o "$RUN/$fn.xpkg" >/dev/null
  imagebuild push --image "$RUN/$fn.xpkg" --ref "$(fn_package "$fn")" --insecure >/dev/null
}

main() {
  local T0 T fn fns=() objects=true
  case "${1:-}" in
    "") ;;
    --no-function-objects) objects=false ;;
    *) die "usage: $0 [--no-function-objects]" ;;
  esac
  T0=$(ts)
  preflight
  crossplane_image
  T=$(ts)
  k create namespace "$XP_NS" --dry-run=client -o yaml | k apply -f - >/dev/null
  "$BIN/helm" template crossplane "$(xp_module_dir)/cluster/charts/crossplane" --namespace "$XP_NS" \
    --set image.repository="$XP_IMAGE" --set image.tag="$XP_VERSION" > "$RUN/crossplane-chart.yaml"
  k apply -f "$RUN/crossplane-chart.yaml" >/dev/null
  wait_for "Crossplane's deployments Available" 300 k -n "$XP_NS" wait --for=condition=Available --timeout=1s \
    deployment/crossplane deployment/crossplane-rbac-manager
  wait_for "Crossplane's APIs" 120 k get functions.pkg.crossplane.io
  log "crossplane from its chart: $(since "$T")s"

  T=$(ts)
  for fn in "${POD_FUNCTIONS[@]}"; do function_package "$fn"; done
  log "function packages with runtime images: $(since "$T")s"
  $objects || return 0
  for fn in "${POD_FUNCTIONS[@]}"; do
    printf 'apiVersion: pkg.crossplane.io/v1\nkind: Function\nmetadata: {name: %s}\nspec: {package: "%s"}\n---\n' "$(fn_object "$fn")" "$(fn_package "$fn")"
  done | k apply -f - >/dev/null
  for fn in "${POD_FUNCTIONS[@]}"; do fns+=("function/$(fn_object "$fn")"); done
  wait_for "Functions Healthy" 300 k wait --for=condition=Healthy --timeout=1s "${fns[@]}"
  k get pods -n "$XP_NS" -o wide
  log "crossplane and functions as pods in $(since "$T0")s"
}

main "$@"
