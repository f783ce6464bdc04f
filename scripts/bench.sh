#!/usr/bin/env bash
# Benchmarks. Each prints its figures beside a baseline measured in the same run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npm run --silent build
if ! command -v pgbouncer >/dev/null 2>&1 && [ -x /usr/sbin/pgbouncer ]; then PATH="$PATH:/usr/sbin"; fi
if ! command -v pgbouncer >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
    PATH="$PATH:/usr/sbin"
  else
    echo "bench: pgbouncer is needed for the PostgreSQL baseline: apt-get install pgbouncer" >&2
    exit 1
  fi
fi
echo "== SQL analysis (libpg-query parse and fingerprint alone as the baseline)"
node --import tsx bench/sql-analysis.bench.ts
echo
echo "== identity and session records"
node --import tsx bench/identity.bench.ts
node --import tsx bench/recording.bench.ts
echo
echo "== policy decisions"
node --import tsx bench/policy-decision.bench.ts
echo
echo "== PostgreSQL endpoint"
node --import tsx bench/postgres.bench.ts
