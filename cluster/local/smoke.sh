#!/usr/bin/env bash
# Composition smoke test against a running `cluster/local/up.sh --with-crossplane`:
# XRD (v1, with claim) + Composition (patch-and-transform, go-templating, auto-ready) + claim
#   -> composed Backend + ConfigMap -> (we play the provider: Backend Ready) -> claim Ready
#   -> delete claim -> composed resources garbage-collected. Removes its definitions afterwards.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TD=$LOCAL_DIR/testdata
require_bins kubectl crank
k get --raw /readyz >/dev/null 2>&1 || die "no control plane at $KUBECONFIG: run cluster/local/up.sh --with-crossplane"

cleanup() {
  k delete -f "$TD/40-claim.yaml" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  k delete -f "$TD/30-composition.yaml" -f "$TD/20-xrd.yaml" --ignore-not-found --timeout=60s >/dev/null 2>&1 || true
  k delete -f "$TD/10-composed-crd.yaml" --ignore-not-found --timeout=60s >/dev/null 2>&1 || true
}
trap cleanup EXIT

backends() { k get backends.smoke.authentik.local -o name 2>/dev/null; }
configmaps() { k get configmaps -n default -l crossplane.io/claim-name=grafana -o name 2>/dev/null; }
nonempty() { [ -n "$("$@")" ]; }
empty() { [ -z "$("$@")" ]; }

T0=$(ts)
k apply -f "$TD/10-composed-crd.yaml" -f "$TD/20-xrd.yaml" -f "$TD/30-composition.yaml" >/dev/null
k wait --for=condition=Established --timeout=60s xrd/xapps.smoke.authentik.local >/dev/null
k wait --for=condition=Offered --timeout=60s xrd/xapps.smoke.authentik.local >/dev/null
log "XRD established and offered: $(since "$T0")s"

T=$(ts)
k apply -f "$TD/40-claim.yaml" >/dev/null
wait_for "composed Backend" 60 nonempty backends
wait_for "composed ConfigMap (go-templating)" 60 nonempty configmaps
BE=$(backends)
got=$(k get "$BE" -o jsonpath='{.spec.externalHost}')
[ "$got" = https://grafana.example.org ] || die "Backend spec.externalHost=$got, patch not applied"
got=$(k get "$(configmaps)" -n default -o jsonpath='{.data.externalHost}')
[ "$got" = https://grafana.example.org ] || die "ConfigMap data.externalHost=$got, template not applied"
log "claim -> composed resources: $(since "$T")s"

# Play the provider: mark the stand-in managed resource Ready; auto-ready then makes the XR/claim Ready.
k patch "$BE" --subresource=status --type=merge \
  -p '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Available","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}' >/dev/null
k wait --for=condition=Ready --timeout=60s app/grafana -n smoke >/dev/null
log "claim Ready: $(since "$T")s"
got=$(k get xapps -o jsonpath='{.items[0].status.backendName}')
[ "$got" = "${BE#*/}" ] || die "XR status.backendName=$got, want ${BE#*/}"
"$BIN/crank" beta trace app/grafana -n smoke || true

k delete -f "$TD/40-claim.yaml" --wait=true --timeout=60s >/dev/null
wait_for "composed Backend garbage-collected" 60 empty backends
wait_for "composed ConfigMap garbage-collected" 60 empty configmaps
log "smoke OK in $(since "$T0")s"
