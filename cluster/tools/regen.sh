#!/usr/bin/env bash
# Regenerates a wrapper module's go.mod/go.sum from its top-level requirements (the only hand-written
# input). Use it to bump a version: edit the requirement below, run this, then cluster/build-tools.sh.
# Usage: cluster/tools/regen.sh [etcd|k8s|crossplane|crank|functions|promtool|addons|all] ; TOOLS_DIR=... to work on a copy.
set -euo pipefail
TOOLS=${TOOLS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
MOD_PREFIX=github.com/gitops-lifecycle/provider-authentik/cluster/tools
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
# sum.golang.org answers 404 for these two; without this, tidy fails on them.
export GONOSUMDB=k8s.io/mount-utils,github.com/crossplane-contrib

K8S=v1.35.5 K8S_STAGING=v0.35.5

declare -A REQS=(
  [etcd]="go.etcd.io/etcd/server/v3@v3.6.5"
  [k8s]="k8s.io/kubernetes@$K8S"
  [crossplane]="github.com/crossplane/crossplane/v2@v2.4.0"
  [crank]="github.com/crossplane/crossplane/v2@v2.2.0 github.com/google/go-containerregistry@v0.20.7"
  [promtool]="github.com/prometheus/prometheus@v0.316.0"
  [addons]="helm.sh/helm/v4@v4.3.2 github.com/coredns/coredns@v1.15.0"
  [functions]="github.com/crossplane-contrib/function-patch-and-transform@v0.5.0 github.com/crossplane-contrib/function-go-templating@v0.4.1"
)

regen() {
  local name=$1 dir=$TOOLS/$1 r kdir m
  echo "== $name"
  cd "$dir"
  # Start from a bare go.mod; `go get` raises the go directive to what the requirements need.
  printf 'module %s/%s\n\ngo 1.22\n' "$MOD_PREFIX" "$name" > go.mod
  rm -f go.sum
  if [ "$name" = k8s ]; then
    # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging/...;
    # replaces don't apply to dependencies, so pin each staging module to the matching published version.
    kdir=$(cd "$(mktemp -d)" && go mod download -json "k8s.io/kubernetes@$K8S" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
    sed -n 's|^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*|\1|p' "$kdir/go.mod" | while read -r m; do
      go mod edit -replace "$m=$m@$K8S_STAGING"
    done
  fi
  # shellcheck disable=SC2086 # space-separated module@version list
  for r in ${REQS[$name]}; do go get "$r"; done
  go mod tidy
  cd - >/dev/null
}

what=${1:-all}
if [ "$what" = all ]; then
  for n in etcd k8s crossplane crank functions promtool addons; do regen "$n"; done
elif [ -n "${REQS[$what]:-}" ]; then
  regen "$what"
else
  echo "usage: $0 [etcd|k8s|crossplane|crank|functions|promtool|addons|all]" >&2; exit 2
fi
