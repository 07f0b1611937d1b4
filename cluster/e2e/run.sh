#!/usr/bin/env bash
# End-to-end run on a real kube-apiserver and Crossplane, all on 127.0.0.1:
# control plane up, provider CRDs installed, the Authentik simulator and the
# provider binary started out of cluster, every example applied and waited
# for, then the Go e2e suite (cluster/e2e, build tag e2e) checks Authentik's
# state, drift repair, CRD validation and deletion. Everything is torn down
# on exit, also on failure.
#   cluster/e2e/run.sh                  the e2e suite (make e2e)
#   cluster/e2e/run.sh --examples-only  apply the examples and the seed's ProxyConfig, wait until all
#                                       are Ready, tear down (make e2e, at the oldest Authentik line)
# E2E_AUTHENTIK_VERSION picks the Authentik release line the simulator answers as
# (default: the simulator's, the line of the provider's API client).
# E2E_RUN picks the e2e tests to run by pattern (go test -run), e.g. E2E_RUN=TestNamespaceDeletion;
# E2E_CLOSED_RUN those of the second phase, the provider at its default --poll (default ^TestClosed,
# empty to skip it).
set -euo pipefail
# shellcheck source=../local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

EXAMPLES_ONLY=false
for a in "$@"; do
  case "$a" in
    --examples-only) EXAMPLES_ONLY=true ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) die "unknown argument $a (usage: $0 [--examples-only])" ;;
  esac
done

: "${E2E_SIM_PORT:=9000}"            # examples/providerconfig.yaml points at this port
: "${E2E_PROVIDER_METRICS_PORT:=8080}"
: "${E2E_PROVIDER_HEALTH_PORT:=8081}"
: "${E2E_READY_TIMEOUT:=180s}"
: "${E2E_AUTHENTIK_VERSION:=}"
SIM_URL=http://127.0.0.1:$E2E_SIM_PORT
METRICS_URL=http://127.0.0.1:$E2E_PROVIDER_METRICS_PORT/metrics
TOKEN=$(openssl rand -hex 24)

teardown() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    log "FAILED (exit $rc); provider log tail:"
    tail -30 "$LOGS/provider.log" 2>/dev/null >&2 || true
  fi
  "$LOCAL_DIR/down.sh" || true
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM

require_bins provider authentik-sim
"$LOCAL_DIR/up.sh" --with-crossplane

log "installing the provider's CRDs"
k apply --server-side -f "$ROOT/package/provider/crds" >/dev/null
k wait --for=condition=Established --timeout=60s -f "$ROOT/package/provider/crds" >/dev/null

log "installing the Configuration's XRDs and Compositions (ProxyConfig, OIDCConfig)"
install_configuration_apis

start_bg authentik-sim "$BIN/authentik-sim" --listen "127.0.0.1:$E2E_SIM_PORT" --token "$TOKEN" \
  ${E2E_AUTHENTIK_VERSION:+--authentik-version "$E2E_AUTHENTIK_VERSION"}
wait_for_pid_port authentik-sim "$E2E_SIM_PORT" 30
# The suite tests route discovery (cluster/e2e/discovery_test.go); the examples-only run keeps the
# provider's default, discovery off, and checks it costs nothing there.
DISCOVERY=()
if ! $EXAMPLES_ONLY; then DISCOVERY=(--enable-discovery); fi
start_bg provider "$BIN/provider" --debug --poll=5s --leader-election-namespace=crossplane-system \
  --metrics-bind-address="127.0.0.1:$E2E_PROVIDER_METRICS_PORT" \
  --health-probe-bind-address="127.0.0.1:$E2E_PROVIDER_HEALTH_PORT" "${DISCOVERY[@]}"
wait_for_pid_url provider "http://127.0.0.1:$E2E_PROVIDER_HEALTH_PORT/readyz" 60

log "applying the examples"
k apply -f "$ROOT/examples/providerconfig.yaml"
# The example's token is a placeholder; use the simulator's.
k -n crossplane-system create secret generic authentik-token --from-literal=token="$TOKEN" \
  --dry-run=client -o yaml | k apply -f - >/dev/null
for f in "$ROOT"/examples/*.yaml; do
  [ "$(basename "$f")" = providerconfig.yaml ] && continue
  k apply -f "$f"
done
# The import example observes the proxy provider with pk 1, the first one made on a fresh Authentik;
# proxy and OAuth2 providers share one pk sequence, so here it observes whatever pk the Longhorn
# example got.
k wait --for=condition=Ready proxyprovider/longhorn -n default --timeout="$E2E_READY_TIMEOUT" >/dev/null \
  || die "the ProxyProvider example did not become Ready"
longhorn_pk=$(k get proxyprovider/longhorn -n default -o jsonpath='{.metadata.annotations.crossplane\.io/external-name}')
sed "s|crossplane.io/external-name: \"1\"|crossplane.io/external-name: \"$longhorn_pk\"|" \
  "$ROOT/examples/import/proxyprovider-observe.yaml" | k apply -f -

log "waiting for every managed resource to be Ready and Synced"
if ! k wait --for=condition=Ready --all managed -A --timeout="$E2E_READY_TIMEOUT" >/dev/null \
  || ! k wait --for=condition=Synced --all managed -A --timeout=30s >/dev/null; then
  k get managed -A -o wide >&2 || true
  die "not every managed resource became Ready and Synced"
fi
k get managed -A

apply_seed_proxyconfig() {
  log "applying the seed's ProxyConfig (examples/proxyconfig/longhorn-proxy.yaml)"
  k create namespace longhorn-system --dry-run=client -o yaml | k apply -f - >/dev/null
  k apply -f "$ROOT/examples/proxyconfig/longhorn-proxy.yaml"
  k wait --for=condition=Ready proxyconfig/longhorn-proxy -n longhorn-system --timeout="$E2E_READY_TIMEOUT" >/dev/null \
    || die "the seed's ProxyConfig did not become Ready"
}

# apply_oidcconfigs : the OIDCConfig examples, each in its namespace, and wait until all are Ready.
apply_oidcconfigs() {
  log "applying the OIDCConfig examples (examples/oidcconfig)"
  local f ns
  for f in "$ROOT"/examples/oidcconfig/*.yaml; do
    ns=$(sed -n 's/^  namespace: //p' "$f" | head -1)
    k create namespace "$ns" --dry-run=client -o yaml | k apply -f - >/dev/null
    k apply -f "$f"
  done
  k wait --for=condition=Ready --all oidcconfig -A --timeout="$E2E_READY_TIMEOUT" >/dev/null \
    || { k get oidcconfig -A -o wide >&2; die "not every OIDCConfig example became Ready"; }
  k get oidcconfig -A
}

if $EXAMPLES_ONLY; then
  apply_seed_proxyconfig
  apply_oidcconfigs
  if ! k wait --for=condition=Ready --all managed -A --timeout="$E2E_READY_TIMEOUT" >/dev/null; then
    k get managed -A -o wide >&2 || true
    die "not every managed resource became Ready with the seed's ProxyConfig applied"
  fi
  k get managed -A
  violations=$(curl -fsS "$SIM_URL/_sim/violations")
  [ "$violations" = "[]" ] || die "the simulator saw answers or requests that break the schema: $violations"
  # Discovery is off by default: no discovery controller, so no route or ProxyConfig watch.
  grep -qF 'Route discovery is off: --enable-discovery not given' "$LOGS/provider.log" || die "the provider's log does not say route discovery is off"
  metrics=$(curl -fsS "$METRICS_URL")
  grep -q 'controller="managed/proxyprovider' <<<"$metrics" || die "the provider's metrics name no controller: cannot tell whether discovery runs"
  ! grep -E 'controller="discovery/' <<<"$metrics" || die "discovery controllers run although --enable-discovery was not given"
  ! grep -E 'Starting EventSource.*(Ingress|HTTPRoute|ProxyConfig)' "$LOGS/provider.log" || die "the provider watches routes or ProxyConfigs although --enable-discovery was not given"
  log "route discovery is off by default: no discovery controller in the metrics, no Ingress/HTTPRoute/ProxyConfig watch in the log"
  log "examples and the seed's ProxyConfig are Ready against Authentik $(curl -fsS -H "Authorization: Bearer $TOKEN" "$SIM_URL/api/v3/admin/version/" | sed -n 's/.*"version_current":"\([^"]*\)".*/\1/p')"
  exit 0
fi

log "running the e2e suite"
cd "$ROOT"
E2E_SIM_URL=$SIM_URL E2E_TOKEN=$TOKEN E2E_ROOT=$ROOT E2E_METRICS_URL=$METRICS_URL E2E_PROVIDER_LOG=$LOGS/provider.log \
  go test -count=1 -tags e2e -v -timeout 20m -run "${E2E_RUN:-.}" -skip '^TestClosed' ./cluster/e2e/

# Second phase: the closed-by-construction tests, against the provider at its default --poll (1m), so
# that nothing they check depends on how soon the provider notices a deletion in Authentik.
[ -n "${E2E_CLOSED_RUN-^TestClosed}" ] || exit 0
log "restarting the provider at its default --poll for the closed-by-construction tests"
stop_bg provider
start_bg provider "$BIN/provider" --debug --leader-election-namespace=crossplane-system \
  --metrics-bind-address="127.0.0.1:$E2E_PROVIDER_METRICS_PORT" \
  --health-probe-bind-address="127.0.0.1:$E2E_PROVIDER_HEALTH_PORT"
wait_for_pid_url provider "http://127.0.0.1:$E2E_PROVIDER_HEALTH_PORT/readyz" 60
E2E_SIM_URL=$SIM_URL E2E_TOKEN=$TOKEN E2E_ROOT=$ROOT E2E_POLL=1m \
  go test -count=1 -tags e2e -v -timeout 15m -parallel 16 -run "${E2E_CLOSED_RUN-^TestClosed}" ./cluster/e2e/
