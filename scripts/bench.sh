#!/usr/bin/env bash
# Benchmarks. Each prints its figures beside a baseline measured in the same run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
node --import tsx bench/policy-decision.bench.ts
