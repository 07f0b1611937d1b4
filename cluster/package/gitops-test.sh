#!/usr/bin/env bash
# Takes the path a Flux user takes with examples/gitops, on the local control plane:
#   1. local Kubernetes + Crossplane (cluster/local/up.sh --no-function-objects) on ports of its own,
#      torn down on exit, also on failure; the loopback registry stands in for xpkg.crossplane.io:
#      the provider's and the Configuration's .xpkg (make xpkg) are pushed there under the tags the
#      layout pins, the functions under crossplane-contrib/<name>:<version> (up.sh), and an
#      ImageConfig rewrites the registry host xpkg.crossplane.io to it, so every package reference,
#      the layout's and the Configuration's dependencies alike, is applied as written,
#   2. the three Flux Kustomizations' folders in their order (kubectl kustomize, then apply), each
#      waited for as Flux's health checks would before the next: crossplane-providers (Provider and
#      Functions Installed and Healthy), crossplane-configs (Configuration Installed and Healthy),
#      apps (the ProxyConfig Ready). External Secrets does not run here: its objects are left
#      out and the Secret the ExternalSecret would write is created instead,
#   3. runtimes out of cluster (no kubelet): this script does what Crossplane's deployment runtime
#      would for the Provider (the binary copied out of the .xpkg; TLS server Secret; RuntimeHealthy
#      once it answers /readyz) and for every FunctionRevision (lib.sh serve_function_revision),
#      whatever Function object brought it. The provider reaches Authentik's in-cluster URL from
#      clusterproviderconfig.yaml through HTTP_PROXY, pointed at the Authentik simulator (standing
#      in for cluster DNS),
#   4. checks: every package Installed and Healthy, each package path installed once (no second
#      package under the name Crossplane gives a dependency), the ProxyConfig Ready through the installed
#      Configuration; prints `crossplane beta trace` of it.
# GITOPS_FUNCTIONS=dependencies leaves functions.yaml out of step 1, so that Crossplane installs the
# functions as the Configuration's dependencies; the checks are the same.
# Needs: make build xpkg (VERSION as there). Env: VERSION (v0.1.0-dev), OUTPUT (_output),
# GITOPS_KEEP=1 leaves everything running (stop with the same env + cluster/local/down.sh), ports below.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Own state dir and ports (lib.sh and up.sh read these; export so up.sh/down.sh see them).
export CLUSTER_RUN=${CLUSTER_RUN:-$ROOT/_output/run-gitops-test}
export CLUSTER_ETCD_PORT=${CLUSTER_ETCD_PORT:-23379}            # +1 peer, +2 metrics
export CLUSTER_APISERVER_PORT=${CLUSTER_APISERVER_PORT:-23443}
export CLUSTER_REGISTRY_PORT=${CLUSTER_REGISTRY_PORT:-23600}
export CLUSTER_XP_METRICS_PORT=${CLUSTER_XP_METRICS_PORT:-23180}
export CLUSTER_XP_HEALTH_PORT=${CLUSTER_XP_HEALTH_PORT:-23181}
export CLUSTER_FN_PORT_BASE=${CLUSTER_FN_PORT_BASE:-23743}      # +0..+2
export CLUSTER_RENDER_PORT_BASE=${CLUSTER_RENDER_PORT_BASE:-23843}
: "${GITOPS_PROVIDER_METRICS_PORT:=23880}"
: "${GITOPS_PROVIDER_HEALTH_PORT:=23881}"
: "${GITOPS_SIM_PORT:=23900}"
: "${GITOPS_TIMEOUT:=180}"
: "${GITOPS_FUNCTIONS:=layout}"
# shellcheck source=SCRIPTDIR/../local/lib.sh
. "$ROOT/cluster/local/lib.sh"

VERSION=${VERSION:-v0.1.0-dev}
OUTPUT=${OUTPUT:-$ROOT/_output}
PROVIDER_XPKG=$OUTPUT/xpkg/provider-authentik-$VERSION.xpkg
CONFIG_XPKG=$OUTPUT/xpkg/configuration-authentik-proxyconfig-$VERSION.xpkg
PUBLIC=xpkg.crossplane.io
REG=127.0.0.1:$CLUSTER_REGISTRY_PORT
GITOPS=$ROOT/examples/gitops
STEP1=$GITOPS/infrastructure/crossplane-providers
STEP2=$GITOPS/infrastructure/crossplane-configs
STEP3=$GITOPS/apps
ENTRYPOINT=/usr/local/bin/provider
TOKEN=$(openssl rand -hex 24)
PACKAGE_KINDS=providers,functions,configurations

teardown() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    log "FAILED (exit $rc)"
    k get "$PACKAGE_KINDS" -o wide >&2 2>/dev/null || true
    k get lock lock -o jsonpath='{.status.conditions}{"\n"}' >&2 2>/dev/null || true
    k get proxyconfig -A -o wide >&2 2>/dev/null || true
    k get proxyconfigs -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}: {.status.conditions}{"\n"}{end}' >&2 2>/dev/null || true
    log "provider log tail:"; tail -20 "$LOGS/gitops-provider.log" >&2 2>/dev/null || true
    log "crossplane log tail:"; grep -v '"level":"debug"\|DEBUG' "$LOGS/crossplane.log" 2>/dev/null | tail -20 >&2 || true
  fi
  if [ "${GITOPS_KEEP:-}" = 1 ]; then
    log "GITOPS_KEEP=1: leaving it running; export KUBECONFIG=$KUBECONFIG"
  else
    "$LOCAL_DIR/down.sh" || true
    rm -f "$RUN/provider-from-xpkg"
  fi
  exit "$rc"
}

preflight() {
  require_bins crank kubectl authentik-sim
  local f p
  for f in "$PROVIDER_XPKG" "$CONFIG_XPKG"; do [ -f "$f" ] || die "$f missing: run make xpkg (VERSION=$VERSION)"; done
  for p in "$GITOPS_PROVIDER_METRICS_PORT" "$GITOPS_PROVIDER_HEALTH_PORT" "$GITOPS_SIM_PORT"; do
    port_open "$p" && die "port $p is in use (override GITOPS_*_PORT)"
  done
  case "$GITOPS_FUNCTIONS" in layout|dependencies) ;; *) die "GITOPS_FUNCTIONS=$GITOPS_FUNCTIONS: want layout or dependencies" ;; esac
}

# build DIR [DROP_REGEX] : the objects Flux applies for a Kustomization's folder, less those whose
# apiVersion or kind line matches DROP_REGEX.
build() {
  k kustomize "$1" | awk -v drop="${2:-^$}" '
    function flush() { if (doc != "" && !skip) printf "---\n%s", doc; doc = ""; skip = 0 }
    /^---$/ { flush(); next }
    /^(apiVersion|kind): / && $0 ~ drop { skip = 1 }
    { doc = doc $0 "\n" }
    END { flush() }'
}

# package_tag FILE : the tag of spec.package in a layout file.
package_tag() { sed -n 's#^  package: .*:\(v[^ ]*\)$#\1#p' "$1"; }

# healthy KIND/NAME... : Installed and Healthy, Flux's healthCheckExprs for Crossplane packages.
healthy() {
  local o
  for o in "$@"; do
    [ "$(k get "$o" -o jsonpath="{.status.conditions[?(@.type=='Installed')].status}")" = True ] || return 1
    [ "$(k get "$o" -o jsonpath="{.status.conditions[?(@.type=='Healthy')].status}")" = True ] || return 1
  done
}

# serve_functions NAME... : act as the runtime of these functions' revisions; true once all have one.
serve_functions() { local fn; for fn in "$@"; do serve_function_revision "$fn" || return 1; done; }

# provider_runtime NAME : what Crossplane's deployment runtime does for the Provider NAME: the TLS
# server Secret its revision waits for, the binary from the package, RuntimeHealthy once it is ready.
provider_runtime() {
  local name=$1 rev secret=$1-tls-server
  wait_for "ProviderRevision of $name" "$GITOPS_TIMEOUT" \
    k get providerrevisions -l "pkg.crossplane.io/package=$name" -o jsonpath='{.items[0].metadata.name}'
  rev=$(k get providerrevisions -l "pkg.crossplane.io/package=$name" -o jsonpath='{.items[0].metadata.name}')
  k -n "$XP_NS" create secret tls "$secret" --cert="$PKI/fn-server.crt" --key="$PKI/fn-server.key" \
    --dry-run=client -o yaml | k apply -f - >/dev/null
  k patch providerrevision "$rev" --subresource=status --type=merge -p "{\"status\":{\"tlsServerSecretName\":\"$secret\"}}" >/dev/null
  HTTP_PROXY="http://127.0.0.1:$GITOPS_SIM_PORT" start_bg gitops-provider "$RUN/provider-from-xpkg" --debug --poll=5s \
    --leader-election-namespace="$XP_NS" \
    --metrics-bind-address="127.0.0.1:$GITOPS_PROVIDER_METRICS_PORT" \
    --health-probe-bind-address="127.0.0.1:$GITOPS_PROVIDER_HEALTH_PORT"
  wait_for_pid_url gitops-provider "http://127.0.0.1:$GITOPS_PROVIDER_HEALTH_PORT/readyz" 60
  k patch providerrevision "$rev" --subresource=status --type=json -p "[{\"op\":\"add\",\"path\":\"/status/conditions/-\",\"value\":{\"type\":\"RuntimeHealthy\",\"status\":\"True\",\"reason\":\"HealthyPackageRevision\",\"lastTransitionTime\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}}]" >/dev/null
}

# check_packages : every package Installed and Healthy, each package path (registry and tag aside)
# installed once.
check_packages() {
  local all dup
  all=$(k get "$PACKAGE_KINDS" -o jsonpath='{range .items[*]}{.kind}.pkg.crossplane.io/{.metadata.name} {.spec.package}{"\n"}{end}')
  all=${all,,}
  # shellcheck disable=SC2046 # one word per package
  healthy $(cut -d' ' -f1 <<<"$all") || { echo "$all" >&2; die "not every package is Installed and Healthy"; }
  dup=$(sed 's# [^/]*/\(.*\):[^:/]*$# \1#' <<<"$all" | sort -k2 | awk '{ if ($2 == last) print prev "\n" $0; last = $2; prev = $0 }')
  [ -z "$dup" ] || { echo "$dup" >&2; die "a package is installed twice under two names"; }
}

main() {
  preflight
  trap teardown EXIT
  trap 'exit 130' INT TERM
  local T0 T p fns pc ns
  T0=$(ts)
  "$LOCAL_DIR/up.sh" --with-crossplane --no-function-objects

  T=$(ts)
  "$BIN/crank" xpkg push -f "$PROVIDER_XPKG" "$REG/gitops-lifecycle/provider-authentik:$(package_tag "$STEP1/provider.yaml")" >/dev/null
  "$BIN/crank" xpkg push -f "$CONFIG_XPKG" "$REG/gitops-lifecycle/configuration-authentik-proxyconfig:$(package_tag "$STEP2/configuration.yaml")" >/dev/null
  log "pushed the provider's and the Configuration's packages to $REG ($(since "$T")s)"
  k apply -f - >/dev/null <<YAML
apiVersion: pkg.crossplane.io/v1beta1
kind: ImageConfig
metadata:
  name: loopback-registry
spec:
  matchImages:
  - prefix: $PUBLIC/
  rewriteImage:
    prefix: $REG/
YAML
  (cd "$ROOT" && go run ./cluster/image/imagebuild extract --image "$PROVIDER_XPKG" --path "$ENTRYPOINT" --out "$RUN/provider-from-xpkg")
  start_bg gitops-authentik-sim "$BIN/authentik-sim" --listen "127.0.0.1:$GITOPS_SIM_PORT" --token "$TOKEN"
  wait_for_pid_port gitops-authentik-sim "$GITOPS_SIM_PORT" 30

  # The function packages the Composition calls: the layout's Functions, or the Configuration's
  # dependencies (GITOPS_FUNCTIONS=dependencies).
  fns=(function-go-templating function-auto-ready)

  log "step 1/3 crossplane-providers ($GITOPS_FUNCTIONS installs the functions)"
  if [ "$GITOPS_FUNCTIONS" = layout ]; then build "$STEP1"; else build "$STEP1" '^kind: Function$'; fi | k apply -f -
  p=$(k get providers -o jsonpath='{.items[0].metadata.name}')
  provider_runtime "$p"
  if [ "$GITOPS_FUNCTIONS" = layout ]; then
    wait_for "FunctionRevisions served" "$GITOPS_TIMEOUT" serve_functions "${fns[@]}"
    wait_for "crossplane-providers healthy" "$GITOPS_TIMEOUT" healthy "provider/$p" $(k get functions -o name)
  else
    wait_for "crossplane-providers healthy" "$GITOPS_TIMEOUT" healthy "provider/$p"
  fi

  log "step 2/3 crossplane-configs (External Secrets' objects replaced by the Secret they would write)"
  build "$STEP2" '^apiVersion: external-secrets\.io/' | k apply -f -
  k -n "$(k get clusterproviderconfig default -o jsonpath='{.spec.credentials.secretRef.namespace}')" \
    create secret generic "$(k get clusterproviderconfig default -o jsonpath='{.spec.credentials.secretRef.name}')" \
    --from-literal="$(k get clusterproviderconfig default -o jsonpath='{.spec.credentials.secretRef.key}')=$TOKEN" \
    --dry-run=client -o yaml | k apply -f - >/dev/null
  [ "$GITOPS_FUNCTIONS" = layout ] || wait_for "FunctionRevisions of the dependencies served" "$GITOPS_TIMEOUT" serve_functions "${fns[@]}"
  wait_for "crossplane-configs healthy" "$GITOPS_TIMEOUT" healthy $(k get configurations -o name)

  log "step 3/3 apps"
  for ns in $(build "$STEP3" | sed -n 's/^  namespace: //p' | sort -u); do
    k create namespace "$ns" --dry-run=client -o yaml | k apply -f - >/dev/null  # the apps' own namespaces
  done
  build "$STEP3" | k apply -f -
  for pc in $(k get proxyconfigs -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}'); do
    wait_for "ProxyConfig $pc Ready" "$GITOPS_TIMEOUT" \
      k wait --for=condition=Ready --timeout=1s -n "${pc%/*}" "proxyconfig/${pc#*/}"
  done

  check_packages
  echo
  k get "$PACKAGE_KINDS"
  echo
  k get proxyconfigs -A
  for pc in $(k get proxyconfigs -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}'); do
    echo
    "$BIN/crank" beta trace proxyconfig "${pc#*/}" -n "${pc%/*}"
  done
  echo
  log "gitops test ($GITOPS_FUNCTIONS installs the functions) passed in $(since "$T0")s"
}

main "$@"
