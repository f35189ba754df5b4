// The message behind a non-zero status, returned by wasinfer_last_error
// (spec §8) as UTF-8 in raw memory.

import { Status } from "./abi";
import { utf8Length, utf8Write } from "./cstr";

let errPtr: usize = 0;
let errLen: usize = 0;

/**
 * Records message as the error of the current call and returns status, so a
 * UDF can write `return fail(Status.ERROR, "column \"x\": row 3: negative")`.
 * The message should name the column and row (spec §8).
 */
export function fail(status: Status, message: string): Status {
  setError(message);
  return status;
}

/** fail(Status.ERROR, `column "PATH": row ROW: MESSAGE`). */
export function rowError(path: string, row: i32, message: string): Status {
  return fail(Status.ERROR, "column \"" + path + "\": row " + row.toString() + ": " + message);
}

/** Records message without a status (see fail). */
export function setError(message: string): void {
  clearError();
  const n = utf8Length(message);
  if (n == 0) return;
  errPtr = heap.alloc(n);
  errLen = utf8Write(message, errPtr);
}

/** Forgets the recorded message. */
export function clearError(): void {
  if (errPtr != 0) heap.free(errPtr);
  errPtr = 0;
  errLen = 0;
}

/** Whether a message is recorded. */
export function hasError(): bool {
  return errLen != 0;
}

/** (ptr << 32) | len of the message, 0 when none. */
export function packedError(): u64 {
  if (errLen == 0) return 0;
  return (<u64>errPtr << 32) | <u64>errLen;
}
