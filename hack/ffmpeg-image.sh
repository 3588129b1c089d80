#!/usr/bin/env bash
# Builds the local cluster's ffmpeg image without Docker, from Debian's
# packages (hack/ffmpeg-image, docs/image.md), or finds it in the cache
# ($ASYNCJOB_CACHE, else ~/.cache/asyncjob), keyed by the packages' versions.
# It needs apt's package lists (apt-get update) and Debian's mirror.
# Prints the image archive's path on its last line of stdout; import it with
#   ctr -n k8s.io images import "$(hack/ffmpeg-image.sh)"
#
# usage: hack/ffmpeg-image.sh [--ref asyncjob.local/ffmpeg:debian12]
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./hack/ffmpeg-image "$@"
