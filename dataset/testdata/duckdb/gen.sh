#!/usr/bin/env bash
# Regenerates the DuckDB-written Parquet files in this directory. Installs
# @duckdb/node-api (npm) into a temporary directory; needs node and npm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm init -y >/dev/null && npm install --no-audit --no-fund @duckdb/node-api@1.5.6-r.1 >/dev/null)
cp "$here/gen.mjs" "$tmp/gen.mjs"
# ESM resolves @duckdb/node-api from the script's directory, $tmp.
(cd "$here" && node "$tmp/gen.mjs")
ls -l "$here"/*.parquet
