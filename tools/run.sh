#!/usr/bin/env bash
# Builds vkgemma (Release) and runs the main job: `vkgemma bench` on its embedded default (the
# E2B shape with synthetic weights, or the largest shape that fits the device). Extra arguments
# go to `vkgemma bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
BUILD=${BUILD_DIR:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target vkgemma
"$BUILD/tools/vkgemma" devices
"$BUILD/tools/vkgemma" bench "$@"
