#!/usr/bin/env bash
# Builds vkgemma (Release) and runs the whole test suite with the Vulkan validation layers on.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
# Pipeline cache files go to a private directory so tests never touch the user's cache.
export XDG_CACHE_HOME="$PWD/$BUILD/test-cache"
cd "$BUILD" && ctest --output-on-failure -j"$(nproc)" "$@"
