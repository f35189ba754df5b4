// __NAME__: a wasinfer UDF (ABI v1) written with the AssemblyScript SDK,
// whose sources are in ../wasinfer-sdk.
//
// It appends the float64 column "<column>_out" = <column> * factor to every
// batch; the input columns pass through without a copy. A null stays null.
//
// Configuration (a JSON object; every key is optional):
//   column  the int64 or float64 column to scale (default "value")
//   factor  the number to multiply by (default 2)
//
// Errors, as the host reports them:
//   INVALID_CONFIG     an unknown key, or a key of the wrong type
//   UNSUPPORTED_INPUT  the column is missing or not int64/float64, or the
//                      output column is already in the input
//   ERROR              a product that is not finite, naming column and row
//
// Build: make (or wasinfer udf build). Test: make test.

// The ABI's wasm exports, and nothing else: never `export *` from the SDK's
// index, which would export every SDK class to the host.
export * from "../wasinfer-sdk/exports";
import { Config, Input, Output, Status, fail, onInit, onTransform, rowError, setDescription } from "../wasinfer-sdk/index";

let column = "value";
let output = "value_out";
let factor: f64 = 2;

function init(cfg: Config): Status {
  cfg.allowOnly(["column", "factor"]);
  const c = cfg.getString("column", "value");
  const f = cfg.getNumber("factor", 2);
  if (!cfg.ok) return cfg.fail();
  if (c.length == 0) return fail(Status.INVALID_CONFIG, "config: \"column\" must not be empty");
  column = c;
  output = c + "_out";
  factor = f;
  return Status.OK;
}

function transform(input: Input, out: Output): Status {
  const col = input.columnByName(column);
  if (col === null) {
    const names = input.columnNames();
    for (let i = 0; i < names.length; i++) names[i] = "\"" + names[i] + "\"";
    return fail(Status.UNSUPPORTED_INPUT, "column \"" + column + "\": not found in the input (columns: " +
      (names.length > 0 ? names.join(", ") : "none") + ")");
  }
  if (input.columnIndex(output) >= 0) {
    return fail(Status.UNSUPPORTED_INPUT, "column \"" + output + "\": already in the input");
  }
  const isInt = col.formatIs("l");
  if ((!isInt && !col.formatIs("g")) || col.dictionary() !== null) {
    return fail(Status.UNSUPPORTED_INPUT, "column \"" + column + "\": want int64 or float64, got format \"" + col.format + "\"");
  }

  out.passThroughAll().keepSchemaMetadata(); // aliased: nothing is copied
  const y = out.addColumn(output, "g");      // nullable float64, input.length rows
  y.allocValues();
  for (let i = 0; i < input.length; i++) {
    if (col.isNull(i)) {
      y.set<f64>(i, 0);
      y.setNull(i);
      continue;
    }
    const v = (isInt ? <f64>col.get<i64>(i) : col.get<f64>(i)) * factor;
    if (!isFinite(v)) return rowError(column, i, "value * factor is not finite");
    y.set<f64>(i, v);
  }
  return Status.OK;
}

onInit(init);
onTransform(transform);
setDescription("{\"name\":\"__NAME__\",\"version\":\"0.1.0\",\"language\":\"assemblyscript\"," +
  "\"description\":\"appends <column>_out = <column> * factor (float64)\"}");
