#!/usr/bin/env bash
# The fault suite (make e2e-faults) on the local control plane: kube-apiserver and Crossplane come up,
# the provider's CRDs, the ProxyConfig Configuration and the ClusterProviderConfig are installed, then
# the Go tests in cluster/e2e/faults (build tag e2e) start and stop the Authentik simulator and provider
# processes themselves: two replicas and a killed leader, a simulator outage, and 100 ProxyConfigs under
# injected faults. Everything is torn down on exit, also on failure.
#   cluster/e2e/faults.sh                      hand-over, outage and TestFaults once (about 13 minutes)
#   E2E_FAULTS_COUNT=3 cluster/e2e/faults.sh   TestFaults three times in a row
#   E2E_FAULTS_RUN=TestOutage E2E_OUTAGE=30s cluster/e2e/faults.sh   one test only
#   E2E_OUTAGE=3m (default) sets how long the simulator stays down in TestOutage;
#   E2E_FAULTS_READY_TIMEOUT=20m (default) how long TestFaults waits for its ProxyConfigs;
#   E2E_FAULTS_PER_NAMESPACE=20 (default) ProxyConfigs in each of TestFaults' five namespaces;
#   E2E_BIN=DIR runs the provider and simulator built in DIR (to show a broken build fails);
#   E2E_SIM_PORT, E2E_PROVIDER_PORT_BASE and lib.sh's CLUSTER_*_PORT move every port, with
#   CLUSTER_RUN another state directory, so a second stack can run beside `make e2e`.
set -euo pipefail
# shellcheck source=../local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

: "${E2E_SIM_PORT:=9000}"
: "${E2E_PROVIDER_PORT_BASE:=18080}"  # provider n: metrics on base+2n, health on base+2n+1
: "${E2E_FAULTS_RUN:=}"
: "${E2E_FAULTS_COUNT:=1}"
: "${E2E_OUTAGE:=3m}"
TOKEN=$(openssl rand -hex 24)

teardown() {
  local rc=$?
  [ "$rc" -eq 0 ] || log "FAILED (exit $rc); logs in $LOGS"
  "$LOCAL_DIR/down.sh" || true
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM

require_bins provider authentik-sim
t0=$(ts)
"$LOCAL_DIR/up.sh" --with-crossplane

log "installing the provider's CRDs, the ProxyConfig Configuration and the ClusterProviderConfig"
k apply --server-side -f "$ROOT/package/provider/crds" >/dev/null
k wait --for=condition=Established --timeout=60s -f "$ROOT/package/provider/crds" >/dev/null
install_configuration_apis
# The example's ClusterProviderConfig points at the simulator's default port.
sed "s#http://127.0.0.1:9000#http://127.0.0.1:$E2E_SIM_PORT#" "$ROOT/examples/providerconfig.yaml" | k apply -f - >/dev/null
k -n crossplane-system create secret generic authentik-token --from-literal=token="$TOKEN" \
  --dry-run=client -o yaml | k apply -f - >/dev/null
log "control plane ready after $(since "$t0")s"

cd "$ROOT"
export E2E_ROOT=$ROOT E2E_TOKEN=$TOKEN E2E_SIM_PORT=$E2E_SIM_PORT E2E_PROVIDER_PORT_BASE=$E2E_PROVIDER_PORT_BASE \
  E2E_LOGS=$LOGS E2E_OUTAGE=$E2E_OUTAGE E2E_FAULTS_READY_TIMEOUT E2E_FAULTS_PER_NAMESPACE E2E_BIN
suite() { go test -failfast -tags e2e -v -timeout 120m ./cluster/e2e/faults/... "$@"; }
if [ -n "$E2E_FAULTS_RUN" ]; then
  suite -count=1 -run "$E2E_FAULTS_RUN"
else
  suite -count=1 -run 'TestLeaderElection|TestOutage'
  t1=$(ts)
  suite -count="$E2E_FAULTS_COUNT" -run 'TestFaults'
  log "TestFaults ran $E2E_FAULTS_COUNT times in a row in $(since "$t1")s"
fi
log "fault suite passed in $(since "$t0")s"
