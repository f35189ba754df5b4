// The UDF's handlers, registered from the top level of its entry file (which
// runs in _initialize, before the host calls anything else).

import { Status } from "./abi";
import { Config } from "./config";
import { Input } from "./column";
import { Output } from "./output";
import { utf8Length, utf8Write } from "./cstr";

/** Transforms one batch: read `input`, fill `output`, return a status. */
export type TransformFn = (input: Input, output: Output) => Status;
/** Receives the stage's configuration once per instance. */
export type InitFn = (config: Config) => Status;

/** @internal */ export let transformHandler: TransformFn | null = null;
/** @internal */ export let initHandler: InitFn | null = null;
/** @internal */ export let describePtr: usize = 0;
/** @internal */ export let describeLen: usize = 0;

/** Registers the transform (required). Call once, at the top level. */
export function onTransform(fn: TransformFn): void {
  transformHandler = fn;
}

/**
 * Registers the configuration handler. Without one, the module accepts only
 * an empty configuration (a stage that passes keys gets INVALID_CONFIG).
 */
export function onInit(fn: InitFn): void {
  initHandler = fn;
}

/**
 * Sets the JSON object wasinfer_describe returns (spec §10), e.g.
 * `{"name":"normalize","version":"1.0.0","language":"assemblyscript"}`.
 * Without it the module describes itself as {"language":"assemblyscript"}.
 */
export function setDescription(json: string): void {
  if (describePtr != 0) heap.free(describePtr);
  describeLen = utf8Length(json);
  describePtr = heap.alloc(describeLen);
  utf8Write(json, describePtr);
}
