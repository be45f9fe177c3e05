#!/usr/bin/env bash
# The speed measurements a lent GPU session owes (issue "Fast on every GPU"), in one script that runs
# on the device machine (docs/device-runs.md): the op bench, then `vkgemma bench` for each shape and
# weight format asked, each with --json and --profile, plus one --no-replay run for the cost of
# per-step recording. Everything lands in $OUT (or ./gpu-results): one JSON per run, a log, and
# summary.md with one line per run. A run that fails (e.g. a shape that does not fit) is logged and
# the suite goes on.
#
# Usage: bench/gpu_suite.sh [BIN_DIR] [SHAPES] [FORMATS]
#   BIN_DIR  where vkgemma and vkg_bench_ops are (default .devbin)
#   SHAPES   comma list (default e2b,e4b,26b-a4b,31b)
#   FORMATS  comma list (default q4_0,q8_0)
# Loading a synthetic 31B takes about a minute of host CPU per format, so on a 10-minute command
# limit run the shapes in two or three calls, e.g. "e2b,e4b" then "26b-a4b" then "31b".
# Environment: BENCH_ARGS (default "-p 512 -n 128 -r 5") is passed to every `vkgemma bench`.
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

say "# gpu_suite $(date -u +%FT%TZ) bin=$bin shapes=$shapes formats=$formats args=$args"
"$bin/vkgemma" devices --json > "$out/devices.json" 2>>"$log" || say "devices failed"
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
