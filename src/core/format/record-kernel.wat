;; The record kernel: CRC-32/IEEE by slicing-by-16 tables, and the scanner's
;; hot path (a run of valid records) over bytes in this module's memory, in
;; one call per run instead of one table walk in JavaScript per record.
;; src/core/format/record-kernel.ts fills the tables, reads into the memory and
;; checks every stop. This file is the source of record-kernel.wasm.ts
;; (npm run kernel, with wabt); test/record-kernel.test.ts checks that they agree.
;;
;; Memory (given by the caller, sized to what it reads): [0, 16384) sixteen
;; 256-entry tables, table k at k * 1024, entry n the register after byte n
;; and k zero bytes; at 16384 the last run's record count; from 65536 the
;; bytes to scan.
(module
  (import "env" "memory" (memory 1))

  ;; The raw register after feeding bytes [i, end) to register c. A table's
  ;; offset for byte k of a word is taken in two operations, (w >> (8k - 2))
  ;; & 1020, not three: the loop is bound by how many it issues, not by its
  ;; chain of loads (two records interleaved measured slower).
  (func $register (param $c i32) (param $i i32) (param $end i32) (result i32)
    (local $a i32) (local $b i32) (local $d i32)
    (block $done16
      (loop $l16
        (br_if $done16 (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $end)))
        (local.set $c (i32.xor (local.get $c) (i32.load (local.get $i))))
        (local.set $a (i32.load offset=4 (local.get $i)))
        (local.set $b (i32.load offset=8 (local.get $i)))
        (local.set $d (i32.load offset=12 (local.get $i)))
        (local.set $c (i32.xor
          (i32.xor
            (i32.xor (i32.xor (i32.load offset=15360 (i32.and (i32.shl (local.get $c) (i32.const 2)) (i32.const 1020))) (i32.load offset=14336 (i32.and (i32.shr_u (local.get $c) (i32.const 6)) (i32.const 1020)))) (i32.xor (i32.load offset=13312 (i32.and (i32.shr_u (local.get $c) (i32.const 14)) (i32.const 1020))) (i32.load offset=12288 (i32.shl (i32.shr_u (local.get $c) (i32.const 24)) (i32.const 2)))))
            (i32.xor (i32.xor (i32.load offset=11264 (i32.and (i32.shl (local.get $a) (i32.const 2)) (i32.const 1020))) (i32.load offset=10240 (i32.and (i32.shr_u (local.get $a) (i32.const 6)) (i32.const 1020)))) (i32.xor (i32.load offset=9216 (i32.and (i32.shr_u (local.get $a) (i32.const 14)) (i32.const 1020))) (i32.load offset=8192 (i32.shl (i32.shr_u (local.get $a) (i32.const 24)) (i32.const 2))))))
          (i32.xor
            (i32.xor (i32.xor (i32.load offset=7168 (i32.and (i32.shl (local.get $b) (i32.const 2)) (i32.const 1020))) (i32.load offset=6144 (i32.and (i32.shr_u (local.get $b) (i32.const 6)) (i32.const 1020)))) (i32.xor (i32.load offset=5120 (i32.and (i32.shr_u (local.get $b) (i32.const 14)) (i32.const 1020))) (i32.load offset=4096 (i32.shl (i32.shr_u (local.get $b) (i32.const 24)) (i32.const 2)))))
            (i32.xor (i32.xor (i32.load offset=3072 (i32.and (i32.shl (local.get $d) (i32.const 2)) (i32.const 1020))) (i32.load offset=2048 (i32.and (i32.shr_u (local.get $d) (i32.const 6)) (i32.const 1020)))) (i32.xor (i32.load offset=1024 (i32.and (i32.shr_u (local.get $d) (i32.const 14)) (i32.const 1020))) (i32.load offset=0 (i32.shl (i32.shr_u (local.get $d) (i32.const 24)) (i32.const 2))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $l16)))
    (if (i32.le_u (i32.add (local.get $i) (i32.const 8)) (local.get $end))
      (then
        (local.set $c (i32.xor (local.get $c) (i32.load (local.get $i))))
        (local.set $a (i32.load offset=4 (local.get $i)))
        (local.set $c (i32.xor
          (i32.xor (i32.xor (i32.load offset=7168 (i32.and (i32.shl (local.get $c) (i32.const 2)) (i32.const 1020))) (i32.load offset=6144 (i32.and (i32.shr_u (local.get $c) (i32.const 6)) (i32.const 1020)))) (i32.xor (i32.load offset=5120 (i32.and (i32.shr_u (local.get $c) (i32.const 14)) (i32.const 1020))) (i32.load offset=4096 (i32.shl (i32.shr_u (local.get $c) (i32.const 24)) (i32.const 2)))))
          (i32.xor (i32.xor (i32.load offset=3072 (i32.and (i32.shl (local.get $a) (i32.const 2)) (i32.const 1020))) (i32.load offset=2048 (i32.and (i32.shr_u (local.get $a) (i32.const 6)) (i32.const 1020)))) (i32.xor (i32.load offset=1024 (i32.and (i32.shr_u (local.get $a) (i32.const 14)) (i32.const 1020))) (i32.load offset=0 (i32.shl (i32.shr_u (local.get $a) (i32.const 24)) (i32.const 2)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))))
    (if (i32.le_u (i32.add (local.get $i) (i32.const 4)) (local.get $end))
      (then
        (local.set $c (i32.xor (local.get $c) (i32.load (local.get $i))))
        (local.set $c (i32.xor (i32.xor (i32.load offset=3072 (i32.and (i32.shl (local.get $c) (i32.const 2)) (i32.const 1020))) (i32.load offset=2048 (i32.and (i32.shr_u (local.get $c) (i32.const 6)) (i32.const 1020)))) (i32.xor (i32.load offset=1024 (i32.and (i32.shr_u (local.get $c) (i32.const 14)) (i32.const 1020))) (i32.load offset=0 (i32.shl (i32.shr_u (local.get $c) (i32.const 24)) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))))
    (block $done1
      (loop $l1
        (br_if $done1 (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.xor
          (i32.load (i32.shl (i32.and (i32.xor (local.get $c) (i32.load8_u (local.get $i))) (i32.const 255)) (i32.const 2)))
          (i32.shr_u (local.get $c) (i32.const 8))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l1)))
    (local.get $c))

  ;; zlib's crc32 of [i, end).
  (func (export "crc") (param $i i32) (param $end i32) (result i32)
    (i32.xor (call $register (i32.const -1) (local.get $i) (local.get $end)) (i32.const -1)))

  ;; Walks records [u32 length][u32 crc][data] from p while each is whole
  ;; before lim, its length is not 0 and below big, and its crc matches.
  ;; Returns where it stopped; the count of records walked is left at 16384.
  (func (export "run") (param $p i32) (param $lim i32) (param $big i32) (result i32)
    (local $len i32) (local $n i32) (local $data i32)
    (block $stop
      (loop $next
        (br_if $stop (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $lim)))
        (local.set $len (i32.load (local.get $p)))
        (br_if $stop (i32.eqz (local.get $len)))
        (br_if $stop (i32.ge_u (local.get $len) (local.get $big)))
        (br_if $stop (i32.gt_u (local.get $len) (i32.sub (i32.sub (local.get $lim) (local.get $p)) (i32.const 8))))
        (local.set $data (i32.add (local.get $p) (i32.const 8)))
        (br_if $stop (i32.ne
          (i32.xor (call $register (i32.const -1) (local.get $data) (i32.add (local.get $data) (local.get $len))) (i32.const -1))
          (i32.load offset=4 (local.get $p))))
        (local.set $p (i32.add (local.get $data) (local.get $len)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.store (i32.const 16384) (local.get $n))
    (local.get $p))
)
