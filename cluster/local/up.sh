#!/usr/bin/env bash
# Brings up a local control plane on 127.0.0.1 from the binaries built by cluster/build-tools.sh:
#   etcd, kube-apiserver, kube-controller-manager (garbage collector, namespaces, service accounts)
# and with --with-crossplane also:
#   in-memory OCI registry, composition functions (out of cluster, mTLS), crossplane core (out of cluster),
#   and a Function object per function (named and published as lib.sh's fn_object/fn_package say).
# --no-function-objects leaves the Function objects to the caller (who then acts as their runtime with
# lib.sh's serve_function_revisions), as when a Flux layout or a Configuration's dependencies install them.
# State: _output/run (kubeconfig, pki, etcd data, logs/, pids/). Stop with cluster/local/down.sh.
# On failure everything started so far is stopped again (KEEP_ON_FAILURE=1 keeps it for debugging);
# if this script itself is killed, down.sh still finds every process by its recorded PID.
# LOCAL_DEBUG=0 runs Crossplane and the functions without --debug (the scale bench does; default 1).
# Usage: cluster/local/up.sh [--with-crossplane [--no-function-objects]]
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WITH_XP=false FN_OBJECTS=true
for a in "$@"; do
  case "$a" in
    --with-crossplane) WITH_XP=true ;;
    --no-function-objects) FN_OBJECTS=false ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown argument $a (usage: $0 [--with-crossplane [--no-function-objects]])" ;;
  esac
done

DEBUG_FLAG=(--debug)
[ "${LOCAL_DEBUG:-1}" = 1 ] || DEBUG_FLAG=()
ETCD_PEER_PORT=$((CLUSTER_ETCD_PORT + 1)) ETCD_METRICS_PORT=$((CLUSTER_ETCD_PORT + 2))
REG=127.0.0.1:$CLUSTER_REGISTRY_PORT

preflight() {
  require_bins etcd kube-apiserver kube-controller-manager kubectl
  if $WITH_XP; then
    require_bins crossplane crank localreg "${FUNCTIONS[@]}"
    [ -d "$WORK/crossplane-crds" ] || die "$WORK/crossplane-crds missing: run cluster/build-tools.sh crossplane"
    [ -d "$WORK/pkg" ] || die "$WORK/pkg missing: run cluster/build-tools.sh functions"
  fi
  command -v openssl >/dev/null || die "needs openssl"
  command -v curl >/dev/null || die "needs curl"
  # already up (or half up)? Only our own recorded processes count.
  local n live=()
  if [ -d "$PIDS" ]; then
    for n in $(recorded_names); do running "$n" && live+=("$n"); done
  fi
  [ ${#live[@]} -eq 0 ] || die "control plane already running (${live[*]}); run cluster/local/down.sh first"
  if [ -f "$RUN/up.pid" ] && kill -0 "$(cat "$RUN/up.pid")" 2>/dev/null; then
    die "another up.sh is running (pid $(cat "$RUN/up.pid"))"
  fi
  local ports=("$CLUSTER_ETCD_PORT" "$ETCD_PEER_PORT" "$ETCD_METRICS_PORT" "$CLUSTER_APISERVER_PORT") fn
  if $WITH_XP; then
    ports+=("$CLUSTER_REGISTRY_PORT" "$CLUSTER_XP_METRICS_PORT" "$CLUSTER_XP_HEALTH_PORT")
    for fn in "${FUNCTIONS[@]}"; do ports+=("$(fn_port "$fn")"); done
  fi
  local p
  for p in "${ports[@]}"; do port_open "$p" && die "port $p is in use (override with CLUSTER_*_PORT, see lib.sh)"; done
  return 0
}

up_kube() {
  local T
  T=$(ts); gen_certs; log "certs: $(since "$T")s"

  start_bg etcd "$BIN/etcd" --name local --data-dir "$RUN/etcd" \
    --listen-client-urls "http://127.0.0.1:$CLUSTER_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$CLUSTER_ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "local=http://127.0.0.1:$ETCD_PEER_PORT" \
    --listen-metrics-urls "http://127.0.0.1:$ETCD_METRICS_PORT" \
    --unsafe-no-fsync --log-level warn   # throwaway data: fsync only slows tests down
  wait_for_pid_url etcd "http://127.0.0.1:$CLUSTER_ETCD_PORT/health" 60

  start_bg kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$CLUSTER_ETCD_PORT" \
    --bind-address="$CLUSTER_APISERVER_BIND" --advertise-address="$CLUSTER_APISERVER_ADVERTISE" --secure-port="$CLUSTER_APISERVER_PORT" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --kubelet-client-certificate="$PKI/admin.crt" --kubelet-client-key="$PKI/admin.key" \
    --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --authorization-mode=RBAC
  write_kubeconfig
  wait_for_pid_url kube-apiserver "https://127.0.0.1:$CLUSTER_APISERVER_PORT/readyz" 120 \
    --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key"

  # Crossplane relies on ownerReference garbage collection to delete composed resources when an XR goes
  # away; namespace + serviceaccount controllers make namespaces deletable and give them a default SA.
  start_bg kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig="$KUBECONFIG" \
    --controllers="$CLUSTER_KCM_CONTROLLERS" \
    --leader-elect=false --secure-port=0 --use-service-account-credentials=false \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt"
  wait_for "kube-controller-manager (default ServiceAccount)" 60 k get serviceaccount default -n default
}

up_crossplane() {
  local T fn i

  # 1. registry: crossplane core still pulls function packages even with the External runtime.
  #    go-containerregistry talks plain HTTP to 127.0.0.1, so no TLS needed here.
  start_bg localreg "$BIN/localreg" -addr "$REG"
  wait_for_pid_url localreg "http://$REG/v2/" 30

  # 2. function packages: metadata-only xpkgs (no runtime image), built from the function sources.
  T=$(ts)
  for fn in "${FUNCTIONS[@]}"; do
    "$BIN/crank" xpkg build --package-root="$WORK/pkg/$fn" --examples-root=/nonexistent -o "$RUN/$fn.xpkg" >/dev/null
    "$BIN/crank" xpkg push -f "$RUN/$fn.xpkg" "$(fn_package "$fn")" >/dev/null
  done
  log "xpkg build+push: $(since "$T")s"

  # 3. the functions themselves, serving mTLS to crossplane core
  for fn in "${FUNCTIONS[@]}"; do
    start_bg "$fn" "$BIN/$fn" --address="127.0.0.1:$(fn_port "$fn")" --tls-certs-dir="$PKI/fn-server-dir" "${DEBUG_FLAG[@]}"
  done

  # 4. crossplane core init (CRDs from the crossplane module, TLS CA/client secrets). Init applies the
  #    CRDs and immediately creates a Lock; before discovery sees the new CRDs that fails (in a cluster the
  #    init container just restarts), so retry. (Pre-applying the CRDs and waiting for Established was
  #    measured no faster.)
  T=$(ts)
  k create namespace "$XP_NS" --dry-run=client -o yaml | k apply -f - >/dev/null
  for i in 1 2 3 4 5 6; do
    if POD_NAMESPACE=$XP_NS CRDS_PATH="$WORK/crossplane-crds" \
       TLS_CA_SECRET_NAME=crossplane-root-ca TLS_CLIENT_SECRET_NAME=crossplane-tls-client \
       run_recorded crossplane-init "$BIN/crossplane" core init --enable-webhooks=false; then break; fi
    [ "$i" -lt 6 ] || die "crossplane core init failed, see $LOGS/crossplane-init.log"
    log "core init attempt $i failed (expected once on a fresh cluster), retrying"; sleep 1
  done
  log "crossplane core init: $(since "$T")s"

  mkdir -p "$RUN/xpkg-cache" "$RUN/xfn-cache"
  POD_NAMESPACE=$XP_NS TLS_CLIENT_CERTS_DIR="$PKI/xp-client-dir" \
  start_bg crossplane "$BIN/crossplane" core start --enable-webhooks=false --package-runtime=External \
    --xpkg-cache-dir="$RUN/xpkg-cache" --xfn-cache-dir="$RUN/xfn-cache" \
    --metrics-port="$CLUSTER_XP_METRICS_PORT" --health-probe-port="$CLUSTER_XP_HEALTH_PORT" \
    --poll-interval=10s "${DEBUG_FLAG[@]}"
  wait_for_pid_url crossplane "http://127.0.0.1:$CLUSTER_XP_HEALTH_PORT/healthz" 120
  for fn in "${FUNCTIONS[@]}"; do wait_for_pid_port "$fn" "$(fn_port "$fn")" 30; done

  # 5. Function objects pulling from the loopback registry; their revisions point at the local servers.
  k -n "$XP_NS" create secret tls xfn-server-tls --cert="$PKI/fn-server.crt" --key="$PKI/fn-server.key" \
    --dry-run=client -o yaml | k apply -f - >/dev/null
  $FN_OBJECTS || return 0
  T=$(ts)
  for fn in "${FUNCTIONS[@]}"; do
    printf 'apiVersion: pkg.crossplane.io/v1\nkind: Function\nmetadata: {name: %s}\nspec: {package: "%s"}\n---\n' "$(fn_object "$fn")" "$(fn_package "$fn")"
  done | k apply -f - >/dev/null
  for fn in "${FUNCTIONS[@]}"; do
    wait_for "FunctionRevision $(fn_object "$fn")" 120 serve_function_revision "$fn"
  done
  local fns=()
  for fn in "${FUNCTIONS[@]}"; do fns+=("function/$(fn_object "$fn")"); done
  wait_for "Functions Healthy" 120 k wait --for=condition=Healthy --timeout=1s "${fns[@]}"
  log "functions registered: $(since "$T")s"
}

on_exit() {
  local rc=$?
  rm -f "$RUN/up.pid"
  [ "$rc" -eq 0 ] && return 0
  if [ "${KEEP_ON_FAILURE:-}" = 1 ]; then
    log "FAILED (rc=$rc); KEEP_ON_FAILURE=1: leaving processes running, logs in $LOGS"
  else
    log "FAILED (rc=$rc); stopping what was started (logs kept in $LOGS)"
    [ ! -d "$RUN/node" ] || "$LOCAL_DIR/node.sh" down || true
    stop_all
  fi
  exit "$rc"
}

main() {
  local T0
  T0=$(ts)
  preflight
  # Fresh state, but only after preflight proved nothing of ours is running.
  clean_state --all; mkdir -p "$RUN" "$LOGS" "$PIDS"
  echo $$ > "$RUN/up.pid"   # lets down.sh stop an up.sh that is still in progress
  trap on_exit EXIT
  trap 'exit 130' INT TERM
  [ "$CLUSTER_NODE" != 1 ] || "$LOCAL_DIR/node.sh" net
  up_kube
  log "kubernetes up: $(since "$T0")s"
  [ "$CLUSTER_NODE" != 1 ] || "$LOCAL_DIR/node.sh" up
  if $WITH_XP; then up_crossplane; fi
  log "control plane up in $(since "$T0")s"
  echo "export KUBECONFIG=$KUBECONFIG"
}

main
