;; spin: an identity UDF whose transform first runs a tight loop (an add and
;; a decrement per iteration, the loop of host/testdata/guests/tight_loop.wat)
;; as many times as the int32 value in row 0 of column 0 says; no rows: no
;; loop. It also exports that loop as "spin" (param $n i32) (result i32), so
;; the same compiled code can be called directly through wazero, outside the
;; host. internal/bench uses it for wasm_deadline_overhead (the loop under
;; the host's deadline guard, through host.UDF.Transform, against the loop
;; called with no deadline mechanism) and pool_scaling (a CPU-bound stage).
;;
;; Offsets into the Arrow C Data Interface structures (wasm32, abi/spec.md
;; §4): ArrowArray.length at 0, .offset at 16, .buffers at 40, .children at
;; 44; a column's values are buffers[1].
(module
  (memory (export "memory") 2)

  ;; Page 0 holds nothing; the heap starts at 64 KiB.
  (global $heap (mut i64) (i64.const 65536))
  ;; The last loop's sum, kept so the loop has an observable result.
  (global $sum (mut i32) (i32.const 0))

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

  (func (export "wasinfer_last_error") (result i64) (i64.const 0))

  ;; spin(n): n iterations of an add and a decrement; returns the sum n + (n-1) + ... + 1.
  (func $spin (export "spin") (param $n i32) (result i32)
    (local $acc i32)
    (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
    (loop $again
      (local.set $acc (i32.add (local.get $acc) (local.get $n)))
      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $acc))

  (func (export "wasinfer_transform") (param $in_schema i32) (param $in_array i32) (param $out_schema i32) (param $out_array i32) (result i32)
    (local $col i32)
    ;; With rows and at least one column: spin(column 0's int32 at row 0).
    (if (i32.and
          (i64.ne (i64.load (local.get $in_array)) (i64.const 0))
          (i64.ne (i64.load offset=32 (local.get $in_array)) (i64.const 0)))
      (then
        (local.set $col (i32.load (i32.load offset=44 (local.get $in_array))))
        (global.set $sum (call $spin
          (i32.load (i32.add
            (i32.load offset=4 (i32.load offset=40 (local.get $col)))
            (i32.shl (i32.wrap_i64 (i64.load offset=16 (local.get $col))) (i32.const 2))))))))
    ;; The output is the input: copy the two top-level structures, whose
    ;; children point into the input block (spec 5.2 allows the aliasing).
    (memory.copy (local.get $out_schema) (local.get $in_schema) (i32.const 48))
    (memory.copy (local.get $out_array) (local.get $in_array) (i32.const 64))
    (i32.const 0)))
