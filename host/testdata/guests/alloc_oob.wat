;; alloc_oob: wasinfer_alloc always returns 0xffff0000, far past the end of
;; memory.
;; Expected: Transform fails with kind "bad output"
;; ("wasinfer_alloc returned a block outside memory").
(module
  (memory (export "memory") 2)

  ;; Page 0 holds this guest's static data; the heap starts at 64 KiB.
  (global $heap (mut i64) (i64.const 65536))
  ;; (ptr << 32) | len of the last error message, returned by wasinfer_last_error.
  (global $err (mut i64) (i64.const 0))

  (func (export "wasinfer_abi_v1"))

  (func (export "wasinfer_alloc") (param $size i32) (param $align i32) (result i32)
    (i32.const 0xffff0000))

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

  (func (export "wasinfer_transform") (param $in_schema i32) (param $in_array i32) (param $out_schema i32) (param $out_array i32) (result i32)
    ;; The output is the input: copy the two top-level structures, whose
    ;; children point into the input block (spec 5.2 allows the aliasing).
    (memory.copy (local.get $out_schema) (local.get $in_schema) (i32.const 48))
    (memory.copy (local.get $out_array) (local.get $in_array) (i32.const 64))
    (i32.const 0)))
