#!/usr/bin/env bash
# full.sh runs the whole reliability suite (`make reliability`): the tests
# of ./reliability/ in their full form (WASINFER_RELIABILITY=full), then
# every Go fuzz target of the repository for FUZZTIME each (scripts/fuzz.sh),
# and writes the figures under .cache/reliability/:
#
#   results-full.json, results-full.md   the tests' figures (TestMain writes them)
#   full.log                             the tests' output (go test -v)
#   fuzz.log, fuzz.md                    the fuzzing output and its summary
#
# Usage: reliability/full.sh [FUZZTIME [MODULE_DIR...]]   (default 30s, . )
# RELIABILITY_SKIP_TESTS=1 runs the fuzzing alone.
set -uo pipefail

cd "$(dirname "$0")/.."
fuzztime=${1:-30s}
shift || true
[ $# -gt 0 ] || set -- .
out=.cache/reliability
mkdir -p "$out"

tests=0
if [ -z "${RELIABILITY_SKIP_TESTS:-}" ]; then
echo "reliability: full test suite (log: $out/full.log)"
WASINFER_RELIABILITY=full CGO_ENABLED=1 go test -count=1 -timeout 90m -v ./reliability/ 2>&1 | tee "$out/full.log" | grep -E '^(--- FAIL|FAIL|ok|PASS)|: (runaway|memory|hostile|capabilities|faults|hostile data): '
st=("${PIPESTATUS[@]}")
tests=${st[0]}
fi

echo "reliability: every fuzz target for $fuzztime (log: $out/fuzz.log)"
start=$(date +%s)
bash scripts/fuzz.sh "$fuzztime" "$@" 2>&1 | tee "$out/fuzz.log" | grep -E '^fuzz: [^e]|--- FAIL|^FAIL'
st=("${PIPESTATUS[@]}")
fuzz=${st[0]}
wall=$(( $(date +%s) - start ))

# One row per target: the package, the name, the executions of its last
# progress line, and whether it failed.
{
	echo "# wasinfer fuzzing ($fuzztime per target, $(nproc) CPUs, $(go env GOVERSION))"
	echo
	echo "| package | target | execs | result |"
	echo "| --- | --- | --- | --- |"
	awk '
		/^fuzz: [^ ]+ Fuzz[^ ]* for / { if (name != "") print pkg, name, execs, res; pkg = $2; name = $3; execs = 0; res = "ok"; next }
		/execs: [0-9]+/ { for (i = 1; i <= NF; i++) if ($i == "execs:") { e = $(i+1); gsub(/[^0-9]/, "", e); execs = e } }
		/^--- FAIL|^FAIL|Failing input written to/ { res = "FAILED" }
		END { if (name != "") print pkg, name, execs, res }
	' "$out/fuzz.log" | while read -r pkg name execs res; do echo "| $pkg | $name | $execs | $res |"; done
	targets=$(grep -c '^fuzz: [^ ]* Fuzz[^ ]* for ' "$out/fuzz.log" || true)
	total=$(awk '/execs: [0-9]+/ { for (i = 1; i <= NF; i++) if ($i == "execs:") { e = $(i+1); gsub(/[^0-9]/, "", e); last = e } } /^fuzz: [^ ]+ Fuzz[^ ]* for / { sum += last; last = 0 } END { print sum + last }' "$out/fuzz.log")
	new=$(git status --porcelain -- '*/testdata/fuzz/*' | wc -l)
	echo
	echo "$targets targets, $fuzztime each, ${wall}s of fuzzing in all, $total executions; exit status $fuzz; $new new files under testdata/fuzz (crashers: commit each as a regression case)."
} > "$out/fuzz.md"
tail -1 "$out/fuzz.md"

[ "$tests" -eq 0 ] && [ "$fuzz" -eq 0 ]
