;; stdout_spam: wasinfer_transform writes with fd_write, in this order:
;;   fd 1: one line of 5000 "x" bytes, then "stdout spam\n" 150 times (one
;;         fd_write per line);
;;   fd 2: "stderr: one line\nstderr: partial" in one fd_write (the last line
;;         has no newline);
;; then returns its input. If an fd_write fails it returns 1 (ERROR)
;; "stdout_spam: fd_write failed".
;; Expected: success (output equals input). With the host's per-call caps (line
;; 4096 bytes, 100 lines), the log gets on stdout a line of 4096 "x", 99 lines
;; "stdout spam", then a warning that 51 lines were dropped; on stderr
;; "stderr: one line" and "stderr: partial".
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param $fd i32) (param $iovs i32) (param $iovs_len i32) (param $nwritten i32) (result i32)))

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

  (data (i32.const 0x100) "stdout spam\n")
  (data (i32.const 0x120) "stderr: one line\nstderr: partial")
  (data (i32.const 0x180) "stdout_spam: fd_write failed\00")

  ;; $write writes [$p, $p+$n) to $fd with one fd_write; false on an error.
  (func $write (param $fd i32) (param $p i32) (param $n i32) (result i32)
    (i32.store (i32.const 0x80) (local.get $p))
    (i32.store (i32.const 0x84) (local.get $n))
    (i32.eqz (call $fd_write (local.get $fd) (i32.const 0x80) (i32.const 1) (i32.const 0x88))))

  (func (export "wasinfer_transform") (param $in_schema i32) (param $in_array i32) (param $out_schema i32) (param $out_array i32) (result i32)
    (local $i i32)
    ;; one 5000-byte line at 0x1000
    (memory.fill (i32.const 0x1000) (i32.const 0x78) (i32.const 5000))
    (i32.store8 (i32.const 0x2388) (i32.const 10))
    (if (i32.eqz (call $write (i32.const 1) (i32.const 0x1000) (i32.const 5001)))
      (then (return (call $fail (i32.const 1) (i32.const 0x180)))))
    (loop $lines
      (if (i32.eqz (call $write (i32.const 1) (i32.const 0x100) (i32.const 12)))
        (then (return (call $fail (i32.const 1) (i32.const 0x180)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $lines (i32.lt_u (local.get $i) (i32.const 150))))
    (if (i32.eqz (call $write (i32.const 2) (i32.const 0x120) (i32.const 32)))
      (then (return (call $fail (i32.const 1) (i32.const 0x180)))))
    (memory.copy (local.get $out_schema) (local.get $in_schema) (i32.const 48))
    (memory.copy (local.get $out_array) (local.get $in_array) (i32.const 64))
    (i32.const 0)))
