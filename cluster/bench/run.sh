#!/usr/bin/env bash
# The scale bench (make bench-scale; not part of make test): the local control plane, the provider's
# CRDs and the ProxyConfig Configuration, the Authentik simulator and the provider binary out of cluster,
# then TestScale (cluster/bench, build tag bench) applies ProxyConfigs like the seed's and prints one table.
# Everything is torn down on exit, also on failure.
#   N=100 (default)    ProxyConfigs applied at once; N=500 must work
#   BENCH_POLL=10s     the provider's --poll (the steady state is measured over three polls)
#   BENCH_SINGLES=5    ProxyConfigs applied one at a time for the one-ProxyConfig figures (0: leave them out)
#   BENCH_PROVIDER_ARGS="--max-reconcile-rate=50"   more provider flags, for before/after figures
#   BENCH_GOMEMLIMIT=48MiB   the provider's GOMEMLIMIT (unset by default)
#   BENCH_MEMPROFILERATE=4096   sample the provider's heap every 4 KiB, not Go's 512 KiB: a finer heap
#                      profile, at a cost in CPU and memory that the figures then include
#   CLUSTER_*_PORT, E2E_SIM_PORT, E2E_PROVIDER_*_PORT, BENCH_PPROF_PORT, CLUSTER_RUN   move the stack
#                      (see cluster/local/lib.sh), to run beside another one
#   LOCAL_DEBUG=1      Crossplane and the functions log at debug level (off here: at N=100 the
#                      functions alone wrote 80 MB of debug log, which the figures would measure too)
# The table goes to stdout and to _output/bench-scale-N.md; the provider's CPU profile of the N claims'
# creation and its heap profile in steady state to _output/bench-scale-N-{cpu,heap}.pprof
# (go tool pprof -top _output/bin/provider _output/bench-scale-100-heap.pprof).
set -euo pipefail
# shellcheck source=../local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

: "${N:=100}"
: "${BENCH_POLL:=10s}"
: "${BENCH_PROVIDER_ARGS:=}"
: "${E2E_SIM_PORT:=9000}"            # examples/providerconfig.yaml points at 9000; moved with it
: "${E2E_PROVIDER_METRICS_PORT:=8080}"
: "${E2E_PROVIDER_HEALTH_PORT:=8081}"
: "${BENCH_PPROF_PORT:=6060}"
: "${BENCH_GOMEMLIMIT:=}"
: "${BENCH_MEMPROFILERATE:=}"
: "${LOCAL_DEBUG:=0}"
export LOCAL_DEBUG
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
"$LOCAL_DIR/up.sh" --with-crossplane
k apply --server-side -f "$ROOT/package/provider/crds" >/dev/null
k wait --for=condition=Established --timeout=60s -f "$ROOT/package/provider/crds" >/dev/null
install_configuration_apis

start_bg authentik-sim "$BIN/authentik-sim" --listen "127.0.0.1:$E2E_SIM_PORT" --token "$TOKEN"
wait_for_pid_port authentik-sim "$E2E_SIM_PORT" 30
# shellcheck disable=SC2086 # BENCH_PROVIDER_ARGS is a list of flags
GOMEMLIMIT=$BENCH_GOMEMLIMIT GODEBUG=${BENCH_MEMPROFILERATE:+memprofilerate=$BENCH_MEMPROFILERATE} start_bg provider "$BIN/provider" --poll="$BENCH_POLL" --leader-election-namespace=crossplane-system \
  --metrics-bind-address="127.0.0.1:$E2E_PROVIDER_METRICS_PORT" \
  --health-probe-bind-address="127.0.0.1:$E2E_PROVIDER_HEALTH_PORT" \
  --pprof-bind-address="127.0.0.1:$BENCH_PPROF_PORT" $BENCH_PROVIDER_ARGS
wait_for_pid_url provider "http://127.0.0.1:$E2E_PROVIDER_HEALTH_PORT/readyz" 60
sed "s|127.0.0.1:9000|127.0.0.1:$E2E_SIM_PORT|" "$ROOT/examples/providerconfig.yaml" | k apply -f - >/dev/null
k -n crossplane-system create secret generic authentik-token --from-literal=token="$TOKEN" \
  --dry-run=client -o yaml | k apply -f - >/dev/null
k wait --for=condition=Ready --timeout=60s clusterproviderconfig --all >/dev/null

cd "$ROOT"
BENCH_N=$N BENCH_POLL=$BENCH_POLL BENCH_PROVIDER_PID=$(pid_of provider) BENCH_SIM_URL=http://127.0.0.1:$E2E_SIM_PORT \
  BENCH_TOKEN=$TOKEN BENCH_ROOT=$ROOT BENCH_OUT=$ROOT/_output/bench-scale-$N.md \
  BENCH_PPROF_URL=http://127.0.0.1:$BENCH_PPROF_PORT/debug/pprof \
  go test -count=1 -tags bench -v -timeout 90m ./cluster/bench/
