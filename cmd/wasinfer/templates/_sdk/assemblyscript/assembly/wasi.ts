// The few WASI preview 1 functions the SDK uses. wasi_snapshot_preview1 is
// the only import module a wasinfer guest may use (spec §7).

/** Writes iovs_len iovecs ({ptr u32, len u32}) to fd; stores the count written. */
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_write")
export declare function fd_write(fd: u32, iovs: usize, iovs_len: usize, nwritten: usize): u16;

/** Fills buf with len random bytes (deterministic under the wasinfer host). */
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "random_get")
export declare function random_get(buf: usize, len: usize): u16;
