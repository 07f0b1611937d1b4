#!/usr/bin/env bash
# End-to-end run as users run the provider, on the local node (root; make build xpkg,
# cluster/build-tools.sh all node): Crossplane from its chart at its defaults, the provider from its
# .xpkg as the pod Crossplane runs with examples/gitops' DeploymentRuntimeConfig and RBAC
# (cluster/package/node-lib.sh), its flags set in that DeploymentRuntimeConfig, the Authentik simulator
# on the node's address. Every example is applied and waited for, then the Go e2e suite (cluster/e2e,
# build tag e2e) checks Authentik's state, drift repair, CRD validation and deletion. Everything is torn
# down on exit, also on failure.
#   cluster/e2e/run.sh                  the e2e suite (make e2e)
#   cluster/e2e/run.sh --examples-only  apply the examples and the seed's ProxyConfig, wait until all
#                                       are Ready, run ^TestExamplesOnly, tear down (make e2e, at the
#                                       oldest Authentik line)
# E2E_AUTHENTIK_VERSION picks the Authentik release line the simulator answers as
# (default: the simulator's, the line of the provider's API client).
# E2E_RUN picks the e2e tests to run by pattern (go test -run), e.g. E2E_RUN=TestNamespaceDeletion;
# E2E_CLOSED_RUN those of the second phase, the provider at its default --poll (default ^TestClosed,
# empty to skip it).
set -euo pipefail
export CLUSTER_NODE=1
# shellcheck source=../local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"
# shellcheck source=../package/node-lib.sh
. "$CLUSTER_DIR/package/node-lib.sh"

EXAMPLES_ONLY=false
for a in "$@"; do
  case "$a" in
    --examples-only) EXAMPLES_ONLY=true ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) die "unknown argument $a (usage: $0 [--examples-only])" ;;
  esac
done

: "${E2E_SIM_PORT:=9000}"
: "${E2E_READY_TIMEOUT:=180s}"
: "${E2E_AUTHENTIK_VERSION:=}"
# The provider's pod reaches the simulator on the node's address, as the tests on this machine do.
SIM_URL=http://$NODE_IP:$E2E_SIM_PORT
TOKEN=$(openssl rand -hex 24)
# The ports examples/gitops' DeploymentRuntimeConfig names.
PORT_ARGS=(--metrics-bind-address=:8080 --health-probe-bind-address=:8081)

teardown() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    log "FAILED (exit $rc); provider log tail:"
    k get pods -A -o wide >&2 2>/dev/null || true
    provider_log_tail 30
  fi
  "$LOCAL_DIR/down.sh" || true
  exit "$rc"
}

# suite ARG... : go test of cluster/e2e with ARGs; the tests read the provider pod's log and metrics
# through the API server.
suite() {
  (cd "$ROOT" && E2E_SIM_URL=$SIM_URL E2E_TOKEN=$TOKEN E2E_ROOT=$ROOT go test -count=1 -tags e2e -v "$@" ./cluster/e2e/)
}

require_bins provider authentik-sim crank kubectl
require_packages
trap teardown EXIT
trap 'exit 130' INT TERM
"$LOCAL_DIR/up.sh"
"$LOCAL_DIR/crossplane-pods.sh" --no-function-objects
push_packages

log "installing the Configuration's XRDs and Compositions (ProxyConfig, OIDCConfig)"
install_configuration_apis

start_bg authentik-sim "$BIN/authentik-sim" --listen "$NODE_IP:$E2E_SIM_PORT" --token "$TOKEN" \
  ${E2E_AUTHENTIK_VERSION:+--authentik-version "$E2E_AUTHENTIK_VERSION"}
wait_for "the Authentik simulator on $NODE_IP:$E2E_SIM_PORT" 30 curl -fsS -o /dev/null "$SIM_URL/_sim/counters"
# The suite tests route discovery (cluster/e2e/discovery_test.go); the examples-only run keeps the
# provider's default, discovery off, and checks it costs nothing there.
DISCOVERY=()
if ! $EXAMPLES_ONLY; then DISCOVERY=(--enable-discovery); fi
install_provider_pods --debug --poll=5s "${DISCOVERY[@]}" "${PORT_ARGS[@]}"
# kubectl wait has one deadline for all the files' CRDs, and its client-side rate limit (5 requests a
# second after a burst of 10) spreads their reads over seconds: 30 s a try, not 1.
wait_for "the provider's CRDs Established" 120 \
  k wait --for=condition=Established --timeout=30s -f "$ROOT/package/provider/crds"

log "applying the examples"
# The example's Authentik is the simulator on 127.0.0.1:9000; the pod reaches it on the node's address.
sed "s|url: http://127.0.0.1:9000\$|url: $SIM_URL|" "$ROOT/examples/providerconfig.yaml" | k apply -f -
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
  # The schema, and discovery off by default (cluster/e2e/examples_only_test.go).
  suite -timeout 5m -run '^TestExamplesOnly'
  exit 0
fi

log "running the e2e suite"
suite -timeout 20m -run "${E2E_RUN:-.}" -skip '^TestClosed|^TestExamplesOnly'

# Second phase: the closed-by-construction tests, against the provider at its default --poll (1m), so
# that nothing they check depends on how soon the provider notices a deletion in Authentik.
[ -n "${E2E_CLOSED_RUN-^TestClosed}" ] || exit 0
log "restarting the provider at its default --poll for the closed-by-construction tests"
restart_provider_with --debug "${PORT_ARGS[@]}"
E2E_POLL=1m suite -timeout 15m -parallel 16 -run "${E2E_CLOSED_RUN-^TestClosed}"
