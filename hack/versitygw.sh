#!/usr/bin/env bash
# Builds versitygw (github.com/versity/versitygw, Apache-2.0: an S3-compatible
# server that checks signatures and serves a directory) from its Go module at a
# pinned version, cached outside the repository keyed by version. The artifact
# store's S3 tests run against it: a real S3 server, not a mock, and no release
# binary can be downloaded on the machines this project runs on.
#
# usage: hack/versitygw.sh
# Prints the path of the versitygw binary on its last line of stdout.
set -euo pipefail

VERSITYGW_VERSION="${VERSITYGW_VERSION:-v1.8.0}"
CACHE_ROOT="${ASYNCJOB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/asyncjob}"
OUT="${CACHE_ROOT}/tools/versitygw-${VERSITYGW_VERSION}"

mkdir -p "${OUT}"
if [ ! -x "${OUT}/versitygw" ]; then
  # One build at a time per cache: a second caller waits instead of racing.
  exec 9>"${OUT}/.lock"
  flock 9
  if [ ! -x "${OUT}/versitygw" ]; then
    echo "versitygw: building github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION} (3 to 17 minutes on a cold cache, 2 cores, as busy as they are)" >&2
    start=$(date +%s)
    # Outside any module, so this repository's go.mod and GOFLAGS play no part.
    (cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod GOBIN="${OUT}" CGO_ENABLED=0 \
      go install -trimpath -ldflags "-s -w" "github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}") >&2
    echo "versitygw: built in $(( $(date +%s) - start )) s" >&2
  fi
fi
echo "${OUT}/versitygw"
