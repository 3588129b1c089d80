#!/usr/bin/env bash
# Builds Kueue (the batch admission controller the local cluster can run) from
# its Go module at a pinned version, cached outside the repository keyed by
# version, because no release binary can be downloaded on the machines this
# project runs on. It is built by `go install pkg@version`, that is in its own
# throwaway module: it cannot share this module's k8s.io pins (one of its
# dependencies does not compile against them).
#
# usage: hack/kueue.sh          prints the path of the kueue binary
#        hack/kueue.sh --crds   prints the directory of Kueue's CRD manifests
# (on the last line of stdout).
set -euo pipefail

KUEUE_VERSION="${KUEUE_VERSION:-v0.17.0}"
CACHE_ROOT="${ASYNCJOB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/asyncjob}"
OUT="${CACHE_ROOT}/tools/kueue-${KUEUE_VERSION}"

if [ "${1:-}" = "--crds" ]; then
  # The module's own CRDs (the Helm chart and kustomize overlays are built from them).
  dir="$(cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kueue@${KUEUE_VERSION}" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
  [ -d "${dir}/config/components/crd/bases" ] || { echo "kueue: no CRDs in ${dir}" >&2; exit 1; }
  echo "${dir}/config/components/crd/bases"
  exit 0
fi

mkdir -p "${OUT}"
if [ ! -x "${OUT}/kueue" ]; then
  # One build at a time per cache: a second caller waits instead of racing.
  exec 9>"${OUT}/.lock"
  flock 9
  if [ ! -x "${OUT}/kueue" ]; then
    echo "kueue: building sigs.k8s.io/kueue/cmd/kueue@${KUEUE_VERSION} (about 11 minutes on a cold cache, 2 cores)" >&2
    start=$(date +%s)
    # Outside any module, so this repository's go.mod and GOFLAGS play no part.
    (cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod GOBIN="${OUT}" CGO_ENABLED=0 \
      go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kueue/cmd/kueue@${KUEUE_VERSION}") >&2
    echo "kueue: built in $(( $(date +%s) - start )) s" >&2
  fi
fi
echo "${OUT}/kueue"
