# shellcheck shell=bash
# Shared helpers for the local control plane (up.sh, down.sh, smoke.sh, render-validate.sh) and for
# e2e scripts that run more processes next to it. Source it:  . cluster/local/lib.sh
#
# Every background process goes through start_bg, which records its PID under $PIDS. stop_bg/stop_all
# stop only those recorded PIDs (after checking the PID still runs the command we started), so a
# crashed or kill -9'ed script can always be cleaned up by cluster/local/down.sh.

LOCAL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER_DIR=$(cd "$LOCAL_DIR/.." && pwd)
ROOT=$(cd "$CLUSTER_DIR/.." && pwd)
WORK=$CLUSTER_DIR/.work                      # filled by build-tools.sh (CRDs, package metadata)
BIN=${TOOLS_BIN:-$ROOT/_output/bin}
RUN=${CLUSTER_RUN:-$ROOT/_output/run}
LOGS=$RUN/logs
PIDS=$RUN/pids
PKI=$RUN/pki
export KUBECONFIG=$RUN/kubeconfig
# kubectl caches API discovery per host:port for minutes; every stack on this machine serves the same
# port with other CRDs, so each run keeps its own cache (cleared with the stack's state).
export KUBECACHEDIR=$RUN/kube-cache
export PATH=$BIN:$PATH

# Loopback ports. Defaults sit below the Linux ephemeral range (32768+) so outgoing connections can't
# take them, and away from the simulator (9000) and the provider (8080/8081). Override via env.
: "${CLUSTER_ETCD_PORT:=22379}"          # etcd client (peer = +1, metrics = +2)
: "${CLUSTER_APISERVER_PORT:=26443}"
: "${CLUSTER_REGISTRY_PORT:=25000}"      # in-memory OCI registry (function packages)
: "${CLUSTER_XP_METRICS_PORT:=28180}"    # crossplane core
: "${CLUSTER_XP_HEALTH_PORT:=28181}"
: "${CLUSTER_FN_PORT_BASE:=29443}"       # functions for core (mTLS): +0 P&T, +1 auto-ready, +2 go-templating
: "${CLUSTER_RENDER_PORT_BASE:=29543}"   # same functions, --insecure, for `crank render`
# A node (cluster/local/node.sh, CLUSTER_NODE=1): pods on a bridge of their own, whose address is the
# node's (kubelet refuses a loopback node IP). The API server then listens on every interface (node.sh
# drops what reaches it from elsewhere than loopback and the bridge) and publishes the node's address
# as the kubernetes Service's endpoint, which may not be loopback.
: "${CLUSTER_NODE:=0}"
: "${NODE_POD_CIDR:=10.244.0.0/24}"
: "${NODE_IP:=10.244.0.1}"
: "${NODE_BRIDGE:=xpnode0}"
if [ "$CLUSTER_NODE" = 1 ]; then
  # Crossplane in a pod pulls packages itself: the registry is where the pods and containerd reach it.
  : "${CLUSTER_REGISTRY_HOST:=$NODE_IP}"
  : "${CLUSTER_APISERVER_BIND:=0.0.0.0}"
  : "${CLUSTER_APISERVER_ADVERTISE:=$NODE_IP}"
  # Deployments, their pods' Services and CA bundle, the aggregated ClusterRoles Crossplane uses, and
  # the node's taints (kubelet registers it not-ready; the node lifecycle controller lifts that).
  : "${CLUSTER_KCM_CONTROLLERS:=garbagecollector,namespace,serviceaccount,serviceaccount-token,deployment,replicaset,endpointslice,root-ca-cert-publisher,clusterrole-aggregation,podgc,nodelifecycle}"
fi
: "${CLUSTER_REGISTRY_HOST:=127.0.0.1}"
REGISTRY=$CLUSTER_REGISTRY_HOST:$CLUSTER_REGISTRY_PORT
: "${CLUSTER_APISERVER_BIND:=127.0.0.1}"
: "${CLUSTER_APISERVER_ADVERTISE:=127.0.0.1}"
: "${CLUSTER_KCM_CONTROLLERS:=garbagecollector,namespace,serviceaccount,serviceaccount-token}"
export XP_NS=crossplane-system

# Functions: name -> port offset. Package metadata comes from $WORK/pkg/<name> (build-tools.sh functions).
FUNCTIONS=(function-patch-and-transform function-auto-ready function-go-templating)
fn_port() { # NAME [BASE]
  local base=${2:-$CLUSTER_FN_PORT_BASE} i
  for i in "${!FUNCTIONS[@]}"; do [ "${FUNCTIONS[$i]}" = "$1" ] && { echo $((base + i)); return 0; }; done
  return 1
}
# The functions are published where the public ones live (crossplane-contrib/<name>, at the version
# build-tools.sh builds), and a Function object carries the name Crossplane's dependency resolver gives
# a package it installs by itself: its repository path with "/" turned into "-" (xpkg.ToDNSLabel in
# crossplane-runtime). Compositions call functions by that name.
FN_REPO=crossplane-contrib
fn_object() { echo "$FN_REPO-$1"; } # NAME
fn_version() { # NAME : the version cluster/build-tools.sh builds
  local var
  case "$1" in
    function-patch-and-transform) var=FN_PAT_VERSION ;;
    function-go-templating) var=FN_GOTPL_VERSION ;;
    function-auto-ready) var=FN_READY_VERSION ;;
    *) return 1 ;;
  esac
  sed -n "s/^$var=\([^ ]*\).*/\1/p" "$CLUSTER_DIR/build-tools.sh"
}
fn_package() { echo "$REGISTRY/$FN_REPO/$1:$(fn_version "$1")"; } # NAME

# serve_function_revision NAME : act as the "external runtime" for the FunctionRevisions of function
# NAME's package, whatever the Function object is called. With --package-runtime=External nothing runs
# the function or fills the runtime status, so set the endpoint (our local gRPC server), a TLS secret
# name (required before the package's input CRDs get installed) and RuntimeHealthy=True. Fails while
# there is no such revision.
serve_function_revision() {
  local rev image found=false
  while read -r rev image; do
    case "$image" in */"$FN_REPO/$1":* | */"$FN_REPO/$1"@*) ;; *) continue ;; esac
    k patch functionrevision "$rev" --subresource=status --type=merge -p "{\"status\":{\"endpoint\":\"127.0.0.1:$(fn_port "$1")\",\"tlsServerSecretName\":\"xfn-server-tls\",\"conditions\":[{\"type\":\"RuntimeHealthy\",\"status\":\"True\",\"reason\":\"HealthyPackageRevision\",\"lastTransitionTime\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}]}}" >/dev/null || return 1
    found=true
  done < <(k get functionrevisions -o jsonpath='{range .items[*]}{.metadata.name} {.spec.image}{"\n"}{end}' 2>/dev/null)
  $found
}

log() { printf '[%s %s] %s\n' "$(basename "$0")" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
ts() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(ts)" 'BEGIN{printf "%.1f", b-a}'; }
k() { "$BIN/kubectl" "$@"; }

# imagebuild ARGS... : the project's image builder (cluster/image/imagebuild), built once per state dir.
imagebuild() {
  [ -x "$RUN/imagebuild" ] || (cd "$ROOT" && go build -o "$RUN/imagebuild" ./cluster/image/imagebuild)
  "$RUN/imagebuild" "$@"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for DESC TIMEOUT_S CMD... : poll CMD every 0.2s until it succeeds.
# The timeout is wall time: CMD itself may take a while (kubectl on a busy machine).
wait_for() {
  local desc=$1 to=$2 t0 end=$((SECONDS + $2)); shift 2; t0=$(ts)
  while ((SECONDS < end)); do
    if "$@" >/dev/null 2>&1; then log "ready: $desc ($(since "$t0")s)"; return 0; fi
    sleep 0.2
  done
  log "TIMEOUT after ${to}s waiting for $desc"; return 1
}

# alive PID : process exists and is not a zombie (an unreaped zombie still answers kill -0).
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# recorded_names : names of all processes recorded by start_bg (running or not)
recorded_names() {
  [ -d "$PIDS" ] || return 0
  find "$PIDS" -maxdepth 1 -type f ! -name '*.tmp' -printf '%f\n'
}

# pid_of NAME : recorded PID of a process started by start_bg, if it still runs that command.
pid_of() {
  local f=$PIDS/$1 pid cmd
  [ -f "$f" ] || return 1
  { read -r pid; read -r cmd; } < "$f" || true
  [ -n "${pid:-}" ] && alive "$pid" || return 1
  # guard against PID reuse: the process must still carry the command line we started
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$cmd" || return 1
  echo "$pid"
}
running() { pid_of "$1" >/dev/null; }

# start_bg NAME CMD... : run CMD in the background in its own session (so `go run` children etc. can be
# stopped as a group), output to $LOGS/NAME.log, PID to $PIDS/NAME. The child writes its own PID file
# before exec'ing CMD, so even a kill -9 of the caller right after the fork leaves a record.
# Environment for CMD: prefix the call, e.g.  FOO=bar start_bg name cmd
start_bg() {
  local name=$1 i; shift
  [ $# -gt 0 ] || die "start_bg $name: no command"
  mkdir -p "$PIDS" "$LOGS"
  if running "$name"; then die "$name is already running (pid $(pid_of "$name"))"; fi
  rm -f "$PIDS/$name"
  # shellcheck disable=SC2016 # expanded by the child shell
  setsid nohup bash -c 'f=$1; shift; printf "%s\n%s\n" "$$" "$*" > "$f.tmp" && mv "$f.tmp" "$f"; exec "$@"' \
    start_bg "$PIDS/$name" "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null &
  for ((i = 0; i < 50; i++)); do [ -f "$PIDS/$name" ] && break; sleep 0.1; done
  [ -f "$PIDS/$name" ] || die "$name: no PID file after start"
  log "started $name (pid $(head -1 "$PIDS/$name"), log $LOGS/$name.log)"
}

# run_recorded NAME CMD... : run CMD to completion like start_bg (own session, PID recorded, output to
# $LOGS/NAME.log) and return its exit code. For longer one-shot commands (e.g. `crossplane core init`) so a
# killed caller can't leave them behind unrecorded.
run_recorded() {
  local name=$1 pid rc; shift
  mkdir -p "$PIDS" "$LOGS"
  rm -f "$PIDS/$name" "$RUN/$name.rc"
  # shellcheck disable=SC2016 # expanded by the child shell
  setsid -w bash -c 'f=$1 r=$2; shift 2; printf "%s\n%s\n" "$$" "$*" > "$f.tmp" && mv "$f.tmp" "$f"; "$@"; echo $? > "$r"' \
    run_recorded "$PIDS/$name" "$RUN/$name.rc" "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null &
  pid=$!
  wait "$pid" 2>/dev/null || true
  rc=$(cat "$RUN/$name.rc" 2>/dev/null || echo 255)
  rm -f "$PIDS/$name" "$RUN/$name.rc"
  return "$rc"
}

# stop_bg NAME... : TERM the recorded process group (fallback: the PID), wait up to 10s, then KILL.
stop_bg() {
  local n pid i
  for n in "$@"; do
    if pid=$(pid_of "$n"); then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.2; done
      if alive "$pid"; then
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        log "killed $n (pid $pid)"
      else
        log "stopped $n (pid $pid)"
      fi
      # the session may hold children that outlived the leader (e.g. the binary behind `go run`)
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$PIDS/$n"
  done
}

# stop_all : stop every recorded process, newest first (functions/crossplane before the API server).
stop_all() {
  [ -d "$PIDS" ] || return 0
  local names
  names=$(find "$PIDS" -maxdepth 1 -type f ! -name '*.tmp' -printf '%T@ %f\n' | sort -rn | cut -d' ' -f2)
  # shellcheck disable=SC2086
  [ -z "$names" ] || stop_bg $names
}

# wait_for_pid_port NAME PORT [TIMEOUT_S] : wait until PORT accepts connections; fail early (with the
# log tail) if the process NAME died meanwhile.
wait_for_pid_port() {
  local name=$1 port=$2 to=${3:-60} t0 i; t0=$(ts)
  for ((i = 0; i < to * 5; i++)); do
    if ! running "$name"; then log "$name exited; last log lines:"; tail -20 "$LOGS/$name.log" >&2; return 1; fi
    if port_open "$port"; then log "ready: $name on :$port ($(since "$t0")s)"; return 0; fi
    sleep 0.2
  done
  log "TIMEOUT after ${to}s waiting for $name on :$port"; tail -20 "$LOGS/$name.log" >&2; return 1
}

# wait_for_pid_url NAME URL [TIMEOUT_S] [CURL_ARGS...] : like wait_for_pid_port for an HTTP(S) endpoint.
wait_for_pid_url() {
  local name=$1 url=$2 to=${3:-60} t0 i; shift 3 || shift $#; t0=$(ts)
  for ((i = 0; i < to * 5; i++)); do
    if ! running "$name"; then log "$name exited; last log lines:"; tail -20 "$LOGS/$name.log" >&2; return 1; fi
    if curl -sf -o /dev/null "$@" "$url"; then log "ready: $name $url ($(since "$t0")s)"; return 0; fi
    sleep 0.2
  done
  log "TIMEOUT after ${to}s waiting for $name $url"; tail -20 "$LOGS/$name.log" >&2; return 1
}

# clean_state --all|--keep-logs : remove what these scripts create under $RUN, by name only (CLUSTER_RUN may
# point anywhere, so never rm -rf the directory itself).
clean_state() {
  local keep_logs=false
  [ "${1:-}" = --keep-logs ] && keep_logs=true
  [ -d "$RUN" ] || return 0
  rm -rf "${RUN:?}"/{etcd,pki,pids,xpkg-cache,xfn-cache,render,validate-cache,kube-cache} \
    "$RUN"/kubeconfig "$RUN"/up.pid "$RUN"/*.xpkg "$RUN"/*.rc "$RUN"/imagebuild
  $keep_logs || rm -rf "${RUN:?}/logs"
}

require_bins() { # NAME... : fail with a hint when tools are not built yet
  local b
  for b in "$@"; do
    [ -x "$BIN/$b" ] || die "$BIN/$b missing: run cluster/build-tools.sh first"
  done
}

# gen_certs : all PKI for the local control plane under $PKI (idempotent).
gen_certs() {
  mkdir -p "$PKI"
  [ -f "$PKI/.done" ] && return 0
  (
    cd "$PKI" || exit 1
    # ECDSA P-256 throughout: RSA key generation took seconds on a loaded 2-core machine.
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    ca() { openssl req -x509 "${ec[@]}" -days 3650 -subj "/CN=$2" -keyout "$1.key" -out "$1.crt" 2>/dev/null; }
    leaf() { # CA NAME SUBJ EXT
      openssl req "${ec[@]}" -subj "$3" -keyout "$2.key" -out "$2.csr" 2>/dev/null
      printf '%s\n' "$4" > "$2.ext"
      openssl x509 -req -in "$2.csr" -CA "$1.crt" -CAkey "$1.key" -CAcreateserial -days 3650 -extfile "$2.ext" -out "$2.crt" 2>/dev/null
      rm -f "$2.csr" "$2.ext"
    }
    ca ca kube-ca
    leaf ca apiserver "/CN=kube-apiserver" "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth"
    leaf ca admin "/O=system:masters/CN=admin" "extendedKeyUsage=clientAuth"
    openssl ecparam -name prime256v1 -genkey -noout -out sa.key 2>/dev/null && openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null
    # Composition functions: crossplane core always dials them over mTLS.
    ca xfn-ca xfn-ca
    leaf xfn-ca fn-server "/CN=function" "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
    leaf xfn-ca xp-client "/CN=crossplane.crossplane-system" "extendedKeyUsage=clientAuth"
    # directory layouts expected by crossplane core (TLS_CLIENT_CERTS_DIR) and function-sdk-go (--tls-certs-dir)
    mkdir -p xp-client-dir fn-server-dir
    cp xfn-ca.crt xp-client-dir/ca.crt; cp xp-client.crt xp-client-dir/tls.crt; cp xp-client.key xp-client-dir/tls.key
    cp xfn-ca.crt fn-server-dir/ca.crt; cp fn-server.crt fn-server-dir/tls.crt; cp fn-server.key fn-server-dir/tls.key
    touch .done
  )
}

write_kubeconfig() {
  cat > "$KUBECONFIG" <<KC
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:$CLUSTER_APISERVER_PORT", certificate-authority: "$PKI/ca.crt"}
users:
- name: admin
  user: {client-certificate: "$PKI/admin.crt", client-key: "$PKI/admin.key"}
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
KC
}

# start_render_functions BASE_PORT : start --insecure function instances for `crank render` unless their
# ports are already served. Appends the names it started to RENDER_STARTED (for stop_bg).
RENDER_STARTED=()
start_render_functions() {
  local base=$1 fn port
  require_bins "${FUNCTIONS[@]}"
  for fn in "${FUNCTIONS[@]}"; do
    port=$(fn_port "$fn" "$base")
    port_open "$port" && continue
    RENDER_STARTED+=("render-$fn")
    start_bg "render-$fn" "$BIN/$fn" --address="127.0.0.1:$port" --insecure
    wait_for_pid_port "render-$fn" "$port" 30 || return 1
  done
}

# render_functions_yaml BASE_PORT : Function objects pointing `crank render` at the insecure instances.
render_functions_yaml() {
  local base=$1 fn
  for fn in "${FUNCTIONS[@]}"; do
    cat <<YAML
---
apiVersion: pkg.crossplane.io/v1
kind: Function
metadata:
  name: $(fn_object "$fn")
  annotations:
    render.crossplane.io/runtime: Development
    render.crossplane.io/runtime-development-target: 127.0.0.1:$(fn_port "$fn" "$base")
spec:
  package: $(fn_package "$fn")
YAML
  done
}

# seed_validate_cache DIR : `crank beta validate` always wants the core CRDs image
# (xpkg.crossplane.io/crossplane/crossplane:<version>); pre-seed its cache with the CRDs from the
# crossplane module so it works offline. Use with --cache-dir=DIR --crossplane-image="$(validate_image)".
validate_image() { echo "local/crossplane-crds:$(cat "$WORK/crossplane-crds/VERSION")"; }
seed_validate_cache() {
  local dir=$1 v f
  [ -f "$WORK/crossplane-crds/VERSION" ] || die "no $WORK/crossplane-crds: run cluster/build-tools.sh crossplane"
  v=$(cat "$WORK/crossplane-crds/VERSION")
  mkdir -p "$dir/local/crossplane-crds@$v"
  for f in "$WORK"/crossplane-crds/*.yaml; do cat "$f"; echo '---'; done > "$dir/local/crossplane-crds@$v/package.yaml"
}

# rewrite_to_registry PREFIX REGISTRY : an ImageConfig that sends the packages and images under PREFIX (a
# public registry's name and /) to REGISTRY, the loopback one, where the tests push them.
rewrite_to_registry() {
  k apply -f - >/dev/null <<YAML
apiVersion: pkg.crossplane.io/v1beta1
kind: ImageConfig
metadata:
  name: loopback-registry
spec:
  matchImages:
  - prefix: $1
  rewriteImage:
    prefix: $2/
YAML
}

# install_configuration_apis : apply package/configuration's XRDs and Compositions (not the package: no
# meta, no dependencies) and wait until Crossplane serves their XRs (Established: an XR controller watches
# each kind).
install_configuration_apis() {
  local f
  local -a all=() xrds=()
  for f in "$ROOT"/package/configuration/*.yaml; do
    [ "$(basename "$f")" = crossplane.yaml ] && continue
    all+=(-f "$f")
    if grep -q '^kind: CompositeResourceDefinition$' "$f"; then xrds+=(-f "$f"); fi
  done
  k apply "${all[@]}" >/dev/null
  k wait --for=condition=Established --timeout=60s "${xrds[@]}" >/dev/null
}

# print_status : one line per recorded process: name, pid, state, RSS.
print_status() {
  local n pid rss total=0
  printf '%-32s %8s %8s %10s\n' NAME PID STATE RSS_MB
  for n in $(recorded_names | sort); do
    if pid=$(pid_of "$n"); then
      rss=$(awk '/^VmRSS:/{print int($2/1024)}' "/proc/$pid/status" 2>/dev/null || echo 0)
      total=$((total + rss))
      printf '%-32s %8s %8s %10s\n' "$n" "$pid" running "$rss"
    else
      printf '%-32s %8s %8s %10s\n' "$n" - stopped -
    fi
  done
  printf '%-32s %8s %8s %10s\n' total "" "" "$total"
}
