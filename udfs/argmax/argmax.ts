// argmax: the index and value of the largest score of each row of a
// float32 list, or of a float32 tensor row (all its elements, row-major).
//
// NaN scores are skipped; ties go to the lowest index. A null row, an
// empty row, or a row of NaNs only gives null in both outputs. Every input
// column passes through; "argmax" (int32) and "score" (float32) come last.
//
// Config (all optional): {"column": "scores", "output": "argmax", "score": "score"}
export * from "@wasinfer/sdk/exports";
import { Config, Input, Kind, Output, Status, fail, onInit, onTransform, setDescription } from "@wasinfer/sdk";

setDescription('{"name":"argmax","version":"1.0.0","language":"assemblyscript"}');

let columnName = "scores";
let outputName = "argmax";
let scoreName = "score";

function init(cfg: Config): Status {
  cfg.allowOnly(["column", "output", "score"]);
  const c = cfg.getString("column", "scores");
  const o = cfg.getString("output", "argmax");
  const s = cfg.getString("score", "score");
  if (!cfg.ok) return cfg.fail();
  if (c.length == 0 || o.length == 0 || s.length == 0) {
    return fail(Status.INVALID_CONFIG, "config: \"column\", \"output\" and \"score\" must not be empty");
  }
  if (o == s) return fail(Status.INVALID_CONFIG, "config: \"output\" and \"score\" must differ");
  columnName = c;
  outputName = o;
  scoreName = s;
  return Status.OK;
}

function transform(input: Input, output: Output): Status {
  const idx = input.columnIndex(columnName);
  if (idx < 0) return fail(Status.UNSUPPORTED_INPUT, "column \"" + columnName + "\": not in the input batch");
  const col = input.column(idx);
  const kind = col.info.kind;
  if (kind != Kind.LIST && kind != Kind.FIXED_SIZE_LIST) {
    return fail(Status.UNSUPPORTED_INPUT, "column \"" + columnName + "\": format \"" + col.format +
      "\"; want list<float32> or a float32 tensor");
  }
  const items = col.items();
  if (!items.formatIs("f")) {
    return fail(Status.UNSUPPORTED_INPUT, "column \"" + columnName + "\": items of format \"" + items.format +
      "\"; want float32");
  }
  output.passThroughAll();
  const n = input.length;
  const am = output.addColumn(outputName, "i");
  am.allocValues(true);
  const sc = output.addColumn(scoreName, "f");
  sc.allocValues(true);
  const base = items.values<f32>();
  for (let r = 0; r < n; r++) {
    let best = -1;
    let bestV: f32 = 0;
    if (col.isValid(r)) {
      const end = col.itemEnd(r);
      for (let j = col.itemStart(r); j < end; j++) {
        const v = load<f32>(base + (<usize>j << 2));
        if (v != v) continue; // NaN
        if (best < 0 || v > bestV) {
          best = j - col.itemStart(r);
          bestV = v;
        }
      }
    }
    if (best < 0) {
      am.setNull(r);
      sc.setNull(r);
    } else {
      am.set<i32>(r, best);
      sc.set<f32>(r, bestV);
    }
  }
  return Status.OK;
}

onInit(init);
onTransform(transform);
