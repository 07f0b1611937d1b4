#!/usr/bin/env bash
# Shows what the ProxyConfig Composition makes of a ProxyConfig, without a cluster:
#   1. `crank render` of a ProxyConfig (a namespaced XR, as a user writes it, e.g. one of
#      examples/proxyconfig) with the XRD's defaults applied and, optionally, observed composed
#      resources (to see the status and Ready condition it gets), printed to stdout;
#   2. `crank beta validate` of that output, the XRD, the Composition and examples/proxyconfig
#      against the provider's CRDs and the XRD (report on stderr; exit 1 on any error).
# Usage: cluster/composition/render.sh [PROXYCONFIG [OBSERVED]]
#   default: examples/proxyconfig/longhorn-proxy.yaml (the seed's)
#   e.g.: cluster/composition/render.sh examples/proxyconfig/longhorn-proxy.yaml \
#           cluster/composition/testdata/observed-longhorn-proxy.yaml
# The checks that assert all of this are `go test -tags render ./cluster/composition/...`.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"
HERE=$CLUSTER_DIR/composition
CONF=$ROOT/package/configuration
XR=${1:-$ROOT/examples/proxyconfig/longhorn-proxy.yaml}
OBSERVED=${2:-}
OUT=$RUN/composition-render
require_bins crank
mkdir -p "$OUT" "$LOGS"

trap '[ ${#RENDER_STARTED[@]} -eq 0 ] || stop_bg "${RENDER_STARTED[@]}"' EXIT
start_render_functions "$CLUSTER_RENDER_PORT_BASE" >&2
render_functions_yaml "$CLUSTER_RENDER_PORT_BASE" > "$OUT/functions.yaml"

"$BIN/crank" render --include-full-xr --xrd="$CONF/xrd.yaml" ${OBSERVED:+--observed-resources="$OBSERVED"} \
  "$XR" "$CONF/composition.yaml" "$OUT/functions.yaml" > "$OUT/rendered.yaml"
cat "$OUT/rendered.yaml"

rm -rf "$OUT/schemas"; mkdir -p "$OUT/schemas"
cp "$ROOT"/package/provider/crds/*.yaml "$CONF/xrd.yaml" "$WORK"/pkg/function-go-templating/input/*.yaml "$OUT/schemas/"
seed_validate_cache "$RUN/validate-cache"
"$BIN/crank" beta validate "$OUT/schemas" "$OUT/rendered.yaml,$CONF/xrd.yaml,$CONF/composition.yaml,$ROOT/examples/proxyconfig" \
  --cache-dir="$RUN/validate-cache" --crossplane-image="$(validate_image)" --error-on-missing-schemas >&2
