;; grant_probe: the capability grants' probe (host/grant_test.go). With the
;; environment, the clocks and a read-only mount granted, wasinfer_transform
;; returns 1 (ERROR) with what it saw:
;; "grant_probe: environ errno=E count=N env=K=V;...; read data.txt errno=E
;; bytes=...; create new.txt errno=E; read link.txt errno=E bytes=..." (one
;; line). Every path is opened relative to fd 3, the first preopen; data.txt
;; and link.txt are read for up to 256 bytes, NUL bytes shown as ';'; new.txt
;; is opened with O_CREAT and write rights. Default sandbox: environ count=0,
;; every path_open errno=8 (EBADF, no fd 3).
(module
  (import "wasi_snapshot_preview1" "environ_sizes_get"
    (func $environ_sizes_get (param $count i32) (param $bytes i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get"
    (func $environ_get (param $environ i32) (param $buf i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param $fd i32) (param $dirflags i32) (param $path i32) (param $path_len i32)
      (param $oflags i32) (param $rights i64) (param $inheriting i64) (param $fdflags i32)
      (param $opened_fd i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param $fd i32) (param $iovs i32) (param $iovs_len i32) (param $nread i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close"
    (func $fd_close (param $fd i32) (result i32)))

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

  ;; $putn appends n raw bytes at p, a NUL shown as ';'.
  (func $putn (param $p i32) (param $n i32)
    (local $b i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $b (i32.load8_u (local.get $p)))
        (if (i32.eqz (local.get $b)) (then (local.set $b (i32.const 59))))
        (i32.store8 (i32.add (i32.const 0x8000) (global.get $mlen)) (local.get $b))
        (global.set $mlen (i32.add (global.get $mlen) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))

  (data (i32.const 0x100) "grant_probe: environ errno=\00")
  (data (i32.const 0x120) " count=\00")
  (data (i32.const 0x128) " env=\00")
  (data (i32.const 0x130) "; read data.txt errno=\00")
  (data (i32.const 0x150) " bytes=\00")
  (data (i32.const 0x160) "; create new.txt errno=\00")
  (data (i32.const 0x180) "; read link.txt errno=\00")
  (data (i32.const 0x1a0) "data.txt")  ;; 8 bytes
  (data (i32.const 0x1b0) "new.txt")   ;; 7 bytes
  (data (i32.const 0x1c0) "link.txt")  ;; 8 bytes
  (data (i32.const 0x1d0) "\00\10\00\00\00\01\00\00") ;; iovec: 256 bytes at 0x1000

  ;; $readfile appends "errno=E bytes=..." for the file named at $path.
  (func $readfile (param $path i32) (param $len i32)
    (local $e i32) (local $fd i32)
    (i32.store (i32.const 0xa0) (i32.const 0))
    (local.set $e (call $path_open (i32.const 3) (i32.const 1)
      (local.get $path) (local.get $len) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0)
      (i32.const 0x90)))
    (if (i32.eqz (local.get $e))
      (then
        (local.set $fd (i32.load (i32.const 0x90)))
        (local.set $e (call $fd_read (local.get $fd) (i32.const 0x1d0) (i32.const 1) (i32.const 0xa0)))
        (drop (call $fd_close (local.get $fd)))))
    (call $putu (i64.extend_i32_u (local.get $e)))
    (call $put (i32.const 0x150))
    (call $putn (i32.const 0x1000) (i32.load (i32.const 0xa0))))

  (func (export "wasinfer_transform") (param $in_schema i32) (param $in_array i32) (param $out_schema i32) (param $out_array i32) (result i32)
    (local $e i32)
    (global.set $mlen (i32.const 0))
    (i64.store (i32.const 0x90) (i64.const 0))
    (call $put (i32.const 0x100))
    (local.set $e (call $environ_sizes_get (i32.const 0x90) (i32.const 0x94)))
    (if (i32.and (i32.eqz (local.get $e))
          (i32.and (i32.le_u (i32.load (i32.const 0x90)) (i32.const 512))
                   (i32.le_u (i32.load (i32.const 0x94)) (i32.const 0x4000))))
      (then (local.set $e (call $environ_get (i32.const 0x2000) (i32.const 0x3000)))))
    (call $putu (i64.extend_i32_u (local.get $e)))
    (call $put (i32.const 0x120))
    (call $putu (i64.load32_u (i32.const 0x90)))
    (call $put (i32.const 0x128))
    (if (i32.eqz (local.get $e))
      (then (call $putn (i32.const 0x3000) (i32.load (i32.const 0x94)))))
    (call $put (i32.const 0x130))
    (call $readfile (i32.const 0x1a0) (i32.const 8))
    (call $put (i32.const 0x160))
    ;; O_CREAT (1), rights fd_read|fd_write (2|64)
    (call $putu (i64.extend_i32_u (call $path_open (i32.const 3) (i32.const 0)
      (i32.const 0x1b0) (i32.const 7) (i32.const 1) (i64.const 66) (i64.const 0) (i32.const 0)
      (i32.const 0x90))))
    (call $put (i32.const 0x180))
    (call $readfile (i32.const 0x1c0) (i32.const 8))
    (call $report)))
