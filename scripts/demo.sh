#!/usr/bin/env bash
# The demo `make demo` runs after set-up and build: real UDFs, written in four
# languages, over the bundled sample data.
set -euo pipefail
cd "$(dirname "$0")/.."
w=bin/wasinfer
data=examples/quickstart
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "A UDF module: what it exports and imports (admission checks included)"
$w udf inspect sdk/c/examples/normalize/normalize.wasm

step "Normalize 8 images (uint8 HWC -> float32 CHW) with the C UDF"
$w udf test sdk/c/examples/normalize/normalize.wasm --input $data/images.arrow --rows 8

step "Filter a Parquet table with a UDF that changes the row count (value > 90)"
$w udf test sdk/c/examples/filter/filter.wasm --input $data/readings.parquet --config '{"column":"value","min":90}' --rows 8

step "The same normalize UDF written in C, Rust, Go and AssemblyScript: identical output"
for lang in c rust go assemblyscript; do
	$w udf test sdk/$lang/examples/normalize/normalize.wasm --input $data/images.arrow \
		--config '{"mean":[0.5],"std":[0.25]}' --output "$out/$lang.arrow" 2>/dev/null
	$w udf test sdk/c/examples/identity/identity.wasm --input "$out/$lang.arrow" --rows 1000 2>/dev/null |
		sha256sum | awk -v l="$lang" '{printf "  %-15s tensor table sha256 %s\n", l, $1}'
done

step "A hostile module is refused before it runs"
$w udf inspect host/testdata/guests/sock_import.wasm 2>&1 | tail -1 || true
