// normalize: uint8 HWC image tensors → float32 CHW tensors,
//   out[c][y][x] = (f32)in[y][x][c] * scale[c] + bias[c]
// with scale[c] = (f32)(1 / (255 std[c])) and bias[c] = (f32)(-mean[c] / std[c]),
// an f32 multiply then an f32 add, each rounded (WebAssembly has no fused
// multiply-add outside relaxed SIMD). Every wasinfer SDK implements this
// transform bit-identically; see README.md.
//
// Config (all optional): {"column": "image", "output": "tensor",
//   "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
export * from "@wasinfer/sdk/exports";
import {
  Column, Config, Input, Output, Status, JsonParser,
  EXTENSION_NAME_KEY, EXTENSION_METADATA_KEY, FIXED_SHAPE_TENSOR, Kind,
  fail, onInit, onTransform, setDescription,
} from "@wasinfer/sdk";

let columnName = "image";
let outputName = "tensor";
const scale = new StaticArray<f32>(4);
const bias = new StaticArray<f32>(4);

function setChannels(mean: f64[], std: f64[]): void {
  for (let c = 0; c < 4; c++) {
    const m = mean[min(c, mean.length - 1)];
    const s = std[min(c, std.length - 1)];
    scale[c] = <f32>(1.0 / (255.0 * s));
    bias[c] = <f32>(-m / s);
  }
}
setChannels([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);

function init(cfg: Config): Status {
  cfg.allowOnly(["column", "output", "mean", "std"]);
  const col = cfg.getString("column", "image");
  const out = cfg.getString("output", "tensor");
  const mean = cfg.getNumbers("mean", [0.485, 0.456, 0.406], 1, 4);
  const std = cfg.getNumbers("std", [0.229, 0.224, 0.225], 1, 4);
  if (!cfg.ok) return cfg.fail();
  if (col.length == 0) return fail(Status.INVALID_CONFIG, "config: \"column\" must not be empty");
  if (out.length == 0) return fail(Status.INVALID_CONFIG, "config: \"output\" must not be empty");
  for (let i = 0; i < std.length; i++) {
    if (!(std[i] > 0)) {
      return fail(Status.INVALID_CONFIG, "config: \"std\"[" + i.toString() + "] must be > 0, got " + std[i].toString());
    }
  }
  columnName = col;
  outputName = out;
  setChannels(mean, std);
  return Status.OK;
}

function unsupported(what: string): Status {
  return fail(Status.UNSUPPORTED_INPUT, "column \"" + columnName + "\": " + what);
}

// Reads H, W, C from the tensor's {"shape":[H,W,C]}; 0 in h when it fails (message set).
class Shape { h: i32 = 0; w: i32 = 0; c: i32 = 0; }

function readShape(col: Column, n: i32, shape: Shape): Status {
  const ext = col.metadata(EXTENSION_NAME_KEY);
  if (ext === null || ext != FIXED_SHAPE_TENSOR) {
    return unsupported("expected extension type " + FIXED_SHAPE_TENSOR + " (field metadata " + EXTENSION_NAME_KEY + "), got " +
      (ext === null ? "none" : "\"" + ext + "\""));
  }
  const meta = col.metadata(EXTENSION_METADATA_KEY);
  if (meta === null) return unsupported("missing field metadata " + EXTENSION_METADATA_KEY);
  const p = JsonParser.ofString(meta);
  const v = p.parse();
  if (v === null) return unsupported(EXTENSION_METADATA_KEY + ": " + p.error);
  const s = v.get("shape");
  if (!v.isObject || s === null || !s.isArray || s.items.length != 3 ||
      !s.items[0].isInteger(1, 2147483647) || !s.items[1].isInteger(1, 2147483647) || !s.items[2].isInteger(1, 4)) {
    return unsupported("\"shape\" must be [H, W, C] with positive integers and 1 ≤ C ≤ 4, got " + meta);
  }
  const h = <i64>s.items[0].num, w = <i64>s.items[1].num, c = <i64>s.items[2].num;
  if (h * w * c != <i64>n) {
    return unsupported("shape [" + h.toString() + ", " + w.toString() + ", " + c.toString() + "] has " +
      (h * w * c).toString() + " elements, the list size is " + n.toString());
  }
  shape.h = <i32>h;
  shape.w = <i32>w;
  shape.c = <i32>c;
  return Status.OK;
}

// The kernel. One row: src holds hw pixels of nc interleaved uint8 channels;
// dst gets nc planes of hw float32. 64 pixels per loop iteration, all
// channels in straight-line code: under wazero's deadline checks every loop
// back-edge costs a call into the host, so the loop body does as much as it can.

// Converts 4 pixels of one channel: the swizzle picks byte k·nc + c into lane
// k (zero-extended: index 16 reads 0), then f32 convert, multiply, add.
// @ts-ignore: decorator
@inline
function channel4(out: usize, px: v128, mask: v128, s: v128, b: v128): void {
  const x = f32x4.convert_i32x4_s(i8x16.swizzle(px, mask)); // values 0..255: exact
  v128.store(out, f32x4.add(f32x4.mul(x, s), b));
}

// 4 pixels starting at pixel p, every channel (nc is a constant after inlining).
// @ts-ignore: decorator
@inline
function pixels4(src: usize, dst: usize, plane: usize, p: i32, nc: i32,
  m0: v128, m1: v128, m2: v128, m3: v128, s0: v128, s1: v128, s2: v128, s3: v128,
  b0: v128, b1: v128, b2: v128, b3: v128): void {
  const px = v128.load(src + <usize>(p * nc));
  const out = dst + (<usize>p << 2);
  channel4(out, px, m0, s0, b0);
  if (nc > 1) channel4(out + plane, px, m1, s1, b1);
  if (nc > 2) channel4(out + 2 * plane, px, m2, s2, b2);
  if (nc > 3) channel4(out + 3 * plane, px, m3, s3, b3);
}

// @ts-ignore: decorator
@inline
function pixels16(src: usize, dst: usize, plane: usize, p: i32, nc: i32,
  m0: v128, m1: v128, m2: v128, m3: v128, s0: v128, s1: v128, s2: v128, s3: v128,
  b0: v128, b1: v128, b2: v128, b3: v128): void {
  pixels4(src, dst, plane, p, nc, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
  pixels4(src, dst, plane, p + 4, nc, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
  pixels4(src, dst, plane, p + 8, nc, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
  pixels4(src, dst, plane, p + 12, nc, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
}

function swizzleMask(nc: i32, c: i32): v128 {
  let m = i32x4.splat(0x10101000 | c);
  m = i32x4.replace_lane(m, 1, 0x10101000 | (nc + c));
  m = i32x4.replace_lane(m, 2, 0x10101000 | (2 * nc + c));
  return i32x4.replace_lane(m, 3, 0x10101000 | (3 * nc + c));
}

function normalizeRow(src: usize, dst: usize, hw: i32, nc: i32): void {
  const m0 = swizzleMask(nc, 0), m1 = swizzleMask(nc, 1), m2 = swizzleMask(nc, 2), m3 = swizzleMask(nc, 3);
  const s0 = f32x4.splat(unchecked(scale[0])), s1 = f32x4.splat(unchecked(scale[1]));
  const s2 = f32x4.splat(unchecked(scale[2])), s3 = f32x4.splat(unchecked(scale[3]));
  const b0 = f32x4.splat(unchecked(bias[0])), b1 = f32x4.splat(unchecked(bias[1]));
  const b2 = f32x4.splat(unchecked(bias[2])), b3 = f32x4.splat(unchecked(bias[3]));
  const plane = <usize>hw << 2;
  const n = hw * nc;
  let p = 0;
  // 64 pixels per iteration; the last 16-byte load starts at pixel p + 60 and must end inside the row
  switch (nc) {
    case 1:
      for (; (p + 60) * 1 + 16 <= n; p += 64) {
        pixels16(src, dst, plane, p, 1, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
        pixels16(src, dst, plane, p + 16, 1, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
        pixels16(src, dst, plane, p + 32, 1, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
        pixels16(src, dst, plane, p + 48, 1, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
      }
      break;
    case 2:
      for (; (p + 60) * 2 + 16 <= n; p += 64) {
        pixels16(src, dst, plane, p, 2, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
        pixels16(src, dst, plane, p + 16, 2, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
        pixels16(src, dst, plane, p + 32, 2, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
        pixels16(src, dst, plane, p + 48, 2, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
      }
      break;
    case 3:
      for (; (p + 60) * 3 + 16 <= n; p += 64) {
        pixels16(src, dst, plane, p, 3, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
        pixels16(src, dst, plane, p + 16, 3, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
        pixels16(src, dst, plane, p + 32, 3, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
        pixels16(src, dst, plane, p + 48, 3, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
      }
      break;
    default:
      for (; (p + 60) * 4 + 16 <= n; p += 64) {
        pixels16(src, dst, plane, p, 4, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
        pixels16(src, dst, plane, p + 16, 4, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
        pixels16(src, dst, plane, p + 32, 4, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
        pixels16(src, dst, plane, p + 48, 4, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
      }
  }
  // then 4 pixels at a time while the load stays inside the row
  for (; p * nc + 16 <= n; p += 4) {
    pixels4(src, dst, plane, p, nc, m0, m1, m2, m3, s0, s1, s2, s3, b0, b1, b2, b3);
  }
  // then the last few pixels, one at a time
  const sc0 = unchecked(scale[0]), sc1 = unchecked(scale[1]), sc2 = unchecked(scale[2]), sc3 = unchecked(scale[3]);
  const bi0 = unchecked(bias[0]), bi1 = unchecked(bias[1]), bi2 = unchecked(bias[2]), bi3 = unchecked(bias[3]);
  for (; p < hw; p++) {
    const px = src + <usize>(p * nc);
    const out = dst + (<usize>p << 2);
    store<f32>(out, <f32>load<u8>(px) * sc0 + bi0);
    if (nc > 1) store<f32>(out + plane, <f32>load<u8>(px, 1) * sc1 + bi1);
    if (nc > 2) store<f32>(out + 2 * plane, <f32>load<u8>(px, 2) * sc2 + bi2);
    if (nc > 3) store<f32>(out + 3 * plane, <f32>load<u8>(px, 3) * sc3 + bi3);
  }
}

function transform(input: Input, output: Output): Status {
  const idx = input.columnIndex(columnName);
  if (idx < 0) return unsupported("not found in the input (columns: " + input.columnNames().join(", ") + ")");
  const col = input.column(idx);
  if (col.info.kind != Kind.FIXED_SIZE_LIST) {
    return unsupported("expected a fixed_size_list<uint8> (format \"+w:N\"), got format \"" + col.format + "\"");
  }
  const items = col.items();
  if (!items.formatIs("C")) {
    return unsupported("expected uint8 values (format \"C\"), got format \"" + items.format + "\"");
  }
  const n = col.listSize;
  const shape = new Shape();
  const st = readShape(col, n, shape);
  if (st != Status.OK) return st;
  const hw = shape.h * shape.w;
  const nc = shape.c;

  for (let i = 0; i < input.numColumns; i++) {
    if (i != idx) output.passThrough(input.column(i));
  }
  const rows = input.length;
  const t = output.addColumn(outputName, "+w:" + n.toString(), true);
  t.setMetadata(EXTENSION_NAME_KEY, FIXED_SHAPE_TENSOR);
  t.setMetadata(EXTENSION_METADATA_KEY,
    "{\"shape\":[" + nc.toString() + "," + shape.h.toString() + "," + shape.w.toString() + "]}");
  const item = t.addChild("item", "f", false); // rows × n values
  const dst = item.allocValues();
  // item i of the values child: buffer + (child offset + (list slot)·n + j)
  const src = items.values<u8>();
  const rowBytes = <usize>n;
  const hasNulls = col.hasNulls;
  for (let r = 0; r < rows; r++) {
    const out = dst + <usize>r * rowBytes * 4;
    if (hasNulls && col.isNull(r)) {
      t.setNull(r);
      memory.fill(out, 0, rowBytes * 4);
      continue;
    }
    normalizeRow(src + <usize>col.itemStart(r), out, hw, nc);
  }
  return Status.OK;
}

onInit(init);
onTransform(transform);
setDescription("{\"name\":\"normalize\",\"version\":\"1.0.0\",\"language\":\"assemblyscript\"," +
  "\"description\":\"uint8 HWC image tensor to normalized float32 CHW tensor\"," +
  "\"input\":[{\"name\":\"image\",\"type\":\"arrow.fixed_shape_tensor<uint8>[H,W,C]\"}]," +
  "\"output\":[{\"name\":\"tensor\",\"type\":\"arrow.fixed_shape_tensor<float32>[C,H,W]\"}]}");
