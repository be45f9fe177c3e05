#!/usr/bin/env bash
# What a lent GPU session owes, in order, in one script that runs on the device machine
# (docs/device-runs.md) within one 10-minute call: first `vkgemma selftest` (every kernel the engine
# runs on this device against the CPU reference: a wrong kernel makes every later number
# meaningless), then the test suite on the GPU (ctest, when a build tree is carried), then the
# speed measurements: the op bench, `vkgemma bench` for each shape and weight format asked, each with
# --json and --profile (bench checks its kernels itself and reuses the selftest's cached pass), plus
# one --no-replay run for the cost of per-step recording. Everything lands in $OUT (or
# ./gpu-results): selftest.json, ctest.log, one JSON per run, a log, and summary.md with one line
# per run. A run that fails (e.g. a shape that does not fit) is logged and the suite goes on; benchmark
# runs that would start past the time budget are skipped and listed as such.
#
# Usage: bench/gpu_suite.sh [BIN_DIR] [SHAPES] [FORMATS]
#   BIN_DIR  where vkgemma and vkg_bench_ops are (default .devbin)
#   SHAPES   comma list (default e2b,e4b,26b-a4b,31b)
#   FORMATS  comma list (default q4_0,q8_0)
# Loading a synthetic 31B takes about a minute of host CPU per format, so on a 10-minute command
# limit run the shapes in two or three calls, e.g. "e2b,e4b" then "26b-a4b" then "31b".
# Environment: BENCH_ARGS (default "-p 512 -n 128 -r 5") is passed to every `vkgemma bench`;
# BUILD_DIR (default build): a build tree whose ctest runs the GPU tests (skipped when absent or
# when SKIP_TESTS=1); SUITE_BUDGET_S (default 540): no benchmark starts after this many seconds;
# SELFTEST_ARGS (default none: every built-in shape, q4_0, q8_0 and bf16).
set -u
bin=${1:-.devbin}
shapes=${2:-e2b,e4b,26b-a4b,31b}
formats=${3:-q4_0,q8_0}
out=${OUT:-gpu-results}
args=${BENCH_ARGS:--p 512 -n 128 -r 5}
mkdir -p "$out"
log="$out/suite.log"
summary="$out/summary.md"

say() { echo "$*" | tee -a "$log"; }

budget=${SUITE_BUDGET_S:-540}
build=${BUILD_DIR:-build}

say "# gpu_suite $(date -u +%FT%TZ) bin=$bin shapes=$shapes formats=$formats args=$args"
"$bin/vkgemma" devices --json > "$out/devices.json" 2>>"$log" || say "devices failed"

# 1. Correctness of every kernel on this device first (about 2 minutes at most on a GPU).
if [ ! -e "$out/selftest.json" ]; then
  # shellcheck disable=SC2086
  "$bin/vkgemma" selftest ${SELFTEST_ARGS:-} --json > "$out/selftest.json" 2>>"$log"
  rc=$?
  say "selftest exit $rc ($SECONDS s): $(grep -c '"pass": true' "$out/selftest.json") cases passed," \
    "$(grep -c '"pass": false' "$out/selftest.json") failed (failures named in $log)"
fi
# 2. The test suite on the GPU (validation layers on, as in CI), bounded so benchmarks still run.
if [ "${SKIP_TESTS:-0}" != 1 ] && [ -e "$build/CTestTestfile.cmake" ] && [ ! -e "$out/ctest.log" ]; then
  timeout 240 ctest --test-dir "$build" -j "$(nproc)" -L gpu --output-on-failure > "$out/ctest.log" 2>&1
  say "ctest -L gpu exit $? ($SECONDS s): $(grep -E 'tests passed|tests failed' "$out/ctest.log" | tail -1)"
fi
if [ -x "$bin/vkg_bench_ops" ] && [ ! -e "$out/ops.json" ]; then
  "$bin/vkg_bench_ops" --reps 7 > "$out/ops.md" 2>>"$log" || say "vkg_bench_ops failed"
  "$bin/vkg_bench_ops" --reps 7 --json > "$out/ops.json" 2>>"$log" || say "vkg_bench_ops --json failed"
  # A/B of the integer-dot q8_0/q4_0 products against the float ones (the shaders field says which ran).
  for u in off force; do
    "$bin/vkg_bench_ops" --reps 7 --kernels gpu --int-dot $u --filter mat --json > "$out/ops-int-dot-$u.json" 2>>"$log" ||
      say "vkg_bench_ops --int-dot $u failed"
  done
fi
[ -e "$summary" ] || printf '| run | prefill tok/s | decode tok/s | decode GB/s | %% of read bandwidth |\n|---|---:|---:|---:|---:|\n' > "$summary"

# The bandwidth yardstick alone (read kernel and copy): the number every % below is taken against.
"$bin/vkgemma" devices --bandwidth --json > "$out/bandwidth.json" 2>>"$log" || say "devices --bandwidth failed"

# One `vkgemma bench` run into $out/$name.json, and a summary line from its medians.
bench() {
  local name=$1
  shift
  if [ "$SECONDS" -ge "$budget" ]; then
    say "## $name: skipped (past the ${budget} s budget)"
    printf '| %s | skipped (time) | | | |\n' "$name" >> "$summary"
    return
  fi
  say "## $name: vkgemma bench $*"
  if "$bin/vkgemma" bench "$@" --json > "$out/$name.json" 2>>"$log"; then
    # Medians from the JSON without a JSON tool: the fields are "name": {"max": .., "median": .., ...}.
    local med
    med() { tr -d '\n ' < "$out/$name.json" | grep -o "\"$1\":{[^}]*}" | grep -o '"median":[0-9.e+-]*' | cut -d: -f2; }
    printf '| %s | %s | %s | %s | %s |\n' "$name" "$(med prefill_tok_s)" "$(med decode_tok_s)" \
      "$(med decode_gbps)" "$(med decode_pct_bandwidth)" >> "$summary"
  else
    say "   failed (exit $?): see $log"
    printf '| %s | failed | | | |\n' "$name" >> "$summary"
  fi
}

IFS=, read -ra shape_list <<< "$shapes"
IFS=, read -ra format_list <<< "$formats"
for s in "${shape_list[@]}"; do
  for f in "${format_list[@]}"; do
    # shellcheck disable=SC2086  # args is a list of flags
    bench "bench-$s-$f" --shape "$s" --weights "$f" $args --profile
  done
done
# What replaying one recorded decode step saves against recording every step.
if [[ ",$shapes," == *",e2b,"* ]]; then
  # shellcheck disable=SC2086
  bench "bench-e2b-q4_0-no-replay" --shape e2b --weights q4_0 $args --no-replay
fi
say "done $(date -u +%FT%TZ)"
cat "$summary"
