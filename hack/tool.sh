#!/usr/bin/env bash
# Installs a Go tool at a pinned version into a cache outside the repository
# (keyed by version, so fresh clones on the same machine reuse it) and links it
# into ./bin. usage: hack/tool.sh NAME PACKAGE VERSION
set -euo pipefail
name="$1" pkg="$2" version="$3"
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${ASYNCJOB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/asyncjob}/tools/${name}-${version}"
if [ ! -x "${cache}/${name}" ]; then
  echo "tool: installing ${pkg}@${version}" >&2
  mkdir -p "${cache}"
  GOBIN="${cache}" CGO_ENABLED=0 go install "${pkg}@${version}"
fi
mkdir -p "${root}/bin"
ln -sfn "${cache}/${name}" "${root}/bin/${name}"
