# shellcheck shell=bash
# The provider from its .xpkg as a pod that Crossplane runs on the local node, installed as examples/gitops'
# first step installs it: its DeploymentRuntimeConfig, the ServiceAccount and RBAC Crossplane's RBAC
# manager grants plus discovery-rbac.yaml, the functions, the activation policy. The layout's packages
# (xpkg.crossplane.io/...) come from the loopback registry through an ImageConfig.
# Shared by cluster/package/node-test.sh and cluster/e2e/run.sh. Source it after
# cluster/local/lib.sh, on a node with Crossplane from its chart (cluster/local/crossplane-pods.sh);
# reads VERSION (v0.1.0-dev) and OUTPUT (_output).

VERSION=${VERSION:-v0.1.0-dev}
OUTPUT=${OUTPUT:-$ROOT/_output}
PROVIDER_XPKG=$OUTPUT/xpkg/provider-authentik-$VERSION.xpkg
CONFIG_XPKG=$OUTPUT/xpkg/configuration-authentik-proxyconfig-$VERSION.xpkg
PUBLIC=xpkg.crossplane.io
GITOPS=$ROOT/examples/gitops
STEP1=$GITOPS/infrastructure/crossplane-providers
STEP2=$GITOPS/infrastructure/crossplane-configs
STEP3=$GITOPS/apps
PROVIDER_SELECTOR=pkg.crossplane.io/provider=provider-authentik

build() { # DIR [DROP_REGEX [KEEP_REGEX]] : kustomize DIR, leaving out documents whose apiVersion or kind
  # matches DROP_REGEX and, with KEEP_REGEX, those whose kind does not match it
  k kustomize "$1" | awk -v drop="${2:-^$}" -v keep="${3:-}" '
    function flush() { if (doc != "" && !skip) printf "---\n%s", doc; doc = ""; skip = 0 }
    /^---$/ { flush(); next }
    /^(apiVersion|kind): / && $0 ~ drop { skip = 1 }
    /^kind: / && keep != "" && $0 !~ keep { skip = 1 }
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

require_packages() {
  local p
  for p in "$PROVIDER_XPKG" "$CONFIG_XPKG"; do [ -f "$p" ] || die "$p missing: run make xpkg (VERSION=$VERSION)"; done
}

# push_packages : the provider's and the Configuration's .xpkg in the loopback registry, at the paths and
# tags the layout names, and the ImageConfig that sends the layout's registry there.
push_packages() {
  local T
  T=$(ts)
  imagebuild push --image "$PROVIDER_XPKG" --ref "$REGISTRY/gitops-lifecycle/provider-authentik:$(package_tag "$STEP1/provider.yaml")" --insecure >/dev/null
  imagebuild push --image "$CONFIG_XPKG" --ref "$REGISTRY/gitops-lifecycle/configuration-authentik-proxyconfig:$(package_tag "$STEP2/configuration.yaml")" --insecure >/dev/null
  log "pushed the provider's and the Configuration's packages to $REGISTRY ($(since "$T")s)"
  rewrite_to_registry "$PUBLIC/" "$REGISTRY"
}

# install_provider_pods [ARG...] : the layout's first step, and wait until the provider and the functions
# are Healthy. ARGs, if any, replace the provider container's arguments in the DeploymentRuntimeConfig
# before the Provider is applied, so that its first pod runs with them.
install_provider_pods() {
  local p timeout=${NODE_TEST_TIMEOUT:-180}
  if [ $# -eq 0 ]; then
    build "$STEP1" | k apply -f -
  else
    build "$STEP1" '^kind: Provider$' | k apply -f -
    set_provider_args "$@"
    build "$STEP1" '' '^kind: Provider$' | k apply -f -
  fi
  p=$(k get providers -o jsonpath='{.items[0].metadata.name}')
  wait_for "crossplane-providers healthy" "$timeout" healthy "provider/$p" $(k get functions -o name)
}

# args_json ARG... : the arguments as kubectl prints a container's args.
args_json() {
  local a out=
  for a in "$@"; do out+="${out:+,}\"$a\""; done
  printf '[%s]' "$out"
}

set_provider_args() { # ARG...
  k patch deploymentruntimeconfig provider-authentik --type=json \
    -p "[{\"op\":\"replace\",\"path\":\"/spec/deploymentTemplate/spec/template/spec/containers/0/args\",\"value\":$(args_json "$@")}]" >/dev/null
}

# provider_runs ARGS_JSON : one provider pod, Ready, running with ARGS_JSON, holding the lease, and no
# other provider pod (not even one terminating).
provider_runs() {
  local pods name ready args
  pods=$(k get pods -n "$XP_NS" -l "$PROVIDER_SELECTOR" -o \
    'jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status} {.spec.containers[0].args}{"\n"}{end}')
  [ "$(grep -c . <<<"$pods")" = 1 ] || return 1
  read -r name ready args <<<"$pods"
  [ "$ready" = True ] && [ "$args" = "$1" ] || return 1
  [[ "$(k get lease -n "$XP_NS" crossplane-leader-election-provider-authentik -o jsonpath='{.spec.holderIdentity}')" == "${name}_"* ]]
}

# restart_provider_with ARG... : the provider container's arguments replaced in the DeploymentRuntimeConfig;
# Crossplane rolls the provider's Deployment, and this waits until the one pod left runs with them and leads.
restart_provider_with() {
  local T
  T=$(ts)
  set_provider_args "$@"
  wait_for "the provider's pod with $*" "${NODE_TEST_TIMEOUT:-180}" provider_runs "$(args_json "$@")"
  log "the provider's pod runs with $* ($(since "$T")s)"
}

# provider_log_tail : the last lines of the provider's pod's log, for a failure report.
provider_log_tail() { k -n "$XP_NS" logs -l "$PROVIDER_SELECTOR" --tail="${1:-20}" >&2 2>/dev/null || true; }
