#!/usr/bin/env bash
# fetch-cuda-ort.sh puts a CUDA build of ONNX Runtime into the per-user cache,
# for model stages on NVIDIA GPUs (device cuda / cuda:N). `make deps` does NOT
# run it: it is about 230 MB and useless without a GPU.
#
# What it fetches (npm packages, unpacked with tar: no npm install, no install
# scripts), pinned by version and sha256:
#   com.github.asus4.onnxruntime@0.4.9             Plugins/Linux/x64/libonnxruntime.so (ONNX Runtime 1.29.0)
#   com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
#                                                  Plugins/Linux/x64/libonnxruntime_providers_cuda.so (CUDA 13)
#                                                  Plugins/Linux/x64/libonnxruntime_providers_shared.so
#     -> ${XDG_CACHE_HOME:-$HOME/.cache}/wasinfer/onnxruntime-cuda/1.29.0/
#
# Then point wasinfer at it (the providers are found beside the library):
#   export WASINFER_ORT_LIB=${XDG_CACHE_HOME:-$HOME/.cache}/wasinfer/onnxruntime-cuda/1.29.0/libonnxruntime.so
#   (or: wasinfer run --ort-lib PATH ..., or gpu.WithLibrary(PATH))
# The CUDA provider loads CUDA 13 (libcudart.so.13, libcublas.so.13,
# libcublasLt.so.13, libcurand.so.10) and cuDNN 9 (libcudnn.so.9) at run time:
# they must be on the library path (LD_LIBRARY_PATH or ldconfig), e.g. from
# NVIDIA's CUDA 13 and cuDNN 9 packages, or the pip wheels nvidia-cuda-runtime,
# nvidia-cublas, nvidia-curand and nvidia-cudnn-cu13 (their lib/ directories).
#
# Usage: scripts/fetch-cuda-ort.sh [--check]
#   --check   fetch nothing: fail when a file is missing; print the export line.
set -euo pipefail

VERSION=0.4.9
ORT=1.29.0
DIR=${XDG_CACHE_HOME:-$HOME/.cache}/wasinfer/onnxruntime-cuda/$ORT
# package file sha256
FILES="com.github.asus4.onnxruntime libonnxruntime.so 5715f06d8992ca8eeeddcce43df3a7d38f97d537052126f558e912cb312460ca
com.github.asus4.onnxruntime.linux-x64-gpu libonnxruntime_providers_cuda.so 56cf3254b118ad837ccc4ed8f6d1b23504bbf7ef91b34cbc0b289cb7f10b3037
com.github.asus4.onnxruntime.linux-x64-gpu libonnxruntime_providers_shared.so c6a12593396095f5670160e284c35d1700b7708cf3037b7042e2a5200ccae772"

check_only=false
case "${1:-}" in
"") ;;
--check) check_only=true ;;
*)
	echo "usage: scripts/fetch-cuda-ort.sh [--check]" >&2
	exit 2
	;;
esac

say() { echo "fetch-cuda-ort: $*"; }
die() {
	echo "fetch-cuda-ort: error: $*" >&2
	exit 1
}
sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

declare -A tarball=()
while read -r pkg name sha; do
	dst=$DIR/$name
	sha_ok "$dst" "$sha" && continue
	$check_only && die "missing $dst
  fix: scripts/fetch-cuda-ort.sh"
	command -v npm >/dev/null 2>&1 || die "npm is not on PATH; install Node.js >= 20 with npm"
	if [ -z "${tarball[$pkg]:-}" ]; then
		say "fetching $pkg@$VERSION (npm pack)"
		out=$(cd "$tmp" && npm pack --ignore-scripts --silent "$pkg@$VERSION" 2>"$tmp/npm.log") ||
			die "npm pack $pkg@$VERSION failed:
$(cat "$tmp/npm.log")"
		tarball[$pkg]=$tmp/$(echo "$out" | tail -n 1)
	fi
	mkdir -p "$tmp/x/$pkg"
	tar -xzf "${tarball[$pkg]}" -C "$tmp/x/$pkg" "package/Plugins/Linux/x64/$name" ||
		die "extracting Plugins/Linux/x64/$name from $pkg@$VERSION"
	src=$tmp/x/$pkg/package/Plugins/Linux/x64/$name
	got=$(sha256sum "$src" | cut -d' ' -f1)
	[ "$got" = "$sha" ] || die "$name: sha256 $got, want $sha"
	mkdir -p "$DIR"
	cp "$src" "$dst.tmp.$$"
	mv -f "$dst.tmp.$$" "$dst"
done <<<"$FILES"

say "ok: ONNX Runtime $ORT with the CUDA execution provider in $DIR"
echo "export WASINFER_ORT_LIB=$DIR/libonnxruntime.so"
