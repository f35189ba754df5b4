#!/usr/bin/env bash
# run.sh runs the OCR example with bin/wasinfer: it writes
# examples/ocr/pipeline.local.yaml, which is pipeline.yaml with the model
# cache's paths and character dictionary filled in (a module has no file
# system, so the dictionary travels as the ctc stage's configuration), and
# runs it. Arguments go to `wasinfer run` (or, with --command CMD first, to
# `wasinfer CMD`: validate, peek).
#
#   examples/ocr/run.sh                                  # writes examples/ocr/out/
#   examples/ocr/run.sh --set sink.path=/tmp/ocr --json
#   examples/ocr/run.sh --command peek --rows 1 --after db_post
#
# The dictionary is not passed with --set: ONNX Runtime 1.30 overflows its
# stack on a command line argument of about 30 KB (the dictionary is 40 KB).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
wasinfer=${WASINFER:-$root/bin/wasinfer}
models=${XDG_CACHE_HOME:-$HOME/.cache}/wasinfer/models/ocr/1.4.2
cmd=run
if [ "${1:-}" = --command ]; then
	cmd=$2
	shift 2
fi
for f in ch_PP-OCRv4_det_infer.onnx ch_PP-OCRv4_rec_infer.onnx ppocr_keys_v1.txt; do
	[ -f "$models/$f" ] || { echo "run.sh: $models/$f is missing: run make deps" >&2; exit 1; }
done
[ -x "$wasinfer" ] || { echo "run.sh: $wasinfer is missing: run make build" >&2; exit 1; }

# The ctc stage's config line gets the dictionary: each line of
# ppocr_keys_v1.txt, in order, as a single-quoted YAML string (no escapes
# but '' for a quote), then " ": PaddleOCR's last class is the space.
awk -v marker='config: {column: probs}' -v q="'" '
	FNR == NR {
		gsub(q, q q)
		d = d (FNR > 1 ? ", " : "") q $0 q
		next
	}
	index($0, marker) {
		i = index($0, marker)
		print substr($0, 1, i - 1) "config: {column: probs, dictionary: [" d ", " q " " q "]}"
		found = 1
		next
	}
	{ print }
	END { if (!found) { print "run.sh: pipeline.yaml has no line with " marker > "/dev/stderr"; exit 1 } }
' "$models/ppocr_keys_v1.txt" "$here/pipeline.yaml" >"$here/pipeline.local.yaml.tmp"
mv -f "$here/pipeline.local.yaml.tmp" "$here/pipeline.local.yaml"

exec "$wasinfer" "$cmd" "$here/pipeline.local.yaml" \
	--set "det.model=$models/ch_PP-OCRv4_det_infer.onnx" \
	--set "rec.model=$models/ch_PP-OCRv4_rec_infer.onnx" "$@"
