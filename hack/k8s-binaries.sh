#!/usr/bin/env bash
# Builds Kubernetes components and etcd from source through the Go module proxy,
# because no release binary can be downloaded on the machines this project runs on.
# Binaries are cached outside the repository, keyed by version, so a fresh clone
# reuses them and a fresh machine builds them once.
#
# usage: hack/k8s-binaries.sh [component ...]
#   components: kube-apiserver etcd kube-controller-manager kube-scheduler kubelet kube-proxy kubectl
#   (default: kube-apiserver etcd, which is what envtest needs)
# Prints the directory holding the binaries on its last line of stdout.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.7.0}" # the version k8s.io/kubernetes ${KUBE_VERSION} pins
CACHE_ROOT="${ASYNCJOB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/asyncjob}"
OUT="${CACHE_ROOT}/k8s/${KUBE_VERSION}"

components=("$@")
[ ${#components[@]} -gt 0 ] || components=(kube-apiserver etcd)

log() { echo "k8s-binaries: $*" >&2; }

mkdir -p "${OUT}"
missing=()
for c in "${components[@]}"; do
  [ -x "${OUT}/${c}" ] || missing+=("${c}")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "${OUT}"
  exit 0
fi

# One build at a time per cache: a second caller waits instead of racing.
exec 9>"${OUT}/.lock"
flock 9

# The wrapper module's tools file: every command built from k8s.io/kubernetes.
KUBE_TOOLS='//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)'

build_kube() {
  local name="$1" work="${CACHE_ROOT}/src/kubernetes-${KUBE_VERSION}"
  if [ ! -f "${work}/go.mod" ]; then
    log "preparing a wrapper module for k8s.io/kubernetes ${KUBE_VERSION}"
    rm -rf "${work}" && mkdir -p "${work}"
    (
      cd "${work}"
      go mod init asyncjob.local/kubebuild >/dev/null 2>&1
      go mod edit -require "k8s.io/kubernetes@${KUBE_VERSION}"
      # kubernetes replaces its staging modules with local paths; point them at
      # the published modules of the matching v0.Y.Z instead.
      local modfile
      modfile="$(go mod download -json "k8s.io/kubernetes@${KUBE_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
      local staging="v0${KUBE_VERSION#v1}"
      grep -E '^\s*k8s.io/[^ ]+ => \./staging' "${modfile}" | awk '{print $1}' | while read -r m; do
        go mod edit -replace "${m}=${m}@${staging}"
      done
    )
  fi
  # (Re)write the tools file and tidy when it changed, so a cache made before a
  # command was added learns that command's dependencies.
  if [ "$(cat "${work}/tools.go" 2>/dev/null)" != "${KUBE_TOOLS}" ] || [ ! -f "${work}/go.sum" ]; then
    printf '%s\n' "${KUBE_TOOLS}" > "${work}/tools.go"
    (cd "${work}" && go mod tidy -e >/dev/null 2>&1) || true
  fi
  log "building ${name} ${KUBE_VERSION} (several minutes on a cold cache)"
  (cd "${work}" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=${KUBE_VERSION}" -o "${OUT}/${name}.tmp" "k8s.io/kubernetes/cmd/${name}")
  mv "${OUT}/${name}.tmp" "${OUT}/${name}"
}

build_etcd() {
  local work="${CACHE_ROOT}/src/etcd-${ETCD_VERSION}"
  if [ ! -f "${work}/go.sum" ]; then
    rm -rf "${work}" && mkdir -p "${work}"
    (
      cd "${work}"
      go mod init asyncjob.local/etcdbuild >/dev/null 2>&1
      cat > tools.go <<GO
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
      go mod edit -require "go.etcd.io/etcd/server/v3@${ETCD_VERSION}"
      go mod tidy -e >/dev/null 2>&1 || true
    )
  fi
  log "building etcd ${ETCD_VERSION}"
  (cd "${work}" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${OUT}/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "${OUT}/etcd.tmp" "${OUT}/etcd"
}

for c in "${missing[@]}"; do
  case "${c}" in
    etcd) build_etcd ;;
    kube-apiserver | kube-controller-manager | kube-scheduler | kubelet | kube-proxy | kubectl) build_kube "${c}" ;;
    *) log "unknown component ${c}"; exit 2 ;;
  esac
done
echo "${OUT}"
