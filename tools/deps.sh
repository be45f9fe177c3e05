#!/usr/bin/env bash
# Installs the Debian 12 packages vkgemma needs, when missing (apt-get as root, or with sudo), then
# builds glslangValidator 15 into the user's cache once (tools/glslang.sh: Debian 12's glslang
# lacks the cooperative-matrix and integer-dot extensions). Called by tools/run.sh and
# tools/test.sh, so each is a complete set-up on a fresh machine.
set -euo pipefail
# python3 only serves the glslang 15 build (its build generates a header with a Python script).
# `vkgemma serve`: cpp-httplib 0.18.7 from Debian 13's source (tools/httplib.sh below; patch and
# xz-utils unpack it); chromium and nginx only serve its tests (the chat
# page in a headless browser, two servers behind a load balancer). Node 20 and npm (the openai
# client test) are expected to be there already, as for the tokenizer tests.
# Image input (host/image): libpng, libjpeg-turbo, libwebp and giflib decode PNG, JPEG, WebP and GIF
# (PIL uses the same libjpeg-turbo and libwebp, so decoded pixels equal Hugging Face's).
# Audio input (host/audio): libsndfile (WAV, FLAC; what Python's soundfile wraps), libmpg123
# (MP3), libsoxr (resampling to 16 kHz, librosa's default); espeak-ng makes speech for a test.
PACKAGES="cmake g++ make git pkg-config libvulkan-dev glslang-tools libsentencepiece-dev nlohmann-json3-dev
          libgtest-dev mesa-vulkan-drivers vulkan-validationlayers python3 patch xz-utils chromium nginx
          libpng-dev libjpeg62-turbo-dev libwebp-dev libgif-dev libsndfile1-dev libmpg123-dev libsoxr-dev espeak-ng"
missing=""
for p in $PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Without the newer compiler the project still builds: CMake then says which kernel families it
# leaves out. So a failed download or build warns and carries on.
bash "$(dirname "$0")/glslang.sh" ||
  echo "warning: glslangValidator 15 was not built (tools/glslang.sh failed); the build falls back to the system's glslang" >&2
# cpp-httplib 0.18.7 (one header) for `vkgemma serve`: without it the build stops, so a failure stops here.
bash "$(dirname "$0")/httplib.sh"
