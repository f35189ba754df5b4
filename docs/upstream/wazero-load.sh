#!/usr/bin/env bash
# Measures what docs/upstream/wazero-validate-on-miss.patch would give the
# warm-cache Load of the Go identity guest (issue: Load < 50 ms): builds
# the host's test binary against the wazero version in go.mod as it is
# and with the patch applied (a copy of the module outside the checkout,
# used through -modfile; go.mod is not touched), then runs
# BenchmarkLoad/cache=warm with each, alternating, ROUNDS times.
#
#   bash docs/upstream/wazero-load.sh        # ROUNDS=4 by default
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${ROUNDS:-4}
ver=$(go list -m -f '{{.Version}}' github.com/tetratelabs/wazero)
go mod download github.com/tetratelabs/wazero
src=$(go list -m -f '{{.Dir}}' github.com/tetratelabs/wazero)
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
cp -r "$src" "$work/wazero" && chmod -R u+w "$work/wazero"
patch -s -d "$work/wazero" -p1 < docs/upstream/wazero-validate-on-miss.patch
cp go.mod "$work/go.mod" && cp go.sum "$work/go.sum"
echo "replace github.com/tetratelabs/wazero => $work/wazero" >> "$work/go.mod"
go test -c -o "$work/upstream.test" ./host/
go test -modfile="$work/go.mod" -c -o "$work/patched.test" ./host/
echo "wazero $ver; BenchmarkLoad/cache=warm, -benchtime 20x, ms per Load"
cd host
for _ in $(seq "$rounds"); do
  for v in upstream patched; do
    ms=$("$work/$v.test" -test.run '^$' -test.bench 'Load/cache=warm$' -test.benchtime 20x | awk '/cache=warm-/ {print $3/1e6}')
    echo "$v $ms"
  done
done
