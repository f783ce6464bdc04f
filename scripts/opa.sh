#!/usr/bin/env bash
# Runs the pinned OPA CLI with the given arguments.
# Uses an `opa` on PATH or in Go's bin directory when its version matches
# .opa-version; otherwise builds that version with `go install`.
# `scripts/opa.sh --path` prints the binary's path instead of running it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
want=$(tr -d '[:space:]' < "$root/.opa-version")

version_of() { "$1" version 2>/dev/null | awk '/^Version:/ {print $2; exit}'; }

candidates=()
if command -v opa >/dev/null 2>&1; then candidates+=("$(command -v opa)"); fi
if command -v go >/dev/null 2>&1; then
  gobin=$(go env GOBIN); [ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
  candidates+=("$gobin/opa")
fi

opa=""
for c in "${candidates[@]}"; do
  if [ -x "$c" ] && [ "$(version_of "$c")" = "$want" ]; then opa="$c"; break; fi
done

if [ -z "$opa" ]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "warden: OPA $want is needed: install Go (https://go.dev/dl) so it can be built, or put opa $want on PATH (https://www.openpolicyagent.org/docs/latest/#1-download-opa)" >&2
    exit 127
  fi
  echo "warden: building OPA $want with go install (once; takes a few minutes)" >&2
  CGO_ENABLED=0 go install "github.com/open-policy-agent/opa@v$want" >&2
  opa="$gobin/opa"
fi

if [ "${1:-}" = "--path" ]; then echo "$opa"; exit 0; fi
exec "$opa" "$@"
