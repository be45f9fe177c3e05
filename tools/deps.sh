#!/usr/bin/env bash
# Installs the Debian 12 packages vkgemma needs, when missing (apt-get as root, or with sudo).
# Called by tools/run.sh and tools/test.sh, so each is a complete set-up on a fresh machine.
set -euo pipefail
PACKAGES="cmake g++ make git pkg-config libvulkan-dev glslang-tools libsentencepiece-dev nlohmann-json3-dev
          libgtest-dev mesa-vulkan-drivers vulkan-validationlayers"
missing=""
for p in $PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
