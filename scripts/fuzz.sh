#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target (func FuzzXxx) of the given Go modules for
# a fixed time each, one after the other. `make fuzz` runs it.
#
# Usage: scripts/fuzz.sh [FUZZTIME [MODULE_DIR...]]
#   FUZZTIME     any value go test -fuzztime takes (default 10s)
#   MODULE_DIR   a directory holding a go.mod (default: the root module, .)
#
# Targets are discovered with `go test -list`, so a new FuzzXxx runs without
# being registered anywhere. Finding no target at all is an error: a fuzz run
# that fuzzes nothing must not pass. A crasher is written by go test under the
# package's testdata/fuzz/FuzzXxx/; commit it as a regression case.
set -euo pipefail

cd "$(dirname "$0")/.."
fuzztime=${1:-10s}
shift || true
[ $# -gt 0 ] || set -- .

# Each entry: "module-dir package FuzzName".
targets=()
for mod in "$@"; do
	# `go test -list` prints each package's matching names, then a line
	# "ok <package> <time>"; pair each name with the package that follows it.
	listing=$(cd "$mod" && go test -list '^Fuzz' ./...)
	mapfile -t found < <(awk -v mod="$mod" '
		/^Fuzz/ { names[n++] = $1; next }
		/^ok[ \t]/ { for (i = 0; i < n; i++) print mod, $2, names[i]; n = 0 }
	' <<<"$listing")
	targets+=("${found[@]}")
done

if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no Fuzz targets found in: $*" >&2
	exit 1
fi

for t in "${targets[@]}"; do
	read -r mod pkg name <<<"$t"
	echo "fuzz: $pkg $name for $fuzztime"
	(cd "$mod" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg")
done
echo "fuzz: ${#targets[@]} targets, $fuzztime each: no failure"
