;; last_error_trap: wasinfer_transform returns 1 (ERROR), and
;; wasinfer_last_error, which the host calls to read the message, traps
;; (unreachable).
;; Expected: kind "trap", "in wasinfer_last_error (after status ERROR)";
;; the instance is replaced (Transient).
(module
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

  ;; <-- HOSTILE: reading the message traps.
  (func (export "wasinfer_last_error") (result i64)
    (unreachable))

  ;; $fail keeps the NUL-terminated message at $msg for wasinfer_last_error
  ;; and returns $status.
  (func $fail (param $status i32) (param $msg i32) (result i32)
    (local $n i32)
    (loop $scan
      (if (i32.load8_u (i32.add (local.get $msg) (local.get $n)))
        (then (local.set $n (i32.add (local.get $n) (i32.const 1))) (br $scan))))
    (global.set $err (i64.or
      (i64.shl (i64.extend_i32_u (local.get $msg)) (i64.const 32))
      (i64.extend_i32_u (local.get $n))))
    (local.get $status))

  (data (i32.const 0x100) "row 3: value too large\00")

  (func (export "wasinfer_transform") (param $in_schema i32) (param $in_array i32) (param $out_schema i32) (param $out_array i32) (result i32)
    (call $fail (i32.const 1) (i32.const 0x100))))
