#!/usr/bin/env bash
# examples/gitops on a cluster that runs pods, as a user's does: the local node (CLUSTER_NODE=1), Crossplane
# from its Helm chart with the chart's defaults (cluster/local/crossplane-pods.sh), then the layout's three
# steps applied as Flux would. Crossplane installs the provider's .xpkg and runs it as a pod from the
# runtime image in it, with examples/gitops' DeploymentRuntimeConfig and the ServiceAccount and RBAC
# Crossplane's RBAC manager grants plus discovery-rbac.yaml; the functions are pods too. The layout is
# applied unchanged: the packages it names (xpkg.crossplane.io/...) come from the loopback registry
# through an ImageConfig, and its ClusterProviderConfig's Authentik
# (authentik-server.authentik.svc.cluster.local:9000) is a Service whose endpoint is the Authentik
# simulator on the node's address. A ProxyConfig of the apps (the seed's) must become Ready.
#   cluster/package/node-test.sh          then the Go tests of the provider pod; always tears down
#                                         (own ports and state dir, beside the default stack)
#   cluster/package/node-test.sh --demo   make demo: then the examples (examples/*.yaml, the import, the
#                                         OIDCConfigs) too, on the default ports and state dir, left
#                                         running (stop: CLUSTER_NODE=1 cluster/local/down.sh)
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
if $DEMO; then
  : "${NODE_TEST_SIM_PORT:=9000}"
else
  export CLUSTER_RUN=${CLUSTER_RUN:-$ROOT/_output/run-node-test}
  export CLUSTER_ETCD_PORT=${CLUSTER_ETCD_PORT:-24379}            # +1 peer, +2 metrics
  export CLUSTER_APISERVER_PORT=${CLUSTER_APISERVER_PORT:-24443}
  export CLUSTER_REGISTRY_PORT=${CLUSTER_REGISTRY_PORT:-24600}
  : "${NODE_TEST_SIM_PORT:=24900}"
fi
: "${NODE_TEST_TIMEOUT:=180}"
# shellcheck source=SCRIPTDIR/../local/lib.sh
. "$ROOT/cluster/local/lib.sh"

# shellcheck source=SCRIPTDIR/node-lib.sh
. "$ROOT/cluster/package/node-lib.sh"
TOKEN=$(openssl rand -hex 24)

teardown() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    log "FAILED (exit $rc)"
    k get pods -A -o wide >&2 2>/dev/null || true
    k get providers,functions,configurations -o wide >&2 2>/dev/null || true
    k get proxyconfigs -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}: {.status.conditions}{"\n"}{end}' >&2 2>/dev/null || true
    log "provider log tail:"; provider_log_tail
  fi
  if $DEMO && [ "$rc" -eq 0 ]; then
    log "demo running; stop it with: make demo-down"
  else
    "$LOCAL_DIR/down.sh" || true
  fi
  exit "$rc"
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
  local T0 pc ns
  require_bins crank kubectl authentik-sim
  require_packages
  trap teardown EXIT
  trap 'exit 130' INT TERM
  T0=$(ts)
  "$LOCAL_DIR/up.sh"
  "$LOCAL_DIR/crossplane-pods.sh" --no-function-objects

  push_packages
  authentik_service

  log "step 1/3 crossplane-providers"
  install_provider_pods

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

  if $DEMO; then
    examples
    demo_summary
    log "demo up in $(since "$T0")s"
    return 0
  fi
  log "the provider as a pod: its RBAC, a deleted pod, two replicas (go test -tags node ./cluster/package)"
  (cd "$ROOT" && NODE_TEST_ROOT=$ROOT NODE_TEST_SIM_URL="http://$NODE_IP:$NODE_TEST_SIM_PORT" NODE_TEST_TOKEN=$TOKEN \
    go test -count=1 -v -timeout 20m -tags node -run "${NODE_TEST_RUN:-TestProvider|TestPackages|TestRBAC|TestLeader}" ./cluster/package/)
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

# examples : what README says make demo applies, beside the layout: one manifest per kind, the import of a
# proxy provider and the OIDCConfigs. examples/providerconfig.yaml stays out: the layout's
# ClusterProviderConfig default is the same object at Authentik's in-cluster address, with the
# simulator's token (the example's would replace it with a placeholder).
examples() {
  local f ns pk
  log "the examples: one per kind (examples/*.yaml), the import, the OIDCConfigs"
  for f in "$ROOT"/examples/*.yaml; do
    [ "$(basename "$f")" = providerconfig.yaml ] && continue
    k apply -f "$f"
  done
  wait_for "the ProxyProvider example Ready" "$NODE_TEST_TIMEOUT" k wait --for=condition=Ready --timeout=1s -n default proxyprovider/longhorn
  # The import example observes pk 1, the first proxy provider of a fresh Authentik; here the Longhorn
  # example's, as make e2e does.
  pk=$(k get proxyprovider/longhorn -n default -o jsonpath='{.metadata.annotations.crossplane\.io/external-name}')
  sed "s|crossplane.io/external-name: \"1\"|crossplane.io/external-name: \"$pk\"|" \
    "$ROOT/examples/import/proxyprovider-observe.yaml" | k apply -f -
  for f in "$ROOT"/examples/oidcconfig/*.yaml; do
    ns=$(sed -n 's/^  namespace: //p' "$f" | head -1)
    k create namespace "$ns" --dry-run=client -o yaml | k apply -f - >/dev/null
    k apply -f "$f"
  done
  k wait --for=condition=Ready --timeout="${NODE_TEST_TIMEOUT}s" --all oidcconfig -A >/dev/null \
    || { k get oidcconfig -A -o wide >&2; die "not every OIDCConfig became Ready"; }
  k wait --for=condition=Ready --timeout="${NODE_TEST_TIMEOUT}s" --all managed -A >/dev/null \
    || { k get managed -A -o wide >&2; die "not every managed resource became Ready"; }
  log "every example Ready"
}

# provider_process : the provider's process on this machine (its image's entrypoint) and its parent,
# which must be containerd's shim: the kubelet runs it, not a script.
provider_process() {
  local d pid="" ppid
  for d in /proc/[0-9]*; do
    if [[ "$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null)" == "/usr/local/bin/provider "* ]]; then pid=${d#/proc/}; break; fi
  done
  [ -n "$pid" ] || die "no provider process on this machine"
  ppid=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f2)
  ps -ww -o pid,ppid,user,args -p "$pid,$ppid"
  [ "$(basename "$(tr '\0' '\n' < "/proc/$ppid/cmdline" | head -1)")" = containerd-shim-runc-v2 ] || die "the provider's parent (pid $ppid) is not containerd's shim"
}

demo_summary() {
  local sim=http://$NODE_IP:$NODE_TEST_SIM_PORT ip
  ip=$(k get pods -n "$XP_NS" -l pkg.crossplane.io/provider=provider-authentik -o jsonpath='{.items[0].status.podIP}')
  echo
  k get pods -A -o wide
  echo
  k get managed -A
  echo
  k get proxyconfig,oidcconfig -A
  echo
  log "the provider's process and its parent:"
  provider_process
  echo
  "$BIN/crank" beta trace proxyconfig longhorn-proxy -n longhorn-system
  cat <<TXT

The stack is running on a local node: kube-apiserver, Crossplane and its RBAC manager (pods from
Crossplane's Helm chart), provider-authentik and the two composition functions (pods Crossplane runs
from their packages), and the Authentik simulator on $sim
(the Service authentik-server.authentik:9000 in the cluster).

What to try next:
  export KUBECONFIG=$KUBECONFIG PATH=$BIN:\$PATH
  kubectl get pods -n $XP_NS; kubectl logs -n $XP_NS -l pkg.crossplane.io/provider=provider-authentik
  curl -s http://$ip:8080/metrics | grep ^provider_authentik_   # the provider pod's own metrics
  kubectl get managed -A; kubectl get proxyconfig,oidcconfig -A
  # Change a field behind the provider's back; it comes back at the next poll (--poll=1m):
  curl -s -X PATCH -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/json' \\
    -d '{"mode":"forward_single","external_host":"https://changed.example.com"}' \\
    $sim/api/v3/providers/proxy/\$(kubectl get proxyprovider longhorn -n default -o jsonpath='{.status.atProvider.pk}')/
  kubectl get proxyprovider longhorn -n default -o jsonpath='{.status.atProvider}' ; echo
  # Delete a resource and see it leave Authentik:
  kubectl delete proxyprovider longhorn -n default
  curl -s -H 'Authorization: Bearer $TOKEN' '$sim/api/v3/providers/proxy/?name__iexact=longhorn-example'
  # Delete the provider's pod: the kubelet runs a new one and it carries on.
  kubectl delete pod -n $XP_NS -l pkg.crossplane.io/provider=provider-authentik
  crossplane beta trace is '$BIN/crank beta trace'

Stop everything with: make demo-down
TXT
}

main "$@"
