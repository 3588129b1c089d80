#!/usr/bin/env bash
# Installs what the local cluster's real node needs from Debian's packages:
# containerd, runc and the CNI plugins (into /usr/lib/cni), and ffmpeg, whose
# ffmpeg and ffprobe the convert tests run on this machine (to make a video to
# upload and to check what the job made). It needs root;
# without it, it says so and fails, and the real-node tests skip (or fail,
# with ASYNCJOB_REQUIRE_REAL_NODE=1, as CI sets it).
#
# usage: hack/real-node-deps.sh
set -euo pipefail

needed=()
[ -x /usr/bin/containerd ] || needed+=(containerd)
[ -x /usr/sbin/runc ] || needed+=(runc)
[ -x /usr/lib/cni/bridge ] || needed+=(containernetworking-plugins)
[ -x /usr/bin/ffprobe ] || needed+=(ffmpeg)
if [ ${#needed[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "real-node-deps: ${needed[*]} missing and installing them needs root; real-node tests will be skipped" >&2
  exit 1
fi
echo "real-node-deps: installing ${needed[*]}" >&2
apt-get update -qq >&2
# The packages' own service is not used (and there is no systemd here): the
# local cluster runs its own containerd with its state in a temporary directory.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${needed[@]}" >&2
