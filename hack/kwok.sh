#!/usr/bin/env bash
# Builds kwok (the simulated-node agent the local cluster uses) from its Go
# module at a pinned version, cached outside the repository keyed by version,
# because no release binary can be downloaded on the machines this project runs on.
#
# usage: hack/kwok.sh
# Prints the path of the kwok binary on its last line of stdout.
set -euo pipefail

KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
CACHE_ROOT="${ASYNCJOB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/asyncjob}"
OUT="${CACHE_ROOT}/tools/kwok-${KWOK_VERSION}"

mkdir -p "${OUT}"
if [ ! -x "${OUT}/kwok" ]; then
  # One build at a time per cache: a second caller waits instead of racing.
  exec 9>"${OUT}/.lock"
  flock 9
  if [ ! -x "${OUT}/kwok" ]; then
    echo "kwok: building sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION} (a few minutes on a cold cache)" >&2
    GOBIN="${OUT}" CGO_ENABLED=0 go install "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}" >&2
  fi
fi
echo "${OUT}/kwok"
