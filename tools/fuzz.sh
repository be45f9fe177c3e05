#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang with AddressSanitizer + UndefinedBehaviorSanitizer)
# and runs each for RUNS executions (default 1000000) from a seed corpus made of the project's own
# test files. A crash, sanitizer report, leak (ASan's leak check at exit) or an input running
# longer than 10 s fails the run and leaves the input in build-fuzz/findings/<target>/.
#   bash tools/fuzz.sh                 # every target, 1M executions each
#   RUNS=20000 bash tools/fuzz.sh gguf # one target, quickly
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-1000000}
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(gguf safetensors safetensors_index config generation_config tokenizer jinja http_request image audio)

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is missing (apt-get install clang)" >&2; exit 1; }
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DVKG_FUZZ=ON \
      -DVKG_BUILD_TESTS=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target $(printf '%s_fuzz ' "${targets[@]}")

# Seed corpora: the files the tests use, plus small generated ones.
seeds="$BUILD/seeds"
rm -rf "$seeds" && mkdir -p "$seeds"/{gguf,safetensors,safetensors_index,config,generation_config,tokenizer,jinja,http_request,image,audio}
cp tests/data/gemma4-tiny/dense/model.safetensors "$seeds/safetensors/dense.safetensors"
for v in dense ple e4b moe; do cp "tests/data/gemma4-tiny/$v/config.json" "$seeds/config/$v.json"; done
cp tests/generate/data/tokenizer.json "$seeds/tokenizer/small.json"
cp tests/fuzz/seeds/jinja/* "$seeds/jinja/"
cp tests/fuzz/seeds/generation_config/* "$seeds/generation_config/"
cp tests/fuzz/seeds/safetensors_index/* "$seeds/safetensors_index/"
cp tests/fuzz/seeds/http_request/* "$seeds/http_request/"
python3 tests/fuzz/seeds/make_gguf_seeds.py "$seeds/gguf"
# Images: the small decoder test files (every format and conversion), not the large resize cases.
cp tests/data/gemma4-image/decode_* "$seeds/image/"
{ printf 'data:image/png;base64,'; base64 -w0 tests/data/gemma4-image/decode_pal4.png; } >"$seeds/image/data_url.txt"
# Audio: small WAV, FLAC and MP3 files (tests/fuzz/seeds/audio, made by make_audio_seeds.sh).
cp tests/fuzz/seeds/audio/* "$seeds/audio/"

declare -A max_len=([gguf]=8192 [safetensors]=8192 [safetensors_index]=4096 [config]=8192
                    [generation_config]=2048 [tokenizer]=8192 [jinja]=4096 [http_request]=4096 [image]=16384
                    [audio]=16384)
status=0
for t in "${targets[@]}"; do
  findings="$BUILD/findings/$t" && mkdir -p "$findings" "$BUILD/corpus/$t"
  echo "== ${t}_fuzz: $RUNS executions"
  start=$(date +%s)
  if ! "$BUILD/tests/fuzz/${t}_fuzz" -runs="$RUNS" -timeout=10 -rss_limit_mb=2048 -max_len="${max_len[$t]}" \
       -artifact_prefix="$findings/" -print_final_stats=1 "$BUILD/corpus/$t" "$seeds/$t" \
       >"$BUILD/findings/$t.log" 2>&1; then
    echo "   FAILED: see $BUILD/findings/$t.log and $findings/"; status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$BUILD/findings/$t.log" | sed 's/^/   /'
  echo "   $(( $(date +%s) - start )) s"
done
exit $status
