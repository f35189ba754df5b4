;; env_probe: wasinfer_transform asks WASI for its environment and arguments
;; and returns 1 (ERROR) with what it saw:
;; "env_probe: environ_sizes_get errno=E count=N bytes=B; args_sizes_get errno=E count=N bytes=B".
;; Expected (default sandbox): kind "guest error", status ERROR, message
;; "env_probe: environ_sizes_get errno=0 count=0 bytes=0; args_sizes_get errno=0 count=0 bytes=0".
(module
  (import "wasi_snapshot_preview1" "environ_sizes_get"
    (func $environ_sizes_get (param $count i32) (param $bytes i32) (result i32)))

  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param $count i32) (param $bytes i32) (result i32)))

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

  (data (i32.const 0x100) "env_probe: environ_sizes_get errno=\00")
  (data (i32.const 0x130) "; args_sizes_get errno=\00")
  (data (i32.const 0x150) " count=\00")
  (data (i32.const 0x160) " bytes=\00")

  (func (export "wasinfer_transform") (param $in_schema i32) (param $in_array i32) (param $out_schema i32) (param $out_array i32) (result i32)
    (global.set $mlen (i32.const 0))
    (i64.store (i32.const 0x90) (i64.const 0))
    (call $put (i32.const 0x100))
    (call $putu (i64.extend_i32_u (call $environ_sizes_get (i32.const 0x90) (i32.const 0x94))))
    (call $put (i32.const 0x150))
    (call $putu (i64.load32_u (i32.const 0x90)))
    (call $put (i32.const 0x160))
    (call $putu (i64.load32_u (i32.const 0x94)))
    (i64.store (i32.const 0x90) (i64.const 0))
    (call $put (i32.const 0x130))
    (call $putu (i64.extend_i32_u (call $args_sizes_get (i32.const 0x90) (i32.const 0x94))))
    (call $put (i32.const 0x150))
    (call $putu (i64.load32_u (i32.const 0x90)))
    (call $put (i32.const 0x160))
    (call $putu (i64.load32_u (i32.const 0x94)))
    (call $report)))
