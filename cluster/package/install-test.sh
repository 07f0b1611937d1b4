#!/usr/bin/env bash
# Installs the provider's .xpkg the way a user does, on the local control plane, and checks it works:
#   1. local Kubernetes + Crossplane (cluster/local/up.sh) on ports of its own, so it runs next to
#      make e2e / make demo; everything is torn down on exit, also on failure,
#   2. the .xpkg pushed to the loopback registry with `crank xpkg push`,
#   3. examples/gitops' DeploymentRuntimeConfig and Provider applied, the Provider's package pointed
#      at the loopback registry; Crossplane pulls the package and installs its CRDs,
#   4. the runtime out of cluster, as for functions (core runs with --package-runtime=External): the
#      provider binary copied out of the .xpkg runs against the cluster, and this script does what
#      Crossplane's deployment runtime would: set the revision's TLS server Secret and, once the
#      provider answers /readyz, RuntimeHealthy,
#   5. safe-start: the managed resource kinds stay inactive MRDs (no CRDs) until examples/gitops'
#      ManagedResourceActivationPolicy activates them,
#   6. a ProxyProvider (examples/proxyprovider.yaml) becomes Ready against the Authentik simulator
#      through examples/gitops' ClusterProviderConfig (URL pointed at the simulator).
# Needs: make build xpkg (VERSION as there). Env: VERSION (v0.1.0-dev), OUTPUT (_output),
# PKG_KEEP=1 leaves everything running (stop with the same env + cluster/local/down.sh), ports below.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Own state dir and ports (lib.sh and up.sh read these; export so up.sh/down.sh see them).
export CLUSTER_RUN=${CLUSTER_RUN:-$ROOT/_output/run-install-test}
export CLUSTER_ETCD_PORT=${CLUSTER_ETCD_PORT:-25379}            # +1 peer, +2 metrics
export CLUSTER_APISERVER_PORT=${CLUSTER_APISERVER_PORT:-25443}
export CLUSTER_REGISTRY_PORT=${CLUSTER_REGISTRY_PORT:-25600}
export CLUSTER_XP_METRICS_PORT=${CLUSTER_XP_METRICS_PORT:-25180}
export CLUSTER_XP_HEALTH_PORT=${CLUSTER_XP_HEALTH_PORT:-25181}
export CLUSTER_FN_PORT_BASE=${CLUSTER_FN_PORT_BASE:-25743}      # +0..+2
export CLUSTER_RENDER_PORT_BASE=${CLUSTER_RENDER_PORT_BASE:-25843}
: "${PKG_PROVIDER_METRICS_PORT:=25880}"
: "${PKG_PROVIDER_HEALTH_PORT:=25881}"
: "${PKG_SIM_PORT:=25900}"
: "${PKG_TIMEOUT:=120}"
# shellcheck source=SCRIPTDIR/../local/lib.sh
. "$ROOT/cluster/local/lib.sh"

VERSION=${VERSION:-v0.1.0-dev}
OUTPUT=${OUTPUT:-$ROOT/_output}
XPKG=$OUTPUT/xpkg/provider-authentik-$VERSION.xpkg
REG=127.0.0.1:$CLUSTER_REGISTRY_PORT
PKG_REF=$REG/gitops-lifecycle/provider-authentik:$VERSION
GITOPS=$ROOT/examples/gitops
PROVIDER=provider-authentik        # metadata.name in examples/gitops' provider.yaml
TLS_SECRET=$PROVIDER-tls-server
ENTRYPOINT=/usr/local/bin/provider
TOKEN=$(openssl rand -hex 24)

teardown() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    log "FAILED (exit $rc)"
    k get providers,providerrevisions -o wide >&2 2>/dev/null || true
    k get providerrevisions -o jsonpath='{range .items[*]}{.metadata.name}: {.status.conditions}{"\n"}{end}' >&2 2>/dev/null || true
    log "provider log tail:"; tail -20 "$LOGS/pkg-provider.log" >&2 2>/dev/null || true
    log "crossplane log tail:"; tail -20 "$LOGS/crossplane.log" >&2 2>/dev/null || true
  fi
  if [ "${PKG_KEEP:-}" = 1 ]; then
    log "PKG_KEEP=1: leaving it running; export KUBECONFIG=$KUBECONFIG"
  else
    "$LOCAL_DIR/down.sh" || true
    rm -f "$RUN/provider-from-xpkg"
  fi
  exit "$rc"
}

preflight() {
  require_bins crank kubectl authentik-sim
  [ -f "$XPKG" ] || die "$XPKG missing: run make xpkg (VERSION=$VERSION)"
  local p
  for p in "$PKG_PROVIDER_METRICS_PORT" "$PKG_PROVIDER_HEALTH_PORT" "$PKG_SIM_PORT"; do
    port_open "$p" && die "port $p is in use (override PKG_*_PORT)"
  done
  return 0
}

revision() { k get providerrevisions -l "pkg.crossplane.io/package=$PROVIDER" -o jsonpath='{.items[0].metadata.name}'; }
has_revision() { [ -n "$(revision 2>/dev/null)" ]; }
# mrd_states : "name=state" per MRD of the provider
mrd_states() {
  k get managedresourcedefinitions -o jsonpath='{range .items[*]}{.metadata.name}={.spec.state}{"\n"}{end}' | grep 'authentik.m.crossplane.io' || true
}
all_mrds_active() { [ -n "$(mrd_states)" ] && ! mrd_states | grep -qv '=Active$'; }
condition() { # KIND/NAME TYPE -> status
  k get "$1" -o jsonpath="{.status.conditions[?(@.type=='$2')].status}"
}

main() {
  preflight
  trap teardown EXIT
  trap 'exit 130' INT TERM
  local T0 T rev n crd
  T0=$(ts)
  "$LOCAL_DIR/up.sh" --with-crossplane

  T=$(ts)
  "$BIN/crank" xpkg push -f "$XPKG" "$PKG_REF" >/dev/null
  log "pushed $XPKG to $PKG_REF ($(since "$T")s)"
  (cd "$ROOT" && go run ./cluster/image/imagebuild extract --image "$XPKG" --path "$ENTRYPOINT" --out "$RUN/provider-from-xpkg")
  log "copied $ENTRYPOINT out of the package to $RUN/provider-from-xpkg"

  # The Secret Crossplane's runtime would create for the provider's webhook server; the revision
  # only installs its objects once it names one (the provider serves no webhooks yet).
  k -n "$XP_NS" create secret tls "$TLS_SECRET" --cert="$PKI/fn-server.crt" --key="$PKI/fn-server.key" \
    --dry-run=client -o yaml | k apply -f - >/dev/null

  log "installing the Provider from examples/gitops, package $PKG_REF"
  k apply -f "$GITOPS/infrastructure/crossplane-providers/runtimeconfig.yaml"
  grep -q 'package: xpkg.crossplane.io/gitops-lifecycle/provider-authentik:' "$GITOPS/infrastructure/crossplane-providers/provider.yaml" \
    || die "examples/gitops provider.yaml no longer names the package this script rewrites"
  sed "s#package: xpkg.crossplane.io/gitops-lifecycle/provider-authentik:.*#package: $PKG_REF#" \
    "$GITOPS/infrastructure/crossplane-providers/provider.yaml" | k apply -f -

  wait_for "ProviderRevision" "$PKG_TIMEOUT" has_revision
  rev=$(revision)
  k patch providerrevision "$rev" --subresource=status --type=merge -p "{\"status\":{\"tlsServerSecretName\":\"$TLS_SECRET\"}}" >/dev/null
  wait_for "package objects installed (ClusterProviderConfig CRD)" "$PKG_TIMEOUT" \
    k get crd clusterproviderconfigs.authentik.m.crossplane.io

  # Out-of-cluster runtime: the binary from the package, with the cluster's admin kubeconfig.
  start_bg pkg-provider "$RUN/provider-from-xpkg" --debug --poll=5s --leader-election-namespace=crossplane-system \
    --metrics-bind-address="127.0.0.1:$PKG_PROVIDER_METRICS_PORT" \
    --health-probe-bind-address="127.0.0.1:$PKG_PROVIDER_HEALTH_PORT"
  wait_for_pid_url pkg-provider "http://127.0.0.1:$PKG_PROVIDER_HEALTH_PORT/readyz" 60
  # Until the runtime reports healthy, neither is the Provider.
  wait_for "Provider Installed" "$PKG_TIMEOUT" k wait --for=condition=Installed --timeout=1s "provider/$PROVIDER"
  [ "$(condition "provider/$PROVIDER" Healthy)" != True ] || die "Provider Healthy before its runtime reported healthy"
  log "before RuntimeHealthy: $(k get "provider/$PROVIDER" -o jsonpath="{.status.conditions[?(@.type=='Healthy')].message}")"
  k patch providerrevision "$rev" --subresource=status --type=json -p "[{\"op\":\"add\",\"path\":\"/status/conditions/-\",\"value\":{\"type\":\"RuntimeHealthy\",\"status\":\"True\",\"reason\":\"HealthyPackageRevision\",\"lastTransitionTime\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}}]" >/dev/null
  wait_for "Provider Installed and Healthy" "$PKG_TIMEOUT" k wait --for=condition=Healthy --timeout=1s "provider/$PROVIDER"
  [ "$(condition "provider/$PROVIDER" Installed)" = True ] || die "Provider is not Installed"
  [ "$(condition "providerrevision/$rev" RevisionHealthy)" = True ] || die "ProviderRevision $rev is not RevisionHealthy"
  [ "$(condition "providerrevision/$rev" RuntimeHealthy)" = True ] || die "ProviderRevision $rev is not RuntimeHealthy"

  # safe-start: managed resource kinds arrive as inactive MRDs; no CRD, nothing to reconcile yet.
  n=$(mrd_states | wc -l)
  [ "$n" -gt 0 ] || die "the package installed no ManagedResourceDefinitions (safe-start)"
  if mrd_states | grep -q '=Active$'; then mrd_states >&2; die "MRDs active before any activation policy"; fi
  if k get crd proxyproviders.authentik.m.crossplane.io >/dev/null 2>&1; then die "ProxyProvider CRD exists before activation"; fi
  log "safe-start: $n MRDs Inactive, no managed resource CRDs yet"

  k apply -f "$GITOPS/infrastructure/crossplane-providers/activation-policy.yaml"
  wait_for "every MRD Active" "$PKG_TIMEOUT" all_mrds_active
  for crd in $(mrd_states | cut -d= -f1); do
    wait_for "CRD $crd" "$PKG_TIMEOUT" k wait --for=condition=Established --timeout=1s "crd/$crd"
  done

  log "checking the packaged provider reconciles: a ProxyProvider against the Authentik simulator"
  start_bg pkg-authentik-sim "$BIN/authentik-sim" --listen "127.0.0.1:$PKG_SIM_PORT" --token "$TOKEN"
  wait_for_pid_port pkg-authentik-sim "$PKG_SIM_PORT" 30
  k -n "$XP_NS" create secret generic authentik-token --from-literal=token="$TOKEN" \
    --dry-run=client -o yaml | k apply -f - >/dev/null
  sed "s#^  url: .*#  url: http://127.0.0.1:$PKG_SIM_PORT#" "$GITOPS/infrastructure/crossplane-configs/clusterproviderconfig.yaml" | k apply -f -
  k apply -f "$ROOT/examples/proxyprovider.yaml"
  k wait --for=condition=Ready --timeout="${PKG_TIMEOUT}s" proxyprovider/longhorn -n default >/dev/null \
    || die "ProxyProvider longhorn did not become Ready"

  echo
  k get providers
  echo
  k get providerrevisions
  echo
  k get managedresourcedefinitions
  echo
  k get managedresourceactivationpolicies
  echo
  k get proxyprovider -n default
  echo
  log "install test passed in $(since "$T0")s"
}

main "$@"
