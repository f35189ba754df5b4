// The wasm exports of ABI v1 (spec §2). A UDF's entry file re-exports them:
//
//   export * from "@wasinfer/sdk/exports";
//
// This file exports nothing else, so the module's exports are exactly the
// ABI's (plus memory and _initialize, which the compiler adds).

import { Status } from "./abi";
import { alignedAlloc, alignedFree } from "./alloc";
import { ArrowSchema, ArrowArray } from "./arrow";
import { Input } from "./column";
import { Config } from "./config";
import { clearError, hasError, packedError, setError } from "./error";
import { JsonKind, JsonParser, JsonValue } from "./json";
import { Output, outputArena, releaseArray, releaseSchema } from "./output";
import { describeLen, describePtr, initHandler, transformHandler } from "./registry";
import { utf8Length, utf8Write } from "./cstr";

/** The ABI version marker; never called (spec §3). */
export function wasinfer_abi_v1(): void {}

/** Allocates size bytes aligned to align; 0 when it cannot (spec §2). */
export function wasinfer_alloc(size: u32, align: u32): u32 {
  return <u32>alignedAlloc(<usize>size, <usize>align);
}

/** Frees a block from wasinfer_alloc (same size and align). */
export function wasinfer_free(ptr: u32, size: u32, align: u32): void {
  alignedFree(<usize>ptr, <usize>align);
}

function statusMessage(st: Status, what: string): void {
  if (!hasError()) setError(what + " returned status " + (<i32>st).toString() + " without a message");
}

/** Receives the configuration (spec §9). */
export function wasinfer_init(ptr: u32, len: u32): i32 {
  clearError();
  let root: JsonValue;
  let text = "";
  if (len == 0) {
    root = new JsonValue();
    root.kind = JsonKind.OBJECT;
  } else {
    const p = new JsonParser(<usize>ptr, <usize>len);
    const v = p.parse();
    if (v === null) {
      setError("config: " + p.error);
      return Status.INVALID_CONFIG;
    }
    if (v.kind != JsonKind.OBJECT) {
      setError("config: must be a JSON object, got " + v.kindName);
      return Status.INVALID_CONFIG;
    }
    root = v;
    text = String.UTF8.decodeUnsafe(<usize>ptr, <usize>len);
  }
  const h = initHandler;
  if (h === null) {
    if (root.keys.length > 0) {
      setError("config: this UDF takes no configuration, got key \"" + root.keys[0] + "\"");
      return Status.INVALID_CONFIG;
    }
    return Status.OK;
  }
  const st = h(new Config(root, text));
  if (st != Status.OK) statusMessage(st, "init");
  return st;
}

/** Transforms one batch (spec §5). */
export function wasinfer_transform(inS: u32, inA: u32, outS: u32, outA: u32): i32 {
  clearError();
  outputArena.reset(); // a previous output the host failed to release
  const h = transformHandler;
  if (h === null) {
    setError("no transform registered: call onTransform(fn) at the top level of the UDF");
    return Status.ERROR;
  }
  const n = ArrowArray.at(<usize>inA).length;
  if (n > <i64>i32.MAX_VALUE) {
    setError("batch of " + n.toString() + " rows is over the AssemblyScript SDK's limit of 2147483647");
    return Status.ERROR;
  }
  const input = new Input(ArrowSchema.at(<usize>inS), ArrowArray.at(<usize>inA));
  const output = new Output(input);
  let st = h(input, output);
  if (st == Status.OK) st = output.finish(<usize>outS, <usize>outA);
  if (st != Status.OK) {
    statusMessage(st, "transform");
    outputArena.reset();
  }
  return st;
}

/** Releases the output of the last successful transform (spec §5.3). */
export function wasinfer_release(outS: u32, outA: u32): void {
  if (outS != 0 && ArrowSchema.at(<usize>outS).release != 0) releaseSchema(<usize>outS);
  if (outA != 0 && ArrowArray.at(<usize>outA).release != 0) releaseArray(<usize>outA);
  outputArena.reset();
}

/** (ptr << 32) | len of the last error message, 0 when none (spec §8). */
export function wasinfer_last_error(): u64 {
  return packedError();
}

let defaultDescribe: usize = 0;
let defaultDescribeLen: usize = 0;

/** (ptr << 32) | len of the module's JSON description (spec §10). */
export function wasinfer_describe(): u64 {
  if (describePtr != 0) return (<u64>describePtr << 32) | <u64>describeLen;
  if (defaultDescribe == 0) {
    const s = "{\"language\":\"assemblyscript\"}";
    defaultDescribeLen = utf8Length(s);
    defaultDescribe = heap.alloc(defaultDescribeLen);
    utf8Write(s, defaultDescribe);
  }
  return (<u64>defaultDescribe << 32) | <u64>defaultDescribeLen;
}
