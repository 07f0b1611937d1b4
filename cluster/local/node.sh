#!/usr/bin/env bash
# A node for the local control plane, so that pods run: containerd (Debian's, with runc), the CNI bridge
# (Debian's containernetworking-plugins), kube-scheduler, kubelet, kube-proxy and CoreDNS as the cluster
# DNS on the node's address (cluster/build-tools.sh node). Images come from the loopback registry (plain HTTP, a mirror in containerd's config); the pause
# image is built from the Kubernetes module's build/pause/linux/pause.c.
# cluster/local/up.sh runs it when CLUSTER_NODE=1 (lib.sh then has the API server listen where pods
# reach it):
#   cluster/local/node.sh net    before the API server starts: the pods' bridge and the guards
#   cluster/local/node.sh up     after it: the registry (unless up.sh started one), containerd,
#                                 kube-scheduler, kubelet, kube-proxy; waits for the node to be Ready
#   cluster/local/node.sh down   stops the pods' containers, the node's processes, and removes the
#                                 bridge, the iptables rules, mounts and state (down.sh runs it)
# Needs root (containerd, kubelet and kube-proxy change mounts, cgroups, links and iptables). One node per
# machine: kube-proxy's iptables chains and the bridge are the machine's.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NODE=$RUN/node
NODE_NAME=${NODE_NAME:-local-node}
: "${NODE_KUBELET_PORT:=26250}"        # +1 healthz
: "${NODE_PROXY_PORT:=26256}"          # kube-proxy healthz, +1 metrics
: "${NODE_SCHEDULER_PORT:=26259}"
: "${NODE_DNS_HEALTH_PORT:=26280}"     # +1 ready
PAUSE_VERSION=$(sed -n 's/^PAUSE_VERSION=\([^ ]*\).*/\1/p' "$CLUSTER_DIR/build-tools.sh")
REG=$REGISTRY
PAUSE_IMAGE=$REG/pause:$PAUSE_VERSION
CONTAINERD_SOCK=$NODE/containerd/containerd.sock
CNI_BIN=/usr/lib/cni                   # Debian's containernetworking-plugins

ctr_() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

preflight() {
  [ "$(id -u)" = 0 ] || die "the node needs root (mounts, cgroups, links, iptables)"
  require_bins kubelet kube-proxy kube-scheduler pause coredns kubectl
  local c
  for c in containerd containerd-shim-runc-v2 runc iptables conntrack ctr; do
    command -v "$c" >/dev/null || die "$c missing: apt-get install containerd runc containernetworking-plugins iptables conntrack"
  done
  [ -x "$CNI_BIN/bridge" ] && [ -x "$CNI_BIN/host-local" ] && [ -x "$CNI_BIN/loopback" ] \
    || die "CNI plugins missing in $CNI_BIN: apt-get install containernetworking-plugins"
  port_open "$CLUSTER_APISERVER_PORT" || die "no API server on :$CLUSTER_APISERVER_PORT: run cluster/local/up.sh first"
  for c in containerd kubelet kube-proxy kube-scheduler coredns; do running "$c" && die "$c is already running: $0 down first"; done
  ip link show "$NODE_BRIDGE" >/dev/null 2>&1 || die "no bridge $NODE_BRIDGE: run $0 net before the API server starts"
  for c in "$NODE_KUBELET_PORT" $((NODE_KUBELET_PORT + 1)) "$NODE_PROXY_PORT" $((NODE_PROXY_PORT + 1)) "$NODE_SCHEDULER_PORT" \
    "$NODE_DNS_HEALTH_PORT" $((NODE_DNS_HEALTH_PORT + 1)); do
    port_open "$c" && die "port $c is in use (override NODE_*_PORT)"
  done
  return 0
}

# net : what a node needs from the host's network, made before the API server listens on every
# interface. The guards keep it all on this machine: nothing from a pod is forwarded to another
# interface (and nothing is masqueraded), and the API server and whatever listens on the node's
# address (the registry, the Authentik simulator) answer only loopback and the bridge.
net() {
  [ "$(id -u)" = 0 ] || die "the node needs root (mounts, cgroups, links, iptables)"
  ! ip link show "$NODE_BRIDGE" >/dev/null 2>&1 || die "bridge $NODE_BRIDGE exists: another node runs on this machine (or a stale one: $0 down)"
  mkdir -p "$NODE"
  # containerd names the pods' network namespaces cni-<uuid>; those made while this node ran are its own.
  { ls /var/run/netns 2>/dev/null || true; } > "$NODE/netns.before"
  sysctl -qw net.ipv4.ip_forward=1
  modprobe br_netfilter 2>/dev/null || true
  sysctl -qw net.bridge.bridge-nf-call-iptables=1
  ip link add "$NODE_BRIDGE" type bridge
  ip addr add "$NODE_IP/${NODE_POD_CIDR#*/}" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
  iptables -N XPNODE-FORWARD
  iptables -A XPNODE-FORWARD -s "$NODE_POD_CIDR" ! -o "$NODE_BRIDGE" -j DROP
  iptables -I FORWARD 1 -j XPNODE-FORWARD
  iptables -N XPNODE-INPUT
  iptables -A XPNODE-INPUT -i lo -j RETURN
  iptables -A XPNODE-INPUT -i "$NODE_BRIDGE" -j RETURN
  iptables -A XPNODE-INPUT -d "$NODE_IP" -j DROP
  iptables -A XPNODE-INPUT -p tcp --dport "$CLUSTER_APISERVER_PORT" -j DROP
  iptables -I INPUT 1 -j XPNODE-INPUT
  log "bridge $NODE_BRIDGE $NODE_IP/${NODE_POD_CIDR#*/}, guards in iptables' XPNODE-FORWARD and XPNODE-INPUT"
}

pause_image() {
  local T
  T=$(ts)
  imagebuild build --binary "$BIN/pause" --entrypoint /pause --title pause \
    --description "Kubernetes pause container (build/pause/linux/pause.c)" --no-ports --tag "$PAUSE_VERSION" \
    --repository "$REG/pause" --out "$NODE/pause.tar" >/dev/null
  imagebuild push --image "$NODE/pause.tar" --ref "$PAUSE_IMAGE" --insecure >/dev/null
  log "pause image $PAUSE_IMAGE: $(since "$T")s"
}

write_configs() {
  mkdir -p "$NODE"/{containerd,certs.d/"$REG",cni/net.d,cni/ipam,kubelet,pods}
  # Plain HTTP for the loopback registry; every other registry is unreachable here anyway.
  cat > "$NODE/certs.d/$REG/hosts.toml" <<TOML
server = "http://$REG"
[host."http://$REG"]
  capabilities = ["pull", "resolve"]
TOML
  cat > "$NODE/containerd/config.toml" <<TOML
version = 2
root = "$NODE/containerd/root"
state = "$NODE/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Root here lacks CAP_SYS_RESOURCE: kubelet's negative oom_score_adj would fail every container.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN"
    conf_dir = "$NODE/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$NODE/certs.d"
[plugins."io.containerd.internal.v1.opt"]
  path = "$NODE/containerd/opt"
TOML
  cat > "$NODE/cni/net.d/10-xpnode.conflist" <<JSON
{"cniVersion": "0.4.0", "name": "xpnode", "plugins": [
  {"type": "bridge", "bridge": "$NODE_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$NODE/cni/ipam", "ranges": [[{"subnet": "$NODE_POD_CIDR", "gateway": "$NODE_IP"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}
]}
JSON
  # Cluster names only: nothing is forwarded, so no name lookup leaves the machine.
  cat > "$NODE/Corefile" <<COREFILE
.:53 {
  bind $NODE_IP
  errors
  health 127.0.0.1:$NODE_DNS_HEALTH_PORT
  ready 127.0.0.1:$((NODE_DNS_HEALTH_PORT + 1))
  kubernetes cluster.local in-addr.arpa {
    kubeconfig $KUBECONFIG local
  }
  cache 30
  loadbalance
}
COREFILE
  # kubelet's resolvConf: the host's names resolvers outside this machine, so pods get none of them.
  : > "$NODE/resolv.conf"
  cat > "$NODE/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# These machines run cgroup v1, which kubelet 1.35 refuses unless told otherwise.
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
address: $NODE_IP
port: $NODE_KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $((NODE_KUBELET_PORT + 1))
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI/kubelet.crt
tlsPrivateKeyFile: $PKI/kubelet.key
staticPodPath: $NODE/pods
resolvConf: $NODE/resolv.conf
clusterDomain: cluster.local
clusterDNS: [$NODE_IP]
# A test machine's disk and memory are shared with builds: no eviction, no image garbage collection.
evictionHard: {memory.available: "0%", nodefs.available: "0%", imagefs.available: "0%", nodefs.inodesFree: "0%"}
imageGCHighThresholdPercent: 100
# The e2e suite reads the provider's whole --debug log (kubectl logs): no rotation within a run.
containerLogMaxSize: 200Mi
serializeImagePulls: false
YAML
  cat > "$NODE/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $KUBECONFIG}
hostnameOverride: $NODE_NAME
clusterCIDR: $NODE_POD_CIDR
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:$NODE_PROXY_PORT
metricsBindAddress: 127.0.0.1:$((NODE_PROXY_PORT + 1))
# Leave the machine's conntrack sysctls alone (a VM may refuse them).
conntrack: {maxPerCore: 0}
YAML
}

# kubelet_cert : the kubelet's serving certificate, for the API server's logs/exec calls to it.
kubelet_cert() {
  [ -f "$PKI/kubelet.crt" ] && return 0
  (
    cd "$PKI" || exit 1
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$NODE_NAME" \
      -keyout kubelet.key -out kubelet.csr 2>/dev/null
    printf 'subjectAltName=IP:%s,DNS:%s\nextendedKeyUsage=serverAuth\n' "$NODE_IP" "$NODE_NAME" > kubelet.ext
    openssl x509 -req -in kubelet.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile kubelet.ext -out kubelet.crt 2>/dev/null
    rm -f kubelet.csr kubelet.ext
  )
}

node_ready() { [ "$(k get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; }

up() {
  local T0 T
  T0=$(ts)
  preflight
  # Anything half made is undone by down.sh (up.sh's failure path runs it).
  if ! (exec 3<>"/dev/tcp/$CLUSTER_REGISTRY_HOST/$CLUSTER_REGISTRY_PORT") 2>/dev/null; then
    start_bg localreg "$BIN/localreg" -addr "$REG"
    wait_for_pid_url localreg "http://$REG/v2/" 30
  fi
  write_configs
  kubelet_cert
  pause_image

  start_bg containerd containerd --config "$NODE/containerd/config.toml"
  wait_for "containerd" 30 test -S "$CONTAINERD_SOCK"

  start_bg coredns "$BIN/coredns" -conf "$NODE/Corefile"
  start_bg kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$KUBECONFIG" --leader-elect=false \
    --bind-address=127.0.0.1 --secure-port="$NODE_SCHEDULER_PORT"

  T=$(ts)
  start_bg kubelet "$BIN/kubelet" --config="$NODE/kubelet/config.yaml" --kubeconfig="$KUBECONFIG" \
    --root-dir="$NODE/kubelet" --cert-dir="$NODE/kubelet/pki" --hostname-override="$NODE_NAME" \
    --node-ip="$NODE_IP"
  start_bg kube-proxy "$BIN/kube-proxy" --config="$NODE/kube-proxy.yaml"
  wait_for_pid_url kube-proxy "http://127.0.0.1:$NODE_PROXY_PORT/healthz" 60
  wait_for_pid_url coredns "http://127.0.0.1:$((NODE_DNS_HEALTH_PORT + 1))/ready" 60
  wait_for "node $NODE_NAME Ready" 120 node_ready
  log "kubelet registered and Ready: $(since "$T")s"
  log "node up in $(since "$T0")s"
}

# kubelet_chains_cleanup : kubelet's own iptables chains (KUBE-FIREWALL, the canaries), which kube-proxy
# --cleanup leaves.
kubelet_chains_cleanup() {
  local ipt t rule c
  for ipt in iptables ip6tables; do
    for t in filter nat mangle; do
      "$ipt" -t "$t" -S 2>/dev/null | grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j KUBE-' | while read -r rule; do
        # shellcheck disable=SC2086 # a rule as iptables -S prints it
        eval "$ipt" -t "$t" -D "${rule#-A }" 2>/dev/null || true
      done || true
      for c in $("$ipt" -t "$t" -S 2>/dev/null | sed -n 's/^-N \(KUBE-[^ ]*\)$/\1/p'); do
        "$ipt" -t "$t" -F "$c" 2>/dev/null || true
      done
      for c in $("$ipt" -t "$t" -S 2>/dev/null | sed -n 's/^-N \(KUBE-[^ ]*\)$/\1/p'); do
        "$ipt" -t "$t" -X "$c" 2>/dev/null || true
      done
    done
  done
}

down() {
  local p n
  # 1. every container and sandbox the node ran: kill their tasks while containerd still answers
  if [ -S "$CONTAINERD_SOCK" ] && running containerd; then
    for n in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$n" >/dev/null 2>&1 || true; done
    sleep 0.5
    for n in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$n" >/dev/null 2>&1 || true; done
  fi
  stop_bg kube-proxy kubelet kube-scheduler coredns containerd
  # 2. shims of this node's containerd (found by its socket) that outlived it
  for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" || true); do kill -KILL "$p" 2>/dev/null || true; done
  # 3. mounts (overlay roots, pod volumes, sandbox /dev/shm) and network namespaces of the pods
  # (/proc/self/mounts names them by their real path: $NODE may go through a symlink)
  if [ -d "$NODE" ]; then
    awk -v d="$(realpath "$NODE")/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r p; do umount -l "$p" 2>/dev/null || true; done
  fi
  # the pods' network namespaces
  if [ -f "$NODE/netns.before" ]; then
    for n in $(ls /var/run/netns 2>/dev/null | grep '^cni-' || true); do
      grep -qx "$n" "$NODE/netns.before" || ip netns delete "$n" 2>/dev/null || true
    done
  fi
  # 4. the host's network: kube-proxy's rules, the guards, the bridge
  [ -x "$BIN/kube-proxy" ] && "$BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
  kubelet_chains_cleanup
  for n in FORWARD INPUT; do
    iptables -D "$n" -j "XPNODE-$n" 2>/dev/null || true
    iptables -F "XPNODE-$n" 2>/dev/null && iptables -X "XPNODE-$n" || true
  done
  ip link del "$NODE_BRIDGE" 2>/dev/null || true
  rm -rf "$NODE" || log "WARNING: could not remove all of $NODE"
  log "node down"
}

case "${1:-}" in
  net) net ;;
  up) up ;;
  down) down ;;
  *) die "usage: $0 net|up|down" ;;
esac
