;; fs_probe: wasinfer_transform tries the filesystem and returns 1 (ERROR) with
;; what it saw, so a test can read it:
;; "fs_probe: path_open /etc/passwd errno=A; path_open ../x errno=B;
;; fd_prestat_get 3 errno=C; fd_read 3 errno=D" (one line; A..D are WASI errno
;; numbers in decimal). Both path_open calls use fd 3 (the first preopen, if
;; any) as the directory and ask for read rights.
;; Expected (default sandbox, no preopens): kind "guest error", status ERROR;
;; no errno is 0. Under wazero 1.12 the message is
;; "fs_probe: path_open /etc/passwd errno=63; path_open ../x errno=63;
;; fd_prestat_get 3 errno=8; fd_read 3 errno=8" (63 = EPERM, 8 = EBADF).
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param $fd i32) (param $dirflags i32) (param $path i32) (param $path_len i32)
      (param $oflags i32) (param $rights i64) (param $inheriting i64) (param $fdflags i32)
      (param $opened_fd i32) (result i32)))

  (import "wasi_snapshot_preview1" "fd_prestat_get"
    (func $fd_prestat_get (param $fd i32) (param $prestat i32) (result i32)))

  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param $fd i32) (param $iovs i32) (param $iovs_len i32) (param $nread i32) (result i32)))

  (memory (export "memory") 2)

  ;; Page 0 holds this guest's static data; the heap starts at 64 KiB.
  (global $heap (mut i64) (i64.const 65536))
  ;; (ptr << 32) | len of the last error message, returned by wasinfer_last_error.
  (global $err (mut i64) (i64.const 0))

  (func (export "wasinfer_abi_v1"))

  (func $alloc (export "wasinfer_alloc") (param $size i32) (param $align i32) (result i32)
    (local $p i64) (local $end i64) (local $have i64)
    ;; Bump allocator: round the heap up to align, grow memory when needed.
    (if (i32.eqz (local.get $align)) (then (local.set $align (i32.const 1))))
    (local.set $p (i64.and
      (i64.add (global.get $heap) (i64.extend_i32_u (i32.sub (local.get $align) (i32.const 1))))
      (i64.sub (i64.const 0) (i64.extend_i32_u (local.get $align)))))
    (local.set $end (i64.add (local.get $p) (i64.extend_i32_u (local.get $size))))
    (local.set $have (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
    (if (i64.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow (i32.wrap_i64 (i64.shr_u
                (i64.add (i64.sub (local.get $end) (local.get $have)) (i64.const 0xffff))
                (i64.const 16))))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $heap (local.get $end))
    (i32.wrap_i64 (local.get $p)))

  ;; A bump allocator takes back only the most recent block.
  (func (export "wasinfer_free") (param $ptr i32) (param $size i32) (param $align i32)
    (if (i32.and
          (i32.ne (local.get $ptr) (i32.const 0))
          (i64.eq (i64.add (i64.extend_i32_u (local.get $ptr)) (i64.extend_i32_u (local.get $size)))
                  (global.get $heap)))
      (then (global.set $heap (i64.extend_i32_u (local.get $ptr))))))

  ;; The output owns no memory: nothing to release.
  (func (export "wasinfer_release") (param $schema i32) (param $array i32))

  (func (export "wasinfer_last_error") (result i64) (global.get $err))

  ;; Message builder: $put appends a NUL-terminated string, $putu a decimal
  ;; number, to the buffer at 0x8000; $report returns status 1 with it.
  (global $mlen (mut i32) (i32.const 0))
  (func $put (param $s i32)
    (loop $next
      (if (i32.load8_u (local.get $s))
        (then
          (i32.store8 (i32.add (i32.const 0x8000) (global.get $mlen)) (i32.load8_u (local.get $s)))
          (global.set $mlen (i32.add (global.get $mlen) (i32.const 1)))
          (local.set $s (i32.add (local.get $s) (i32.const 1)))
          (br $next)))))
  (func $putu (param $v i64)
    (local $p i32)
    ;; digits are written backwards ending at 0x7ff8, then appended
    (local.set $p (i32.const 0x7ff8))
    (i32.store8 (local.get $p) (i32.const 0))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p)
        (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $v) (i64.const 0))))
    (call $put (local.get $p)))
  (func $report (result i32)
    (global.set $err (i64.or (i64.const 0x800000000000) (i64.extend_i32_u (global.get $mlen))))
    (i32.const 1))

  (data (i32.const 0x100) "fs_probe: path_open /etc/passwd errno=\00")
  (data (i32.const 0x140) "; path_open ../x errno=\00")
  (data (i32.const 0x160) "; fd_prestat_get 3 errno=\00")
  (data (i32.const 0x180) "; fd_read 3 errno=\00")
  (data (i32.const 0x1a0) "/etc/passwd")   ;; 11 bytes
  (data (i32.const 0x1b0) "../x")          ;; 4 bytes
  (data (i32.const 0x1c0) "\00\02\00\00\10\00\00\00") ;; iovec: 16 bytes at 0x200

  (func (export "wasinfer_transform") (param $in_schema i32) (param $in_array i32) (param $out_schema i32) (param $out_array i32) (result i32)
    (global.set $mlen (i32.const 0))
    (call $put (i32.const 0x100))
    (call $putu (i64.extend_i32_u (call $path_open (i32.const 3) (i32.const 0)
      (i32.const 0x1a0) (i32.const 11) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0)
      (i32.const 0x90))))
    (call $put (i32.const 0x140))
    (call $putu (i64.extend_i32_u (call $path_open (i32.const 3) (i32.const 0)
      (i32.const 0x1b0) (i32.const 4) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0)
      (i32.const 0x90))))
    (call $put (i32.const 0x160))
    (call $putu (i64.extend_i32_u (call $fd_prestat_get (i32.const 3) (i32.const 0x98))))
    (call $put (i32.const 0x180))
    (call $putu (i64.extend_i32_u (call $fd_read (i32.const 3) (i32.const 0x1c0) (i32.const 1) (i32.const 0xa0))))
    (call $report)))
