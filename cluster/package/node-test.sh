#!/usr/bin/env bash
# examples/gitops on a cluster that runs pods, as a user's does: the local node (CLUSTER_NODE=1), Crossplane
# from its Helm chart with the chart's defaults (cluster/local/crossplane-pods.sh), then the layout's three
# steps applied as Flux would. Crossplane installs the provider's .xpkg and runs it as a pod from the
# runtime image in it, with examples/gitops' DeploymentRuntimeConfig and the ServiceAccount and RBAC
# Crossplane's RBAC manager grants plus discovery-rbac.yaml; the functions are pods too. The layout is
# applied unchanged: the packages it names (xpkg.crossplane.io/...) come from the loopback registry
# through an ImageConfig, and its ClusterProviderConfig's Authentik
# (authentik-server.authentik.svc.cluster.local:9000) is a Service whose endpoint is the Authentik
# simulator on the node's address. A ProxyConfig of the apps must become Ready.
#   cluster/package/node-test.sh          always tears down
#   cluster/package/node-test.sh --demo   leaves it running (stop: the same env + cluster/local/down.sh)
# Needs root, make build xpkg, cluster/build-tools.sh all node. Env: VERSION (v0.1.0-dev), OUTPUT (_output).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEMO=false
for a in "$@"; do
  case "$a" in
    --demo) DEMO=true ;;
    *) echo "usage: $0 [--demo]" >&2; exit 2 ;;
  esac
done

export CLUSTER_NODE=1
export CLUSTER_RUN=${CLUSTER_RUN:-$ROOT/_output/run-node-test}
export CLUSTER_ETCD_PORT=${CLUSTER_ETCD_PORT:-24379}            # +1 peer, +2 metrics
export CLUSTER_APISERVER_PORT=${CLUSTER_APISERVER_PORT:-24443}
export CLUSTER_REGISTRY_PORT=${CLUSTER_REGISTRY_PORT:-24600}
: "${NODE_TEST_SIM_PORT:=24900}"
: "${NODE_TEST_TIMEOUT:=180}"
# shellcheck source=SCRIPTDIR/../local/lib.sh
. "$ROOT/cluster/local/lib.sh"

VERSION=${VERSION:-v0.1.0-dev}
OUTPUT=${OUTPUT:-$ROOT/_output}
PROVIDER_XPKG=$OUTPUT/xpkg/provider-authentik-$VERSION.xpkg
CONFIG_XPKG=$OUTPUT/xpkg/configuration-authentik-proxyconfig-$VERSION.xpkg
PUBLIC=xpkg.crossplane.io
GITOPS=$ROOT/examples/gitops
STEP1=$GITOPS/infrastructure/crossplane-providers
STEP2=$GITOPS/infrastructure/crossplane-configs
STEP3=$GITOPS/apps
TOKEN=$(openssl rand -hex 24)

teardown() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    log "FAILED (exit $rc)"
    k get pods -A -o wide >&2 2>/dev/null || true
    k get providers,functions,configurations -o wide >&2 2>/dev/null || true
    k get proxyconfigs -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}: {.status.conditions}{"\n"}{end}' >&2 2>/dev/null || true
    log "provider log tail:"; k -n "$XP_NS" logs -l pkg.crossplane.io/provider=provider-authentik --tail=20 >&2 2>/dev/null || true
  fi
  if $DEMO && [ "$rc" -eq 0 ]; then
    log "demo running; export KUBECONFIG=$KUBECONFIG; stop with: CLUSTER_NODE=1 CLUSTER_RUN=$RUN CLUSTER_ETCD_PORT=$CLUSTER_ETCD_PORT CLUSTER_APISERVER_PORT=$CLUSTER_APISERVER_PORT CLUSTER_REGISTRY_PORT=$CLUSTER_REGISTRY_PORT cluster/local/down.sh"
  else
    "$LOCAL_DIR/down.sh" || true
  fi
  exit "$rc"
}

build() { # DIR [DROP_REGEX] : kustomize DIR, leaving out documents whose apiVersion or kind matches
  k kustomize "$1" | awk -v drop="${2:-^$}" '
    function flush() { if (doc != "" && !skip) printf "---\n%s", doc; doc = ""; skip = 0 }
    /^---$/ { flush(); next }
    /^(apiVersion|kind): / && $0 ~ drop { skip = 1 }
    { doc = doc $0 "\n" }
    END { flush() }'
}
package_tag() { sed -n 's#^  package: .*:\(v[^ ]*\)$#\1#p' "$1"; }
healthy() { # KIND/NAME... : Installed and Healthy
  local o
  for o in "$@"; do
    [ "$(k get "$o" -o jsonpath="{.status.conditions[?(@.type=='Installed')].status}")" = True ] || return 1
    [ "$(k get "$o" -o jsonpath="{.status.conditions[?(@.type=='Healthy')].status}")" = True ] || return 1
  done
}

# authentik_service : the layout's Authentik address, served by the simulator on the node.
authentik_service() {
  start_bg node-authentik-sim "$BIN/authentik-sim" --listen "$NODE_IP:$NODE_TEST_SIM_PORT" --token "$TOKEN"
  wait_for "Authentik simulator on $NODE_IP:$NODE_TEST_SIM_PORT" 30 bash -c "exec 3<>/dev/tcp/$NODE_IP/$NODE_TEST_SIM_PORT"
  k create namespace authentik --dry-run=client -o yaml | k apply -f - >/dev/null
  k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: authentik-server, namespace: authentik}
spec:
  ports: [{name: http, port: 9000, targetPort: $NODE_TEST_SIM_PORT}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: authentik-server-node
  namespace: authentik
  labels: {kubernetes.io/service-name: authentik-server}
addressType: IPv4
ports: [{name: http, port: $NODE_TEST_SIM_PORT}]
endpoints: [{addresses: ["$NODE_IP"]}]
YAML
}

main() {
  local T0 T p pc ns
  require_bins crank kubectl authentik-sim
  for p in "$PROVIDER_XPKG" "$CONFIG_XPKG"; do [ -f "$p" ] || die "$p missing: run make xpkg (VERSION=$VERSION)"; done
  trap teardown EXIT
  trap 'exit 130' INT TERM
  T0=$(ts)
  "$LOCAL_DIR/up.sh"
  "$LOCAL_DIR/crossplane-pods.sh" --no-function-objects

  T=$(ts)
  imagebuild push --image "$PROVIDER_XPKG" --ref "$REGISTRY/gitops-lifecycle/provider-authentik:$(package_tag "$STEP1/provider.yaml")" --insecure >/dev/null
  imagebuild push --image "$CONFIG_XPKG" --ref "$REGISTRY/gitops-lifecycle/configuration-authentik-proxyconfig:$(package_tag "$STEP2/configuration.yaml")" --insecure >/dev/null
  log "pushed the provider's and the Configuration's packages to $REGISTRY ($(since "$T")s)"
  k apply -f - >/dev/null <<YAML
apiVersion: pkg.crossplane.io/v1beta1
kind: ImageConfig
metadata:
  name: loopback-registry
spec:
  matchImages:
  - prefix: $PUBLIC/
  rewriteImage:
    prefix: $REGISTRY/
YAML
  authentik_service

  log "step 1/3 crossplane-providers"
  build "$STEP1" | k apply -f -
  p=$(k get providers -o jsonpath='{.items[0].metadata.name}')
  wait_for "crossplane-providers healthy" "$NODE_TEST_TIMEOUT" healthy "provider/$p" $(k get functions -o name)

  log "step 2/3 crossplane-configs (External Secrets' objects replaced by the Secret they would write)"
  build "$STEP2" '^apiVersion: external-secrets\.io/' | k apply -f -
  k -n "$(k get clusterproviderconfig default -o jsonpath='{.spec.credentials.secretRef.namespace}')" \
    create secret generic "$(k get clusterproviderconfig default -o jsonpath='{.spec.credentials.secretRef.name}')" \
    --from-literal="$(k get clusterproviderconfig default -o jsonpath='{.spec.credentials.secretRef.key}')=$TOKEN" \
    --dry-run=client -o yaml | k apply -f - >/dev/null
  wait_for "crossplane-configs healthy" "$NODE_TEST_TIMEOUT" healthy $(k get configurations -o name)

  log "step 3/3 apps"
  for ns in $(build "$STEP3" | sed -n 's/^  namespace: //p' | sort -u); do
    k create namespace "$ns" --dry-run=client -o yaml | k apply -f - >/dev/null
  done
  build "$STEP3" | k apply -f -
  for pc in $(k get proxyconfigs -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}'); do
    wait_for "ProxyConfig $pc Ready" "$NODE_TEST_TIMEOUT" \
      k wait --for=condition=Ready --timeout=1s -n "${pc%/*}" "proxyconfig/${pc#*/}"
  done

  if ! $DEMO; then
    log "the provider as a pod: its RBAC, a deleted pod, two replicas (go test -tags node ./cluster/package)"
    (cd "$ROOT" && NODE_TEST_ROOT=$ROOT NODE_TEST_SIM_URL="http://$NODE_IP:$NODE_TEST_SIM_PORT" NODE_TEST_TOKEN=$TOKEN \
      go test -count=1 -v -timeout 20m -tags node -run "${NODE_TEST_RUN:-TestProvider|TestRBAC|TestLeader}" ./cluster/package/)
  fi
  echo
  k get pods -A -o wide
  echo
  k get providers,functions,configurations
  for pc in $(k get proxyconfigs -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}'); do
    echo
    "$BIN/crank" beta trace proxyconfig "${pc#*/}" -n "${pc%/*}"
  done
  echo
  log "node test passed in $(since "$T0")s"
}

main "$@"
