#!/usr/bin/env bash
# Set-up for the serve tests: installs the official `openai` npm client pinned by
# tests/serve/package-lock.json into tests/serve/node_modules, which serve.openai_client reads
# (VKG_NPM_DIR). Called by tools/test.sh before ctest, so the tests themselves need no network.
# Idempotent: does nothing when the lockfile's packages are already installed. Needs npm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# npm ci writes node_modules/.package-lock.json; the same lockfile means nothing to do.
if [[ ! -f node_modules/openai/package.json || ! -f node_modules/.package-lock.json ||
      package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
if [[ ! -f node_modules/openai/package.json ]]; then
  echo "fetch.sh: $PWD/node_modules/openai is still missing after npm ci" >&2
  exit 1
fi
echo "openai client: $PWD/node_modules/openai"
