#!/usr/bin/env python3
"""The seed's plain-Python batch-inference loop, the peer of wasinfer_vs_python.

Reads a Parquet file of digits (pixels: tensor<uint8>[8, 8, 1] stored as
fixed_size_list<uint8>[64], label: int64) batch by batch, preprocesses each
batch in numpy (pixels / 16 as float32 [N, 1, 8, 8]), runs the digits CNN in
ONNX Runtime (the same model and intra-op thread count as wasinfer's model
stage), takes the argmax in numpy, and writes label, logits, prediction and
its logit to a Parquet file. It prints one JSON line:

    {"rows": N, "seconds": S, "onnxruntime": "1.x", "numpy": "...", "pyarrow": "..."}

where seconds is the loop alone (read, preprocess, infer, postprocess,
write), not the interpreter's start-up or the imports. wasinfer's side of
the comparison likewise times pipeline.Run with the stages loaded.

Needs python3 with onnxruntime, numpy and pyarrow:

    python3 internal/bench/testdata/python_baseline.py --input digits.parquet \
        --model examples/digits/train/digits.onnx --output out.parquet
"""

import argparse
import json
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", required=True, help="Parquet file: pixels, label")
    ap.add_argument("--model", required=True, help="the digits ONNX model")
    ap.add_argument("--output", required=True, help="Parquet file to write")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    args = ap.parse_args()

    import numpy as np
    import onnxruntime as ort
    import pyarrow as pa
    import pyarrow.parquet as pq

    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0].name

    start = time.perf_counter()
    rows = 0
    src = pq.ParquetFile(args.input)
    writer = None
    for batch in src.iter_batches(batch_size=args.batch_size, columns=["pixels", "label"]):
        col = batch.column(batch.schema.get_field_index("pixels"))
        if isinstance(col, pa.ExtensionArray):  # arrow.fixed_shape_tensor
            col = col.storage
        pixels = col.flatten().to_numpy(zero_copy_only=False)
        x = (pixels.reshape(-1, 1, 8, 8).astype(np.float32)) / np.float32(16)
        logits = sess.run(None, {inp: x})[0]
        pred = logits.argmax(axis=1).astype(np.int32)
        score = logits[np.arange(len(pred)), pred].astype(np.float32)
        out = pa.record_batch(
            [
                batch.column(batch.schema.get_field_index("label")),
                pa.FixedSizeListArray.from_arrays(pa.array(logits.reshape(-1)), 10),
                pa.array(pred),
                pa.array(score),
            ],
            names=["label", "logits", "prediction", "logit"],
        )
        if writer is None:
            writer = pq.ParquetWriter(args.output, out.schema, compression="snappy")
        writer.write_batch(out)
        rows += batch.num_rows
    if writer is not None:
        writer.close()
    seconds = time.perf_counter() - start
    json.dump(
        {"rows": rows, "seconds": seconds, "onnxruntime": ort.__version__, "numpy": np.__version__, "pyarrow": pa.__version__},
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
