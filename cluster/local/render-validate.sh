#!/usr/bin/env bash
# Offline composition check, no cluster needed:
#   1. `crank render` of an XR through a Composition, with the functions running locally (--insecure,
#      Development runtime; core's mTLS instances can't serve render),
#   2. `crank beta validate` of the rendered objects against the XRD, composed CRDs and function input CRDs,
#      with Crossplane's own CRDs pre-seeded in the validate cache (it otherwise pulls an image).
# Defaults use cluster/local/testdata; override to check other compositions:
#   XR=... COMPOSITION=... SCHEMAS="dir-or-files,..." EXTRA="files to validate,..." cluster/local/render-validate.sh
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TD=$LOCAL_DIR/testdata
XR=${XR:-$TD/xr.yaml}
COMPOSITION=${COMPOSITION:-$TD/30-composition.yaml}
SCHEMAS=${SCHEMAS:-$TD/10-composed-crd.yaml,$TD/20-xrd.yaml}
EXTRA=${EXTRA:-$TD/40-claim.yaml}
OUT=$RUN/render
require_bins crank
mkdir -p "$OUT" "$LOGS"

trap '[ ${#RENDER_STARTED[@]} -eq 0 ] || stop_bg "${RENDER_STARTED[@]}"' EXIT
start_render_functions "$CLUSTER_RENDER_PORT_BASE"
render_functions_yaml "$CLUSTER_RENDER_PORT_BASE" > "$OUT/functions.yaml"

"$BIN/crank" render --include-full-xr "$XR" "$COMPOSITION" "$OUT/functions.yaml" > "$OUT/rendered.yaml"
log "rendered $(grep -c '^kind:' "$OUT/rendered.yaml") objects -> $OUT/rendered.yaml"

# Schemas: the given ones plus every function's input CRD (so the Composition's inputs validate too).
rm -rf "$OUT/schemas"; mkdir -p "$OUT/schemas"
IFS=, read -r -a s <<<"$SCHEMAS"
cp -r "${s[@]}" "$OUT/schemas/"
cp "$WORK"/pkg/*/input/*.yaml "$OUT/schemas/"
seed_validate_cache "$RUN/validate-cache"
validate() { "$BIN/crank" beta validate "$OUT/schemas" "$1" --cache-dir="$RUN/validate-cache" --crossplane-image="$(validate_image)"; }

validate "$OUT/rendered.yaml,$COMPOSITION${EXTRA:+,$EXTRA}"
log "validate OK"

# Negative check (testdata only): a schema violation must be reported.
if [ "$XR" = "$TD/xr.yaml" ]; then
  if validate "$TD/xr-bad.yaml" > "$OUT/validate-bad.log" 2>&1; then
    cat "$OUT/validate-bad.log"; die "validate accepted xr-bad.yaml"
  fi
  log "validate rejects xr-bad.yaml as expected: $(grep -m1 -i 'externalHost' "$OUT/validate-bad.log" || tail -1 "$OUT/validate-bad.log")"
fi
