// @wasinfer/sdk: write wasinfer UDFs (abi/spec.md, ABI v1) in AssemblyScript.
//
//   export * from "@wasinfer/sdk/exports";      // the ABI's wasm exports
//   import { Input, Output, Status, onTransform } from "@wasinfer/sdk";
//
//   function transform(input: Input, output: Output): Status {
//     output.passThroughAll();
//     return Status.OK;
//   }
//   onTransform(transform);
//
// See README.md for building and for the memory and error rules.

import "./runtime"; // abort/trace/seed over WASI (selected by asconfig.json)

export {
  Status, FLAG_DICTIONARY_ORDERED, FLAG_NULLABLE, FLAG_MAP_KEYS_SORTED,
  EXTENSION_NAME_KEY, EXTENSION_METADATA_KEY, FIXED_SHAPE_TENSOR,
} from "./abi";
export { ArrowSchema, ArrowArray, Kind, FormatInfo, formatInfo, Metadata, metadataGet } from "./arrow";
export { Column, Input } from "./column";
export { Output, ColumnBuilder, BUFFER_ALIGN } from "./output";
export { fail, rowError, setError } from "./error";
export { JsonKind, JsonValue, JsonParser, parseJson } from "./json";
export { Config } from "./config";
export { TransformFn, InitFn, onTransform, onInit, setDescription } from "./registry";
export { writeStderr } from "./runtime";
export { alignedAlloc, alignedFree } from "./alloc";

import { writeStderr } from "./runtime";

/** Writes message and a newline to stderr; the host logs it tagged with the UDF's name. */
export function log(message: string): void {
  const b = String.UTF8.encode(message + "\n", false, String.UTF8.ErrorMode.REPLACE);
  writeStderr(changetype<usize>(b), <usize>b.byteLength);
}
