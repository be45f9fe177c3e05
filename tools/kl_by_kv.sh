#!/usr/bin/env bash
# KL divergence of each KV cache format's next-token distributions from the f32 cache's, on the
# same long prompt: `vkgemma logits --kv F --out` per format, then vkg_logit_kl against `--kv f32`.
#
# usage: tools/kl_by_kv.sh [-m MODEL] [--formats "f16 q8_0 q4_0"] [--tokens N] [--device D] [--ref-kv F]
#   -m MODEL   checkpoint directory or .gguf (default: a generated E2B-like checkpoint: the PLE
#              variant, hidden 512, heads of 256 (sliding, window 64) and 512 (full), 2 KV-shared
#              layers, vocabulary 4096, seed 11, written once under $BUILD/kl-kv-model)
#   --formats  the --kv values to compare (default: f16 q8_0 q4_0)
#   --tokens   prompt length in positions (default 512: the window-64 rings wrap 8 times)
#   --ref-kv   the reference cache format (default f32)
# Prints a Markdown table: format, positions, mean / median / p99 / max KL in nats, top-1 agreement.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
VKGEMMA=$BUILD/tools/vkgemma
KL=$BUILD/tools/vkg_logit_kl
model="" formats="f16 q8_0 q4_0" n_tokens=512 device=() ref_kv=f32 extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    -m|--model) model=$2; shift 2 ;;
    --formats) formats=$2; shift 2 ;;
    --tokens) n_tokens=$2; shift 2 ;;
    --device) device=(--device "$2"); shift 2 ;;
    --ref-kv) ref_kv=$2; shift 2 ;;
    -h|--help) sed -n 2,12p "$0"; exit 0 ;;
    *) echo "error: unknown option '$1'" >&2; exit 2 ;;
  esac
done
for bin in "$VKGEMMA" "$KL"; do
  [[ -x $bin ]] || { echo "error: $bin not built (cmake --build $BUILD)" >&2; exit 1; }
done
if [[ -z $model ]]; then
  model=$BUILD/kl-kv-model
  if [[ ! -f $model/config.json ]]; then
    "$BUILD/tools/vkg_make_checkpoint" --out "$model" --variant ple --hidden 512 --intermediate 1024 \
      --vocab 4096 --heads 8 --kv-heads 1 --head-dim 256 --global-head-dim 512 --ple-dim 64 --layers 7 \
      --full-every 5 --kv-shared 2 --window 64 --seed 11 >/dev/null
  fi
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
logits() {  # vkgemma logits ARGS..., quiet unless it fails
  "$VKGEMMA" logits "$@" "${device[@]}" --ctx $((n_tokens + 16)) >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
}
logits -m "$model" --tokens 2 --out "$tmp/one.f32"
vocab=$(( $(stat -c %s "$tmp/one.f32") / 4 ))
RANDOM=7  # seeded ids (in this shell: bash reseeds RANDOM in subshells)
ids=()
for ((i = 0; i < n_tokens; ++i)); do ids+=($(( 2 + (RANDOM * 32768 + RANDOM) % (vocab - 2) ))); done
tokens=$(IFS=,; echo "${ids[*]}")
logits -m "$model" --tokens "$tokens" --kv "$ref_kv" --out "$tmp/ref.f32"
echo "| --kv | positions | mean KL | median KL | p99 KL | max KL | top-1 agree |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for f in $formats; do
  logits -m "$model" --tokens "$tokens" --kv "$f" --out "$tmp/$f.f32"
  "$KL" "$tmp/ref.f32" "$tmp/$f.f32" --vocab "$vocab" --row "$f"
done
