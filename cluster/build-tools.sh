#!/usr/bin/env bash
# Builds the local control-plane tools from pinned Go modules (no Docker, no release downloads):
#   kube        etcd, kube-apiserver, kube-controller-manager, kubectl
#   node        kube-scheduler, kubelet, kube-proxy, pause (a node that runs pods; not part of `all`
#               yet), CoreDNS (the node's cluster DNS), helm (to render Crossplane's chart), and the
#               *-static binaries of Crossplane's and the functions' images (after `crossplane functions`).
#               The container runtime, runc, CNI plugins and iptables are Debian's packages.
#   crossplane  crossplane (core), crank (the `crossplane` CLI), localreg (in-memory OCI registry)
#   functions   function-patch-and-transform, function-go-templating, function-auto-ready
#               Crossplane and the functions are built static (CGO_ENABLED=0), as their images need:
#               one build of their packages serves the host's binaries and the images'.
#   promtool    Prometheus' rule checker, for `make rules-test` (not part of `all`: e2e does not need it)
# Binaries land in _output/bin (override with TOOLS_BIN). A binary is rebuilt only when its stamp
# (version, ldflags, Go version, sha256 of the wrapper go.sum) changed or it is missing.
# Usage: cluster/build-tools.sh [kube|node|crossplane|functions|promtool|all]   (default: all)
set -euo pipefail

CLUSTER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$CLUSTER_DIR/.." && pwd)
TOOLS=$CLUSTER_DIR/tools
WORK=$CLUSTER_DIR/.work                     # git-ignored scratch (module copies, package metadata)
BIN=${TOOLS_BIN:-$ROOT/_output/bin}
STAMPS=$BIN/.stamps

# Pinned versions. The wrapper go.mod files are the source of truth for Go deps; these feed ldflags,
# stamps and the few modules fetched outside a wrapper.
K8S_VERSION=v1.35.5
ETCD_VERSION=v3.6.5
XP_CORE_VERSION=v2.4.0   # cluster/tools/crossplane (matches the provider's crossplane apis v2.4.0)
XP_CLI_VERSION=v2.2.0    # cluster/tools/crank (the v2.4.0 module no longer contains cmd/crank)
COREDNS_VERSION=v1.15.0  # cluster/tools/addons, with helm: both need client-go v0.37
HELM_VERSION=v4.3.2
PAUSE_VERSION=3.10.1     # build/pause/Makefile's TAG in k8s.io/kubernetes at K8S_VERSION
FN_PAT_VERSION=v0.5.0
FN_GOTPL_VERSION=v0.4.1
FN_READY_VERSION=v0.7.0
PROMTOOL_VERSION=v0.316.0   # cluster/tools/promtool (github.com/prometheus/prometheus)
# function-auto-ready is fetched as a zip (see build_functions); pin its content hash like go.sum would.
FN_READY_SUM='h1:cZYiDeNuHBacARHkRXnF/tDRiJ43eoFqJczQJ81pyyU='

# Default GOMODCACHE/GOCACHE on purpose (shared with the rest of the machine).
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
# The tools' own cgo setting (make exports CGO_ENABLED=0 for our code): kubelet and the others as upstream builds them.
unset CGO_ENABLED
# sum.golang.org answers 404 for these; a committed go.sum is still verified locally.
export GONOSUMDB=k8s.io/mount-utils,github.com/crossplane-contrib
# GOTOOLCHAIN=local won't download a newer Go, and the wrappers need the highest go directive among
# them (prometheus v0.316.0): say so up front instead of failing deep inside a build.
GO_MIN=1.26.7
GO_VERSION=$(go env GOVERSION)
if [ "$(printf '%s\n%s\n' "$GO_MIN" "${GO_VERSION#go}" | sort -V | head -1)" != "$GO_MIN" ]; then
  echo "build-tools: need Go >= $GO_MIN, have $GO_VERSION" >&2; exit 1
fi

log() { printf '[build-tools %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# stamp_for MODULE_DIR VERSION LDFLAGS -> one line identifying this build's inputs
stamp_for() {
  local sum
  sum=$(sha256sum "$1/go.sum" "$1/go.mod" | sha256sum | cut -c1-16)
  printf 'version=%s go=%s gosum=%s ldflags=%s%s\n' "$2" "$GO_VERSION" "$sum" "$3" "${CGO_ENABLED:+ cgo=$CGO_ENABLED}"
}

# build NAME MODULE_DIR VERSION LDFLAGS PKG : go build PKG inside MODULE_DIR -> $BIN/NAME, unless up to date.
build() {
  local name=$1 dir=$2 version=$3 ldflags=$4 pkg=$5 want t0
  want=$(stamp_for "$dir" "$version" "$ldflags")
  if [ -x "$BIN/$name" ] && [ "$(cat "$STAMPS/$name" 2>/dev/null)" = "$want" ]; then
    log "$name $version up to date"; return 0
  fi
  log "building $name $version"
  t0=$(date +%s)
  rm -f "$STAMPS/$name"
  (cd "$dir" && go build -trimpath -ldflags="$ldflags" -o "$BIN/$name" "$pkg")
  echo "$want" > "$STAMPS/$name"
  log "built $name in $(( $(date +%s) - t0 ))s"
}

# mod_dir MODULE@VERSION -> module source dir in GOMODCACHE (downloads it; run outside any main module
# so nothing's go.mod/go.sum is touched).
mod_dir() {
  local tmp json
  tmp=$(mktemp -d)
  json=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "$1")
  rmdir "$tmp"
  sed -n 's/.*"Dir": "\(.*\)".*/\1/p' <<<"$json"
}
mod_sum() { # MODULE@VERSION -> h1: hash
  local tmp json
  tmp=$(mktemp -d)
  json=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "$1")
  rmdir "$tmp"
  sed -n 's/.*"Sum": "\(.*\)".*/\1/p' <<<"$json"
}

# Without version ldflags kube-apiserver reports v0.0.0 and kubectl refuses to talk to it.
k8s_ldflags() {
  local ldf="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=35 -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$ldf"
}

build_kube() {
  build etcd "$TOOLS/etcd" "$ETCD_VERSION" "-s -w" .
  local c
  for c in kube-apiserver kube-controller-manager kubectl; do
    build "$c" "$TOOLS/k8s" "$K8S_VERSION" "$(k8s_ldflags)" "k8s.io/kubernetes/cmd/$c"
  done
}

build_node() {
  local c src want
  for c in kube-scheduler kube-proxy kubelet; do
    build "$c" "$TOOLS/k8s" "$K8S_VERSION" "$(k8s_ldflags)" "k8s.io/kubernetes/cmd/$c"
  done
  # The wrapper's own main.go picks CoreDNS' plugins: it is part of the stamp.
  build coredns "$TOOLS/addons" "$COREDNS_VERSION+main=$(sha256sum < "$TOOLS/addons/coredns/main.go" | cut -c1-12)" "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" ./coredns
  build helm "$TOOLS/addons" "$HELM_VERSION" "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" helm.sh/helm/v4/cmd/helm
  # The binaries of the images the node runs (crossplane-pods.sh): Crossplane core and the
  # Configuration's functions. `all` builds them static already, so these are links of cached
  # packages; their own names keep an image's binary static whatever rebuilt the host's.
  CGO_ENABLED=0 build crossplane-static "$TOOLS/crossplane" "$XP_CORE_VERSION" "$(xp_ldflags)" \
    github.com/crossplane/crossplane/v2/cmd/crossplane
  CGO_ENABLED=0 build function-go-templating-static "$TOOLS/functions" "$FN_GOTPL_VERSION" "-s -w" github.com/crossplane-contrib/function-go-templating
  [ -f "$WORK/function-auto-ready/.module-sum" ] || { log "ERROR: no $WORK/function-auto-ready: run $0 functions first"; exit 1; }
  CGO_ENABLED=0 build function-auto-ready-static "$WORK/function-auto-ready" \
    "$FN_READY_VERSION+$(cut -d' ' -f2 "$WORK/function-auto-ready/.module-sum")" "-s -w" .
  # The pod sandbox's process, as build/pause/Makefile builds it (a static C program).
  src=$(cd "$TOOLS/k8s" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c
  want="pause=$PAUSE_VERSION k8s=$K8S_VERSION cc=$(cc -dumpfullversion 2>/dev/null || echo none)"
  if [ ! -x "$BIN/pause" ] || [ "$(cat "$STAMPS/pause" 2>/dev/null)" != "$want" ]; then
    command -v cc >/dev/null || { log "ERROR: no C compiler for the pause container: apt-get install gcc libc6-dev"; exit 1; }
    cc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION" -o "$BIN/pause" "$src"
    echo "$want" > "$STAMPS/pause"
    log "built pause $PAUSE_VERSION"
  fi
}

xp_ldflags() { echo "-s -w -X github.com/crossplane/crossplane-runtime/v2/pkg/version.version=$XP_CORE_VERSION"; }

build_crossplane() {
  # The version string matters: the package manager checks packages' crossplane.version constraints
  # against it. It moved from crossplane/internal/version (v2.2) to crossplane-runtime/pkg/version (v2.4).
  CGO_ENABLED=0 build crossplane "$TOOLS/crossplane" "$XP_CORE_VERSION" "$(xp_ldflags)" github.com/crossplane/crossplane/v2/cmd/crossplane
  build crank "$TOOLS/crank" "$XP_CLI_VERSION" \
    "-s -w -X github.com/crossplane/crossplane/v2/internal/version.version=$XP_CLI_VERSION" \
    github.com/crossplane/crossplane/v2/cmd/crank
  build localreg "$TOOLS/crank" "$XP_CLI_VERSION" "-s -w" ./cmd/localreg
  # Crossplane core CRDs ship in the module zip; `crossplane core init` applies them from a directory.
  local src
  src=$(cd "$TOOLS/crossplane" && go list -m -f '{{.Dir}}' github.com/crossplane/crossplane/v2)
  # Only (re)copied on a version change: a running control plane or render may be reading them.
  if [ "$(cat "$WORK/crossplane-crds/VERSION" 2>/dev/null)" != "$XP_CORE_VERSION" ]; then
    rm -rf "$WORK/crossplane-crds"; mkdir -p "$WORK"
    cp -r "$src/cluster/crds" "$WORK/crossplane-crds"; chmod -R u+w "$WORK/crossplane-crds"
    echo "$XP_CORE_VERSION" > "$WORK/crossplane-crds/VERSION"
  fi
}

build_functions() {
  CGO_ENABLED=0 build function-patch-and-transform "$TOOLS/functions" "$FN_PAT_VERSION" "-s -w" github.com/crossplane-contrib/function-patch-and-transform
  CGO_ENABLED=0 build function-go-templating "$TOOLS/functions" "$FN_GOTPL_VERSION" "-s -w" github.com/crossplane-contrib/function-go-templating
  # function-auto-ready's go.mod says github.com/crossplane/function-auto-ready, so it cannot be required
  # under its crossplane-contrib path: copy the verified module zip into .work and build it as a main module.
  # Its function-sdk-go also always serves metrics on *:8080 (the provider's metrics port), so a small
  # patch adds --metrics-address, off by default.
  local m=github.com/crossplane-contrib/function-auto-ready@$FN_READY_VERSION d sum patch want
  patch=$TOOLS/patches/function-auto-ready-metrics-address.patch
  sum=$(mod_sum "$m")
  [ "$sum" = "$FN_READY_SUM" ] || { log "ERROR: $m hash $sum != pinned $FN_READY_SUM"; exit 1; }
  want="$sum patch=$(sha256sum < "$patch" | cut -c1-16)"
  d=$WORK/function-auto-ready
  if [ "$(cat "$d/.module-sum" 2>/dev/null)" != "$want" ]; then
    rm -rf "$d"; mkdir -p "$WORK"
    cp -r "$(mod_dir "$m")" "$d"; chmod -R u+w "$d"
    patch -s -p1 -d "$d" < "$patch"
    echo "$want" > "$d/.module-sum"
  fi
  CGO_ENABLED=0 build function-auto-ready "$d" "$FN_READY_VERSION+${want#* }" "-s -w" .
  # Package metadata (crossplane.yaml + input CRDs) for `crank xpkg build` and `crank beta validate`.
  local f v
  for f in function-patch-and-transform@$FN_PAT_VERSION function-go-templating@$FN_GOTPL_VERSION function-auto-ready@$FN_READY_VERSION; do
    v=$WORK/pkg/${f%@*}
    [ "$(cat "$WORK/pkg/.${f%@*}.version" 2>/dev/null)" = "$f" ] && continue
    rm -rf "$v"; mkdir -p "$WORK/pkg"
    cp -r "$(mod_dir "github.com/crossplane-contrib/$f")/package" "$v"; chmod -R u+w "$v"
    echo "$f" > "$WORK/pkg/.${f%@*}.version"   # outside $v: crank xpkg build packs every file in it
  done
}

build_promtool() {
  build promtool "$TOOLS/promtool" "$PROMTOOL_VERSION" \
    "-s -w -X github.com/prometheus/common/version.Version=${PROMTOOL_VERSION#v}" \
    github.com/prometheus/prometheus/cmd/promtool
}

main() {
  local what=${1:-all} t0
  case "$what" in kube|node|crossplane|functions|promtool|all) ;; *) echo "usage: $0 [kube|node|crossplane|functions|promtool|all]" >&2; exit 2 ;; esac
  mkdir -p "$BIN" "$STAMPS"
  t0=$(date +%s)
  log "go $GO_VERSION, GOMODCACHE=$(go env GOMODCACHE), output $BIN"
  case "$what" in
    kube) build_kube ;;
    node) build_node ;;
    crossplane) build_crossplane ;;
    functions) build_functions ;;
    promtool) build_promtool ;;
    all) build_kube; build_crossplane; build_functions ;;
  esac
  log "done ($what) in $(( $(date +%s) - t0 ))s"
}

main "$@"
