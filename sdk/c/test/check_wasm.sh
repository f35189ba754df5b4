#!/bin/sh
# check_wasm.sh FILE.wasm: checks a UDF module's imports and exports against
# abi/spec.md sections 2 and 7, using wasm-objdump (Debian package wabt):
#   - imports only from wasi_snapshot_preview1, and no sock_* function;
#   - exports memory and every required wasinfer_* name, and _initialize;
#   - no _start (a WASI command is refused by the host);
#   - no imported memory.
set -eu
wasm=$1
objdump=${WASM_OBJDUMP:-wasm-objdump}
dump=$("$objdump" -x "$wasm") || { echo "$wasm: wasm-objdump failed" >&2; exit 1; }
fail=0
err() { echo "$wasm: $*" >&2; fail=1; }

# Import lines: " - func[0] sig=1 <name> <- module.field"; memory imports "- memory[0] ... <- m.f".
imports=$(printf '%s\n' "$dump" | sed -n '/^Import\[/,/^[A-Z][a-z]*\[/p' | grep ' <- ' || true)
printf '%s\n' "$imports" | while IFS= read -r line; do
	[ -n "$line" ] || continue
	ref=${line##* <- }
	mod=${ref%%.*}
	field=${ref#*.}
	case "$line" in *" - memory["*) echo "$wasm: imports its memory ($ref)" >&2; exit 1 ;; esac
	[ "$mod" = wasi_snapshot_preview1 ] || { echo "$wasm: import $ref is not from wasi_snapshot_preview1" >&2; exit 1; }
	case "$field" in sock_*) echo "$wasm: import $ref: sock_* functions are not allowed" >&2; exit 1 ;; esac
done || fail=1

exports=$(printf '%s\n' "$dump" | sed -n 's/^ - .* -> "\(.*\)"$/\1/p')
has() { printf '%s\n' "$exports" | grep -qx "$1"; }
for name in memory wasinfer_abi_v1 wasinfer_alloc wasinfer_free wasinfer_transform \
	wasinfer_release wasinfer_last_error _initialize; do
	has "$name" || err "missing export $name"
done
has _start && err "exports _start: build it as a reactor (-mexec-model=reactor)"
for v in $(printf '%s\n' "$exports" | grep '^wasinfer_abi_v' || true); do
	[ "$v" = wasinfer_abi_v1 ] || err "exports $v: this SDK targets ABI v1 only"
done
[ $fail -eq 0 ] || exit 1
n=$(printf '%s\n' "$imports" | grep -c ' <- ' || true)
echo "ok $wasm: $n wasi imports; exports $(printf '%s\n' "$exports" | grep -E '^wasinfer_(init|describe)$' | tr '\n' ' ')"
