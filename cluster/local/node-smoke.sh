#!/usr/bin/env bash
# Proves the node (cluster/local/node.sh) on a control plane of its own ports: a pod of a static binary
# (cluster/local/incluster, image from the loopback registry) must be Running under containerd's shim
# and reach the API server through the kubernetes Service with its ServiceAccount token
# (go test -tags node ./cluster/local/incluster). Always tears down. Needs root and
# cluster/build-tools.sh kube node crossplane (kubectl, kubelet..., localreg).
# NODE_SMOKE_KEEP=1 leaves it running (stop with the same env + cluster/local/down.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CLUSTER_NODE=1
export CLUSTER_RUN=${CLUSTER_RUN:-$ROOT/_output/run-node-smoke}
export CLUSTER_ETCD_PORT=${CLUSTER_ETCD_PORT:-24379}            # +1 peer, +2 metrics
export CLUSTER_APISERVER_PORT=${CLUSTER_APISERVER_PORT:-24443}
export CLUSTER_REGISTRY_PORT=${CLUSTER_REGISTRY_PORT:-24600}
# shellcheck source=SCRIPTDIR/lib.sh
. "$ROOT/cluster/local/lib.sh"

teardown() {
  local rc=$?
  [ "$rc" -eq 0 ] || { log "FAILED (exit $rc)"; k get pods -A -o wide >&2 2>/dev/null || true; tail -20 "$LOGS/kubelet.log" >&2 2>/dev/null || true; }
  if [ "${NODE_SMOKE_KEEP:-}" = 1 ]; then log "NODE_SMOKE_KEEP=1: leaving it running; export KUBECONFIG=$KUBECONFIG"
  else "$LOCAL_DIR/down.sh" || true; fi
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM

T0=$(ts)
"$LOCAL_DIR/up.sh"
IMAGE=$REGISTRY/incluster:test
T=$(ts)
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$RUN/incluster" ./cluster/local/incluster)
imagebuild build --binary "$RUN/incluster" --entrypoint /usr/local/bin/incluster --title incluster \
  --no-ports --tag test --repository "${IMAGE%:*}" --out "$RUN/incluster.tar" >/dev/null
imagebuild push --image "$RUN/incluster.tar" --ref "$IMAGE" --insecure >/dev/null
log "image $IMAGE: $(since "$T")s"
(cd "$ROOT" && NODE_TEST_IMAGE=$IMAGE NODE_TEST_ROOT=$ROOT go test -count=1 -v -tags node ./cluster/local/incluster/)
k get pods -A -o wide
log "node smoke passed in $(since "$T0")s"
