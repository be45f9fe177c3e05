#!/usr/bin/env bash
# KL divergence of each weight format's next-token distributions from the bf16 model's, on the same
# tokens: `vkgemma logits --weights F --out` per format, then vkg_logit_kl against `--weights bf16`.
#
# usage: tools/kl_by_format.sh [-m MODEL] [--formats "f16 q8_0 q4_0"] [--tokens N] [--device D]
#   -m MODEL   checkpoint directory or .gguf (default: a generated E2B-like checkpoint, hidden 512,
#              vocabulary 4096, seed 11, written once under $BUILD/kl-model)
#   --formats  the --weights values to compare (default: every quantized format vkgemma accepts)
#   --tokens   prompt length in positions (default 96; seeded pseudo-random ids)
# Prints a Markdown table: format, positions, mean / median / p99 / max KL in nats, top-1 agreement.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
VKGEMMA=$BUILD/tools/vkgemma
KL=$BUILD/tools/vkg_logit_kl
model="" formats="" n_tokens=96 device=()
while [[ $# -gt 0 ]]; do
  case $1 in
    -m|--model) model=$2; shift 2 ;;
    --formats) formats=$2; shift 2 ;;
    --tokens) n_tokens=$2; shift 2 ;;
    --device) device=(--device "$2"); shift 2 ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) echo "error: unknown option '$1'" >&2; exit 2 ;;
  esac
done
for bin in "$VKGEMMA" "$KL"; do
  [[ -x $bin ]] || { echo "error: $bin not built (cmake --build $BUILD)" >&2; exit 1; }
done
if [[ -z $model ]]; then
  model=$BUILD/kl-model
  if [[ ! -f $model/config.json ]]; then
    "$BUILD/tools/vkg_make_checkpoint" --out "$model" --variant ple --hidden 512 --intermediate 2048 \
      --vocab 4096 --heads 8 --head-dim 64 --global-head-dim 128 --ple-dim 64 --seed 11 >/dev/null
  fi
fi
if [[ -z $formats ]]; then
  # Every quantized format the CLI accepts, from its own usage text ("--weights must be one of ...").
  formats=$("$VKGEMMA" logits -m "$model" --tokens 1 --weights none 2>&1 | sed -n 's/.*one of \([^;]*\);.*/\1/p' |
            tr -d ',' | tr ' ' '\n' | grep '^q' | tr '\n' ' ' || true)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
logits() {  # vkgemma logits ARGS..., quiet unless it fails
  "$VKGEMMA" logits "$@" "${device[@]}" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
}
# The vocabulary from one position's logits, then seeded ids inside it (bash's generator, seed 7).
logits -m "$model" --tokens 2 --out "$tmp/one.f32"
vocab=$(( $(stat -c %s "$tmp/one.f32") / 4 ))
# (In this shell: bash reseeds RANDOM in subshells, so a $(...) loop would give other ids each run.)
RANDOM=7
ids=()
for ((i = 0; i < n_tokens; ++i)); do ids+=($(( 2 + (RANDOM * 32768 + RANDOM) % (vocab - 2) ))); done
tokens=$(IFS=,; echo "${ids[*]}")
logits -m "$model" --tokens "$tokens" --weights bf16 --out "$tmp/bf16.f32"
echo "| format | positions | mean KL | median KL | p99 KL | max KL | top-1 agree |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for f in $formats; do
  logits -m "$model" --tokens "$tokens" --weights "$f" --out "$tmp/$f.f32"
  "$KL" "$tmp/bf16.f32" "$tmp/$f.f32" --vocab "$vocab" --row "$f"
done
