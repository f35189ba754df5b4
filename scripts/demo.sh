#!/usr/bin/env bash
# The demo `make demo` runs after set-up (`make deps`: ONNX Runtime and the
# PaddleOCR models into the cache) and build (bin/wasinfer): batch OCR over
# the bundled sample images, examples/ocr/pipeline.yaml:
#
#   images → Wasm det_pre (C) → PaddleOCR v4 detector (ONNX Runtime)
#          → Wasm db_post (C: one row per text line) → Wasm crop (C)
#          → PaddleOCR v4 recognizer (ONNX Runtime) → Wasm CTC decode (Rust) → Parquet
#
# then a table of image → recognized text → truth, the character error rate
# (computed from the Parquet output against examples/ocr/data/truth.jsonl),
# and the run summary (per-stage utilization).
set -euo pipefail
cd "$(dirname "$0")/.."
# Where make deps put the models (the pipeline's default is ~/.cache).
export OCR_MODELS=${OCR_MODELS:-${XDG_CACHE_HOME:-$HOME/.cache}/wasinfer/models/ocr/1.4.2}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

n=$(wc -l < examples/ocr/data/truth.jsonl)
step "Batch OCR: $n images (examples/ocr/data), PaddleOCR v4 with Wasm pre- and post-processing"
bin/wasinfer run examples/ocr/pipeline.yaml --set "sink.path=$out/ocr" --progress-every 5s >"$out/summary.txt"

step "Recognized text vs truth (one row per image; all lines: go run ./examples/ocr/report OUT)"
go run ./examples/ocr/report -short "$out/ocr"

step "Run summary"
cat "$out/summary.txt"
# Images per second from the summary's wall time (a Go duration: 24.4s, 1m3.2s, 850ms).
awk -v n="$n" '/^wall / {
	d = $2; sub(/,$/, "", d); s = 0
	while (match(d, /^[0-9.]+(h|ms|m|s|µs)/)) {
		t = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
		v = t + 0; u = t; sub(/^[0-9.]+/, "", u)
		s += v * (u == "h" ? 3600 : u == "m" ? 60 : u == "s" ? 1 : u == "ms" ? 0.001 : 0.000001)
	}
	if (s > 0) printf "throughput: %d images in %.1f s = %.2f images/s (2 cores here are shared: see examples/ocr/README.md)\n", n, s, n / s
}' "$out/summary.txt"
