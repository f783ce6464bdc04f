#!/usr/bin/env bash
# Checks the default Rego policy (policies/): formatting, a strict compile,
# the unit tests, test coverage (at least 90%), and that the policy still
# builds to WebAssembly with the warden/decision entrypoint.
# Set POLICY_TEST_VERBOSE=1 to list every test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

threshold=90
opa() { bash scripts/opa.sh "$@"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "policy: opa fmt"
opa fmt --list --fail policies/

echo "policy: opa check --strict"
opa check --strict policies/rego policies/tests

echo "policy: opa test"
verbose=()
if [ "${POLICY_TEST_VERBOSE:-}" = "1" ]; then verbose=(-v); fi
opa test --fail-on-empty ${verbose[@]+"${verbose[@]}"} policies/rego policies/tests

echo "policy: coverage"
status=0
opa test --fail-on-empty --coverage --threshold "$threshold" policies/rego policies/tests \
  >"$tmp/coverage.json" 2>"$tmp/coverage.err" || status=$?
if [ "$status" -ne 0 ]; then
  cat "$tmp/coverage.err" >&2
  echo "policy: coverage below ${threshold}% or tests failed (exit $status)" >&2
  exit "$status"
fi
opa eval --stdin-input --format raw \
  'sprintf("coverage %.1f%% (threshold '"$threshold"'%%)", [input.coverage])' <"$tmp/coverage.json"

echo "policy: opa build -t wasm"
opa build -t wasm -e warden/decision policies/rego -o "$tmp/bundle.tar.gz"

echo "policy: ok"
