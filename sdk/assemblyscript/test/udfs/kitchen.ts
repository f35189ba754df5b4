// Test-only UDF (built by `make native-test` into test/build/, not committed):
// exercises the SDK's reader and builder APIs; the mode comes from config.
export * from "@wasinfer/sdk/exports";
import {
  Column, Config, Input, Output, Status, JsonParser, Kind,
  fail, rowError, log, onInit, onTransform,
} from "@wasinfer/sdk";

let mode = "strings";

function init(cfg: Config): Status {
  cfg.allowOnly(["mode"]);
  mode = cfg.getString("mode", "strings");
  return cfg.ok ? Status.OK : cfg.fail();
}

function need(input: Input, name: string): Column {
  const c = input.columnByName(name);
  if (c === null) throw new Error("missing column " + name);
  return c;
}

// "strings": upper(s) utf8, len(s) int32, a_valid bool, a_plus_one int64 (null where a is null).
function strings(input: Input, output: Output): Status {
  const s = need(input, "s");
  const a = need(input, "a");
  const n = input.length;
  const up = output.addColumn("upper", "u");
  const len = output.addColumn("len", "i", false);
  len.allocValues();
  const valid = output.addColumn("a_valid", "b", false);
  valid.allocValues(true);
  const plus = output.addColumn("a_plus_one", "l");
  plus.allocValues(true);
  for (let i = 0; i < n; i++) {
    if (s.isNull(i)) up.appendNull();
    else up.appendString(s.getString(i).toUpperCase());
    len.set<i32>(i, s.bytesLength(i));
    valid.setBool(i, a.isValid(i));
    if (a.isNull(i)) plus.setNull(i);
    else plus.set<i64>(i, <i64>a.get<i32>(i) + 1);
  }
  return Status.OK;
}

// "filter": keeps rows where a is valid and > 0; copies a and s.
function filter(input: Input, output: Output): Status {
  const a = need(input, "a");
  const s = need(input, "s");
  let keep = 0;
  for (let i = 0; i < input.length; i++) if (a.isValid(i) && a.get<i32>(i) > 0) keep++;
  output.setLength(keep);
  const oa = output.addColumn("a", "i", false);
  oa.allocValues();
  const os = output.addColumn("s", "U");
  let j = 0;
  for (let i = 0; i < input.length; i++) {
    if (!(a.isValid(i) && a.get<i32>(i) > 0)) continue;
    oa.set<i32>(j++, a.get<i32>(i));
    if (s.isNull(i)) os.appendNull();
    else os.appendBytes(s.bytesPtr(i), <usize>s.bytesLength(i));
  }
  return Status.OK;
}

// "struct": reads struct column st (fields x, y) and list column l (+l of i32),
// outputs struct "pair" {sum: i32 = x + y, l_sum: i64 = sum of l}, with schema metadata.
function structs(input: Input, output: Output): Status {
  const st = need(input, "st");
  const x = st.childByName("x");
  const y = st.childByName("y");
  if (x === null || y === null) return fail(Status.UNSUPPORTED_INPUT, "column \"st\": needs fields x and y");
  const l = need(input, "l");
  if (l.info.kind != Kind.LIST) return fail(Status.UNSUPPORTED_INPUT, "column \"l\": not a list");
  const items = l.items();
  const pair = output.addColumn("pair", "+s");
  pair.setMetadata("k", "v");
  const sum = pair.addChild("sum", "i", true);
  sum.allocValues();
  const lsum = pair.addChild("l_sum", "l", false);
  lsum.allocValues();
  for (let i = 0; i < input.length; i++) {
    if (st.isNull(i)) pair.setNull(i);
    if (x.isNull(i) || y.isNull(i)) sum.setNull(i);
    else sum.set<i32>(i, x.get<i32>(i) + y.get<i32>(i));
    let t: i64 = 0;
    for (let k = l.itemStart(i); k < l.itemEnd(i); k++) {
      if (items.isNull(k)) return rowError(l.path, i, "null item at " + k.toString());
      t += <i64>items.get<i32>(k);
    }
    lsum.set<i64>(i, t);
  }
  output.setSchemaMetadata("made-by", "kitchen");
  return Status.OK;
}

function transform(input: Input, output: Output): Status {
  if (mode == "strings") return strings(input, output);
  if (mode == "filter") return filter(input, output);
  if (mode == "struct") return structs(input, output);
  if (mode == "bad-length") { // pass-through with a changed row count
    output.passThroughAll();
    output.setLength(input.length + 1);
    return Status.OK;
  }
  if (mode == "unfinished") { // utf8 column with fewer slots than rows
    output.addColumn("u", "u").appendString("only one");
    return Status.OK;
  }
  if (mode == "silent") return Status.ERROR; // no message
  if (mode == "status9") return <Status>9;
  if (mode == "log") { log("hello from kitchen"); output.passThroughAll(); return Status.OK; }
  if (mode == "throw") throw new Error("kitchen exploded");
  return fail(Status.ERROR, "unknown mode " + mode);
}

onInit(init);
onTransform(transform);

/** JSON number probe for the strtod test: parses len bytes at ptr, NaN on error. */
export function probe_parse(ptr: usize, len: usize): f64 {
  const p = new JsonParser(ptr, len);
  const v = p.parse();
  if (v === null || !v.isNumber) return NaN;
  return v.num;
}
