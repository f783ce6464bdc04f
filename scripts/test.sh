#!/usr/bin/env bash
# The project's test command: types, lint, Rego policy tests, then every TypeScript test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
echo "== typecheck"; npx --no-install tsc -p tsconfig.json --noEmit
echo "== lint"; npx --no-install biome check .
echo "== policy tests"; bash scripts/policy-test.sh
echo "== build"; npx --no-install tsc -p tsconfig.build.json
echo "== tests"
mapfile -t files < <(find gateway bundle-builder test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
node --import tsx --test --test-concurrency=2 "$@" "${files[@]}"
