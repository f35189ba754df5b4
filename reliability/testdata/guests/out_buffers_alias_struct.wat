;; out_buffers_alias_struct: int64 column of 8 rows whose values buffer is the
;; output's own ArrowArray structures (pointers into memory the guest also uses
;; for the tree): legal bytes, so the host must copy them out unchanged and
;; never follow them.
;; Expected: success; 8 int64 values that are the bytes at 0x240.
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

  (func (export "wasinfer_last_error") (result i64) (global.get $err))

  ;; $schema fills the 48-byte ArrowSchema at $p (metadata, dictionary,
  ;; release and private_data zero; set them with a store afterwards).
  (func $schema (param $p i32) (param $format i32) (param $name i32) (param $flags i64)
                (param $n_children i64) (param $children i32)
    (memory.fill (local.get $p) (i32.const 0) (i32.const 48))
    (i32.store offset=0 (local.get $p) (local.get $format))
    (i32.store offset=4 (local.get $p) (local.get $name))
    (i64.store offset=16 (local.get $p) (local.get $flags))
    (i64.store offset=24 (local.get $p) (local.get $n_children))
    (i32.store offset=32 (local.get $p) (local.get $children)))
  ;; $array fills the 64-byte ArrowArray at $p (null_count, dictionary,
  ;; release and private_data zero; set them with a store afterwards).
  (func $array (param $p i32) (param $length i64) (param $offset i64) (param $n_buffers i64)
               (param $buffers i32) (param $n_children i64) (param $children i32)
    (memory.fill (local.get $p) (i32.const 0) (i32.const 64))
    (i64.store offset=0 (local.get $p) (local.get $length))
    (i64.store offset=16 (local.get $p) (local.get $offset))
    (i64.store offset=24 (local.get $p) (local.get $n_buffers))
    (i64.store offset=32 (local.get $p) (local.get $n_children))
    (i32.store offset=40 (local.get $p) (local.get $buffers))
    (i32.store offset=44 (local.get $p) (local.get $children)))

  ;; Static layout (page 0):
  ;;   0x100 strings         0x200 column schema   0x240 column array
  ;;   0x280 second schema   0x2c0 second array
  ;;   0x400 top schema's children   0x410 top array's children
  ;;   0x420 top array's buffers [NULL]   0x430 column's buffers
  ;;   0x404 column schema's children   0x414 column array's children
  ;;   0x440 second array's buffers
  ;;   0x1000 values/offsets   0x1100 string data
  (data (i32.const 0x100) "+s\00")
  (data (i32.const 0x104) "l\00")
  (data (i32.const 0x108) "a\00")
  (data (i32.const 0x10c) "u\00")
  (data (i32.const 0x110) "+l\00")
  (data (i32.const 0x114) "i\00")
  (data (i32.const 0x118) "b\00")
  (data (i32.const 0x11c) "U\00")

  ;; $top makes out_schema/out_array a struct of $rows rows whose one child is
  ;; the column at 0x200/0x240.
  (func $top (param $out_schema i32) (param $out_array i32) (param $rows i64)
    (call $schema (local.get $out_schema) (i32.const 0x100) (i32.const 0) (i64.const 0) (i64.const 1) (i32.const 0x400))
    (i32.store (i32.const 0x400) (i32.const 0x200))
    (call $array (local.get $out_array) (local.get $rows) (i64.const 0) (i64.const 1) (i32.const 0x420) (i64.const 1) (i32.const 0x410))
    (i32.store (i32.const 0x410) (i32.const 0x240))
    (i32.store (i32.const 0x420) (i32.const 0)))

  (func (export "wasinfer_transform") (param $in_schema i32) (param $in_array i32) (param $out_schema i32) (param $out_array i32) (result i32)

    (call $top (local.get $out_schema) (local.get $out_array) (i64.const 8))
    (call $schema (i32.const 0x200) (i32.const 0x104) (i32.const 0x108) (i64.const 0) (i64.const 0) (i32.const 0))
    (call $array (i32.const 0x240) (i64.const 8) (i64.const 0) (i64.const 2) (i32.const 0x430) (i64.const 0) (i32.const 0))
    (i32.store (i32.const 0x430) (i32.const 0))
    (i32.store (i32.const 0x434) (i32.const 0x240))  ;; values = the column's own ArrowArray
    (i32.const 0)))
