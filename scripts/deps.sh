#!/usr/bin/env bash
# deps.sh sets up the tools wasinfer's build and tests need on Debian 12, and
# proves they work. `make deps` runs it; `make test` runs it first.
#
# Idempotent: every tool is checked first, and only the apt packages of missing
# tools are installed (apt-get update runs only then). Nothing is skipped: when a
# tool is still missing, or cannot build a WebAssembly module, it fails and says
# which command fixes it.
#
# Usage: scripts/deps.sh [--check]
#   --check   install nothing: report what is missing, with the fixing command.
# Environment:
#   RUSTC     the Rust compiler (default /usr/bin/rustc: Debian's, whose
#             wasm32-wasi standard library comes from apt; a rustup toolchain
#             usually has no wasm32-wasi target).
set -euo pipefail

cd "$(dirname "$0")/.."

RUSTC=${RUSTC:-/usr/bin/rustc}
NODE_MAJOR_MIN=20 # assemblyscript 0.28 (sdk/assemblyscript) declares node >= 20, npm >= 10
NPM_MAJOR_MIN=10

check_only=false
case "${1:-}" in
"") ;;
--check) check_only=true ;;
*)
	echo "usage: scripts/deps.sh [--check]" >&2
	exit 2
	;;
esac

say() { echo "deps: $*"; }
die() {
	echo "deps: error: $*" >&2
	exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# apt_missing prints, one per line, the apt package of every missing tool.
# Binaries are looked up on PATH (Debian's rustc at $RUSTC); libraries at the
# paths Debian installs them. It runs in a subshell: it reports, never dies.
apt_missing() {
	have clang-14 || echo clang-14
	have wasm-ld-14 || echo lld-14
	[ -f /usr/lib/wasm32-wasi/libc.a ] && [ -f /usr/include/wasm32-wasi/stdio.h ] || echo wasi-libc
	compgen -G '/usr/lib/llvm-14/lib/clang/14*/lib/wasi/libclang_rt.builtins-wasm32.a' >/dev/null ||
		echo libclang-rt-14-dev-wasm32
	if [ "$RUSTC" = /usr/bin/rustc ]; then
		[ -x /usr/bin/rustc ] || echo rustc
		compgen -G '/usr/lib/rustlib/wasm32-wasi/lib/libstd-*.rlib' >/dev/null || echo libstd-rust-dev-wasm32
	fi
	have wat2wasm && have wasm-objdump && have wasm-validate || echo wabt
	have git || echo git
	have make || echo make
}

# apt_install installs the given packages non-interactively, as root or
# through sudo; without either it fails with the command to run.
apt_install() {
	local fix="apt-get update && apt-get install -y --no-install-recommends $*"
	if $check_only; then
		die "missing apt packages: $*
  fix (as root): $fix"
	fi
	have apt-get || die "missing: $*, and apt-get is not available (not Debian?): install the equivalent packages"
	local -a sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		have sudo || die "missing apt packages: $*
  not root and sudo is not available: as root, run
  $fix"
		sudo=(sudo)
		[ -t 0 ] || sudo=(sudo -n) # never hang on a password prompt without a terminal
	fi
	say "installing: $*"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
		die "apt-get update failed; fix it, then run: $fix"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" ||
		die "apt-get install failed; run: $fix"
}

# check_go: Go is not in Debian 12 at the version go.mod needs, so it is never
# installed here.
check_go() {
	have go || die "go is not on PATH: install Go (the version in go.mod's go line) from the Go distribution and add its bin/ to PATH"
}

# check_node: Debian 12's nodejs is 18, too old for assemblyscript, so Node is
# never installed here either.
check_node() {
	local fix="install Node.js >= $NODE_MAJOR_MIN with npm >= $NPM_MAJOR_MIN (Debian 12's nodejs package is 18: use NodeSource's Debian packages or the official binaries)"
	have node || die "node is not on PATH: $fix"
	have npm || die "npm is not on PATH: $fix"
	local nv mv
	nv=$(node --version) && mv=$(npm --version) || die "node or npm does not run: $fix"
	nv=${nv#v}
	[ "${nv%%.*}" -ge "$NODE_MAJOR_MIN" ] || die "node $nv is too old: $fix"
	[ "${mv%%.*}" -ge "$NPM_MAJOR_MIN" ] || die "npm $mv is too old: $fix"
}

# npm_install installs the locked npm dev dependencies of every package in
# the tree (sdk/assemblyscript) unless they already are: `npm ci`, no install
# scripts, exactly the versions in package-lock.json.
npm_install() {
	local lock dir
	while IFS= read -r lock; do
		dir=$(dirname "$lock")
		if [ -d "$dir/node_modules" ] && (cd "$dir" && npm ls --all >/dev/null 2>&1); then
			continue
		fi
		if $check_only; then
			die "npm packages of $dir are not installed
  fix: (cd $dir && npm ci --ignore-scripts)"
		fi
		say "npm ci in $dir"
		(cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund) ||
			die "npm ci failed in $dir; run: (cd $dir && npm ci --ignore-scripts)"
	done < <(find . -name node_modules -prune -o -name .git -prune -o -name package-lock.json -print | sort)
}

# smoke builds one tiny module per toolchain, the way the SDKs do, and
# validates it: a tool that is present but cannot build WebAssembly fails here,
# not halfway through `make udfs`.
smoke() {
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT

	cat >"$tmp/c.c" <<'EOF'
#include <stdlib.h>
#include <string.h>
__attribute__((export_name("f"))) int f(int n) {
	char *p = malloc((size_t)n + 1);
	if (!p) return -1;
	memset(p, 'x', (size_t)n);
	p[n] = 0;
	int l = (int)strlen(p);
	free(p);
	return l;
}
EOF
	clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -o "$tmp/c.wasm" "$tmp/c.c" >"$tmp/c.log" 2>&1 &&
		wasm-validate "$tmp/c.wasm" >>"$tmp/c.log" 2>&1 ||
		die "clang-14 cannot build a wasm32-wasi module:
$(cat "$tmp/c.log")
  fix (as root): apt-get install -y --reinstall clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32"

	cat >"$tmp/r.rs" <<'EOF'
#[no_mangle]
pub extern "C" fn f(n: i32) -> i32 {
    vec![1u8; n as usize].len() as i32
}
EOF
	"$RUSTC" --edition 2021 --target wasm32-wasi --crate-type cdylib -O -o "$tmp/r.wasm" "$tmp/r.rs" >"$tmp/r.log" 2>&1 &&
		wasm-validate "$tmp/r.wasm" >>"$tmp/r.log" 2>&1 ||
		die "$RUSTC cannot build a wasm32-wasi module:
$(cat "$tmp/r.log")
  fix: unset RUSTC to use Debian's /usr/bin/rustc, and (as root)
  apt-get install -y --reinstall rustc libstd-rust-dev-wasm32"

	echo '(module (func (export "f") (result i32) i32.const 1))' >"$tmp/t.wat"
	wat2wasm -o "$tmp/t.wasm" "$tmp/t.wat" >"$tmp/t.log" 2>&1 ||
		die "wat2wasm does not work:
$(cat "$tmp/t.log")
  fix (as root): apt-get install -y --reinstall wabt"
}

# --- ONNX Runtime shared library and models (gpu/) ---------------------------
# fetch_onnxruntime puts libonnxruntime.so.1 (npm pack onnxruntime-node, no
# install scripts, sha256-pinned) and the OCR models into the per-user cache
# where gpu/ looks, when they are not there yet: scripts/fetch-models.sh.
fetch_onnxruntime() {
	if $check_only; then
		bash scripts/fetch-models.sh --check
	else
		bash scripts/fetch-models.sh
	fi
	ensure_locale
}

# ensure_locale: ONNX Runtime's StringNormalizer (onnxruntime_go's
# example_strings.onnx, a gpu/ test) needs the en_US.UTF-8 locale, which a
# fresh Debian has the data for (package locales) but not compiled.
ensure_locale() {
	locale -a 2>/dev/null | grep -qix 'en_US.utf-\?8' && return 0
	local fix="localedef -i en_US -f UTF-8 en_US.UTF-8"
	if $check_only || [ "$(id -u)" -ne 0 ]; then
		die "the en_US.UTF-8 locale is missing (ONNX Runtime string models need it)
  fix (as root): $fix   (Debian package: locales)"
	fi
	[ -f /usr/share/i18n/locales/en_US ] || apt_install locales
	say "compiling the en_US.UTF-8 locale"
	localedef -i en_US -f UTF-8 en_US.UTF-8 || die "localedef failed; run (as root): $fix"
}
# -----------------------------------------------------------------------------

version_of() { grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n 1; }

main() {
	if [ "$RUSTC" != /usr/bin/rustc ]; then
		# Not apt's to fix: the smoke test below proves it has a wasm32-wasi std.
		[ -x "$RUSTC" ] || die "RUSTC=$RUSTC is not an executable file (unset RUSTC to use Debian's /usr/bin/rustc)"
	fi
	check_go
	check_node

	local -a missing
	mapfile -t missing < <(apt_missing)
	if [ ${#missing[@]} -gt 0 ]; then
		apt_install "${missing[@]}"
		mapfile -t missing < <(apt_missing)
		[ ${#missing[@]} -eq 0 ] ||
			die "still missing after apt-get install: ${missing[*]} (are the tools on PATH? PATH=$PATH)"
	fi

	npm_install
	fetch_onnxruntime
	smoke

	local wasi
	wasi=$(dpkg-query -W -f='${Version}' wasi-libc 2>/dev/null || echo present)
	say "ok: $(go env GOVERSION), clang-14 $(clang-14 --version | version_of), wasm-ld-14 $(wasm-ld-14 --version | version_of)," \
		"wasi-libc $wasi, rustc $("$RUSTC" --version | version_of) (wasm32-wasi std), wabt $(wat2wasm --version | version_of)," \
		"node $(node --version), npm $(npm --version)"
}

main
