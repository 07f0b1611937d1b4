#!/usr/bin/env bash
# Installs what the local node (cluster/local/node.sh) takes from Debian's packages, when missing: the
# container runtime (containerd 1.6, CRI v1), runc, the CNI plugins, iptables and conntrack for
# kube-proxy, and a C compiler with a static libc for the pause container. Needs root.
set -euo pipefail
PKGS=(containerd runc containernetworking-plugins iptables conntrack gcc libc6-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "node-deps: need root to install ${missing[*]}" >&2; exit 1; }
echo "node-deps: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
