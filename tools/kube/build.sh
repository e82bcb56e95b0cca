#!/usr/bin/env bash
# Build the local Kubernetes toolchain (pinned in versions.env / go.mod) into a cache directory
# outside the repository, keyed by a hash of the pins and this script, so only a changed pin
# rebuilds and a warm run is a no-op.
#
#   tools/kube/build.sh            build if needed, print the bin directory
#   tools/kube/build.sh --bin-dir  print the bin directory for the current pins; never builds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
export PATH="/usr/local/go/bin:$PATH"
# GOTOOLCHAIN=local: never fetch another Go toolchain; -mod=readonly: go.mod/go.sum are generated
# by gen-gomod.sh and committed, a build must not change them.
export GOTOOLCHAIN=local GOFLAGS="-trimpath -mod=readonly" CGO_ENABLED=0
# shellcheck source=versions.env
source ./versions.env

key=$(cat versions.env build.sh go.mod go.sum | sha256sum | cut -c1-16)
out="${PLINTH_CACHE_DIR:-$HOME/.cache/plinth}/kube/${key}"
bin="${out}/bin"
if [ "${1:-}" = "--bin-dir" ]; then
  echo "$bin"
  exit 0
fi

binaries=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl helm)
if [ -f "${out}/complete" ]; then
  missing=0
  for b in "${binaries[@]}"; do [ -x "${bin}/${b}" ] || missing=1; done
  if [ "$missing" -eq 0 ]; then
    echo "kube toolchain up to date: ${bin}"
    exit 0
  fi
fi

command -v go >/dev/null || { echo "go not found (expected /usr/local/go/bin/go)" >&2; exit 1; }
mkdir -p "$bin"

# Stamp versions the way each project's release build does, so `kubectl version`,
# `kube-apiserver --version`, `/version` and `helm version` report the pinned release.
kube_info=$(go mod download -json "k8s.io/kubernetes@${KUBE_VERSION}" |
  sed -n 's/^[[:space:]]*"Info": "\(.*\)",$/\1/p')
build_date=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$kube_info")
kube_major=$(echo "$KUBE_VERSION" | sed 's/^v\([0-9]*\)\..*/\1/')
kube_minor=$(echo "$KUBE_VERSION" | sed 's/^v[0-9]*\.\([0-9]*\)\..*/\1/')
kube_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X ${pkg}.gitVersion=${KUBE_VERSION} -X ${pkg}.gitMajor=${kube_major}"
  kube_ldflags+=" -X ${pkg}.gitMinor=${kube_minor} -X ${pkg}.gitTreeState=clean"
  kube_ldflags+=" -X ${pkg}.buildDate=${build_date}"
done
etcd_ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${ETCD_VERSION}"
kwok_ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION}"
kwok_ldflags+=" -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBE_VERSION}"
helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}"
helm_ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  helm_ldflags+=" -X ${pkg}.k8sVersionMajor=${kube_major} -X ${pkg}.k8sVersionMinor=${kube_minor}"
done

declare -A pkgs=(
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
  [kubectl]=k8s.io/kubernetes/cmd/kubectl
  [etcd]=go.etcd.io/etcd/server/v3
  [kwok]=sigs.k8s.io/kwok/cmd/kwok
  [kwokctl]=sigs.k8s.io/kwok/cmd/kwokctl
  [helm]=helm.sh/helm/v3/cmd/helm
)
declare -A flags=(
  [kube-apiserver]=$kube_ldflags [kube-controller-manager]=$kube_ldflags
  [kube-scheduler]=$kube_ldflags [kubectl]=$kube_ldflags [etcd]=$etcd_ldflags
  [kwok]=$kwok_ldflags [kwokctl]=$kwok_ldflags [helm]=$helm_ldflags
)

echo "building kube toolchain into ${bin}"
echo "  kubernetes ${KUBE_VERSION}, etcd ${ETCD_VERSION}, kwok ${KWOK_VERSION}, helm ${HELM_VERSION}"
echo "  $(go version), GOCACHE=$(go env GOCACHE)"
start=$(date +%s)
n=0
for b in "${binaries[@]}"; do
  n=$((n + 1))
  t0=$(date +%s)
  echo "[${n}/${#binaries[@]}] ${b} (${pkgs[$b]})"
  # A long compile prints nothing; say it is still alive every 30s.
  (while sleep 30; do echo "      ... ${b} still building, $(($(date +%s) - t0))s"; done) &
  ticker=$!
  rc=0
  go build -ldflags "${flags[$b]}" -o "${bin}/${b}.tmp" "${pkgs[$b]}" || rc=$?
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then
    echo "FAILED: ${b} (go build exit ${rc})" >&2
    exit "$rc"
  fi
  mv "${bin}/${b}.tmp" "${bin}/${b}"
  echo "      ${b} done in $(($(date +%s) - t0))s (total $(($(date +%s) - start))s)"
done
{
  echo "built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "seconds=$(($(date +%s) - start))"
  cat versions.env
} > "${out}/complete"
echo "kube toolchain built in $(($(date +%s) - start))s: ${bin}"
