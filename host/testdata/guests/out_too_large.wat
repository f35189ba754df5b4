;; out_too_large: returns status 0 with a struct output of 1048576 rows and 384
;; int64 columns "c000" ... "c383" that all share one array structure and one
;; 8 MiB values buffer: 3 GiB of output claimed from 8 MiB of memory.
;; Expected (output limit = default 512 MiB memory limit): kind "bad output":
;; column "c064": output larger than the limit of 536870912 bytes, found before
;; the host allocates anything for the output.
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
  ;;   0x400 top schema's children   0x410 top array's children
  ;;   0x420 top array's buffers [NULL]   0x430 column's buffers
  ;;   0x1000 values/offsets   0x1100 string data
  (data (i32.const 0x100) "+s\00")
  (data (i32.const 0x104) "l\00")
  (data (i32.const 0x110) "out_too_large: cannot allocate\00")

  (func (export "wasinfer_transform") (param $in_schema i32) (param $in_array i32) (param $out_schema i32) (param $out_array i32) (result i32)
    (local $values i32) (local $block i32) (local $s i32) (local $name i32) (local $i i32)
    (local.set $values (call $alloc (i32.const 0x800000) (i32.const 64)))
    ;; 384 schemas (48 bytes), 384 names (8), 2 x 384 child pointers
    (local.set $block (call $alloc (i32.const 24576) (i32.const 8)))
    (if (i32.or (i32.eqz (local.get $values)) (i32.eqz (local.get $block)))
      (then (return (call $fail (i32.const 4) (i32.const 0x110)))))
    (call $schema (local.get $out_schema) (i32.const 0x100) (i32.const 0) (i64.const 0) (i64.const 384)
      (i32.add (local.get $block) (i32.const 21504)))
    (call $array (local.get $out_array) (i64.const 1048576) (i64.const 0) (i64.const 1) (i32.const 0x420) (i64.const 384)
      (i32.add (local.get $block) (i32.const 23040)))
    (i32.store (i32.const 0x420) (i32.const 0))
    ;; the one column array every column shares: 1048576 int64
    (call $array (i32.const 0x240) (i64.const 1048576) (i64.const 0) (i64.const 2) (i32.const 0x430) (i64.const 0) (i32.const 0))
    (i32.store (i32.const 0x430) (i32.const 0))           ;; validity: none
    (i32.store (i32.const 0x434) (local.get $values))     ;; <-- HOSTILE: one 8 MiB buffer for all
    (loop $column
      (local.set $s (i32.add (local.get $block) (i32.mul (local.get $i) (i32.const 48))))
      (local.set $name (i32.add (local.get $block) (i32.add (i32.const 18432) (i32.shl (local.get $i) (i32.const 3)))))
      ;; name "cNNN"
      (i32.store8 (local.get $name) (i32.const 0x63))
      (i32.store8 offset=1 (local.get $name) (i32.add (i32.const 48) (i32.div_u (local.get $i) (i32.const 100))))
      (i32.store8 offset=2 (local.get $name)
        (i32.add (i32.const 48) (i32.rem_u (i32.div_u (local.get $i) (i32.const 10)) (i32.const 10))))
      (i32.store8 offset=3 (local.get $name) (i32.add (i32.const 48) (i32.rem_u (local.get $i) (i32.const 10))))
      (i32.store8 offset=4 (local.get $name) (i32.const 0))
      (call $schema (local.get $s) (i32.const 0x104) (local.get $name) (i64.const 2) (i64.const 0) (i32.const 0))
      (i32.store offset=21504 (i32.add (local.get $block) (i32.shl (local.get $i) (i32.const 2))) (local.get $s))
      (i32.store offset=23040 (i32.add (local.get $block) (i32.shl (local.get $i) (i32.const 2))) (i32.const 0x240))  ;; <-- HOSTILE: every column aliases one array
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $column (i32.lt_u (local.get $i) (i32.const 384))))
    (i32.const 0)))
