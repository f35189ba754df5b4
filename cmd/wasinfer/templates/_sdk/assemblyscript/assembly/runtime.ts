// Replacements for the three env.* functions AssemblyScript imports by
// default (abort, trace, seed), so that a module built with the SDK's
// asconfig.json imports only wasi_snapshot_preview1 (spec §7). asconfig.json
// selects them with
//
//   --use abort=~lib/@wasinfer/sdk/assembly/runtime/wasinferAbort
//   --use trace=~lib/@wasinfer/sdk/assembly/runtime/wasinferTrace
//   --use seed=~lib/@wasinfer/sdk/assembly/runtime/wasinferSeed

import { fd_write, random_get } from "./wasi";

const STDERR: u32 = 2;

/** Writes len bytes at ptr to stderr (the host logs it line by line). */
export function writeStderr(ptr: usize, len: usize): void {
  const iov = memory.data(8, 4);
  const written = memory.data(4, 4);
  while (len > 0) {
    store<u32>(iov, <u32>ptr, 0);
    store<u32>(iov, <u32>len, 4);
    if (fd_write(STDERR, iov, 1, written) != 0) return;
    const n = <usize>load<u32>(written);
    if (n == 0 || n > len) return;
    ptr += n;
    len -= n;
  }
}

// abort formats into this static buffer so that it never allocates: it may
// run because an allocation failed.
const ABORT_BUF_SIZE: usize = 1024;

function putString(buf: usize, pos: usize, s: string | null): usize {
  if (s === null) return pos;
  // Worst case 3 UTF-8 bytes per UTF-16 unit; cut long messages.
  let room = (ABORT_BUF_SIZE - 16 - pos) / 3;
  let units = <usize>s.length;
  if (units > room) units = room;
  return pos + String.UTF8.encodeUnsafe(changetype<usize>(s), <i32>units, buf + pos, false, String.UTF8.ErrorMode.REPLACE);
}

function putAscii(buf: usize, pos: usize, s: string): usize {
  for (let i = 0; i < s.length && pos < ABORT_BUF_SIZE; i++) {
    store<u8>(buf + pos, <u8>s.charCodeAt(i));
    pos++;
  }
  return pos;
}

function putU32(buf: usize, pos: usize, v: u32): usize {
  let digits: usize = 1;
  for (let t = v; t >= 10; t /= 10) digits++;
  if (pos + digits > ABORT_BUF_SIZE) return pos;
  let end = pos + digits;
  for (let i = end; i > pos; ) {
    i--;
    store<u8>(buf + i, <u8>(48 + v % 10));
    v /= 10;
  }
  return end;
}

/**
 * abort: writes "abort: MESSAGE at FILE:LINE:COL" to stderr, then traps. The
 * host turns the trap into an error that names the UDF and batch, and
 * replaces the instance. AssemblyScript calls abort for `throw`, failed
 * assertions (when built without --noAssert) and out-of-range accesses.
 */
export function wasinferAbort(message: string | null, fileName: string | null, lineNumber: u32, columnNumber: u32): void {
  const buf = memory.data(<i32>ABORT_BUF_SIZE, 16);
  let pos = putAscii(buf, 0, "abort: ");
  pos = putString(buf, pos, message === null ? "(no message)" : message);
  if (fileName !== null) {
    pos = putAscii(buf, pos, " at ");
    pos = putString(buf, pos, fileName);
    pos = putAscii(buf, pos, ":");
    pos = putU32(buf, pos, lineNumber);
    pos = putAscii(buf, pos, ":");
    pos = putU32(buf, pos, columnNumber);
  }
  pos = putAscii(buf, pos, "\n");
  writeStderr(buf, pos);
  unreachable();
}

/** trace: writes "trace: MESSAGE a0, a1, ..." to stderr. */
export function wasinferTrace(message: string, n: i32 = 0, a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0, a4: f64 = 0): void {
  let s = "trace: " + message;
  if (n > 0) s += " " + a0.toString();
  if (n > 1) s += ", " + a1.toString();
  if (n > 2) s += ", " + a2.toString();
  if (n > 3) s += ", " + a3.toString();
  if (n > 4) s += ", " + a4.toString();
  s += "\n";
  const bytes = String.UTF8.encode(s, false, String.UTF8.ErrorMode.REPLACE);
  writeStderr(changetype<usize>(bytes), <usize>bytes.byteLength);
}

/**
 * seed: the seed of Math.random, from WASI random_get. The wasinfer host's
 * random source is deterministic, so Math.random is reproducible per instance.
 */
export function wasinferSeed(): f64 {
  const buf = memory.data(8, 8);
  store<u64>(buf, 0);
  random_get(buf, 8);
  // A finite, non-zero double: Math.random's generator rejects a zero seed.
  return <f64>(load<u64>(buf) >>> 12) + 1.0;
}
