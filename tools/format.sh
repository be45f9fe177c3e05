#!/usr/bin/env bash
# Formats every tracked C++ file with .clang-format (clang-format 14, Debian's `clang-format`).
# Usage: bash tools/format.sh          rewrite the files in place
#        bash tools/format.sh --check  list the files that differ; exit 1 if any (changes nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "error: clang-format not found (apt-get install clang-format)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.h' '*.cpp' | grep -v '^tests/data/')
if [ "${1:-}" = "--check" ]; then
  bad=0
  for f in "${files[@]}"; do
    if ! clang-format --style=file "$f" | cmp -s - "$f"; then echo "$f"; bad=1; fi
  done
  exit $bad
fi
clang-format --style=file -i "${files[@]}"
