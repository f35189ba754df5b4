// Raw (unmanaged) memory for the ABI. Blocks come from AssemblyScript's TLSF
// heap through heap.alloc/heap.free: the garbage collector never sees them,
// so a block lives exactly until it is freed, whatever the runtime variant.

/** The largest block this SDK asks TLSF for (its limit is 1 GiB less headers). */
export const MAX_BLOCK: usize = (1 << 30) - 4096;

/** TLSF returns blocks aligned to this; larger alignments are padded. */
const HEAP_ALIGN: usize = 16;

/**
 * Allocates size bytes aligned to align (a power of two ≤ 64). Returns 0 for a
 * bad alignment or a size above MAX_BLOCK. Memory exhaustion inside TLSF traps
 * (AssemblyScript's allocator cannot report it); the host classifies that
 * trap as a memory error and replaces the instance, as it would after a 0.
 */
export function alignedAlloc(size: usize, align: usize): usize {
  if (align == 0 || (align & (align - 1)) != 0 || align > 64) return 0;
  if (align <= HEAP_ALIGN) {
    if (size > MAX_BLOCK) return 0;
    return heap.alloc(size);
  }
  if (size > MAX_BLOCK - align) return 0;
  // raw is 16-aligned, so at least 16 bytes precede the aligned pointer; the
  // 4 just below it keep raw for alignedFree.
  const raw = heap.alloc(size + align);
  const p = (raw + align) & ~(align - 1);
  store<u32>(p - 4, <u32>raw);
  return p;
}

/** Frees a block from alignedAlloc with the same align. ptr 0 is a no-op. */
export function alignedFree(ptr: usize, align: usize): void {
  if (ptr == 0) return;
  if (align <= HEAP_ALIGN) heap.free(ptr);
  else heap.free(<usize>load<u32>(ptr - 4));
}

/**
 * Arena: the blocks of one output batch. The output builder allocates every
 * structure, string and buffer it owns here; wasinfer_release (or a failed
 * transform) frees them all at once. The list of blocks is itself raw memory.
 */
export class Arena {
  private list: usize = 0; // u32 raw pointers
  private len: usize = 0;
  private cap: usize = 0;

  /** Allocates size bytes aligned to align (≤ 64), zeroed when zero is set. Aborts when memory runs out. */
  alloc(size: usize, align: usize, zero: bool): usize {
    if (size > MAX_BLOCK - 64) {
      throw new Error("wasinfer: output block of " + size.toString() + " bytes is over the 1 GiB limit");
    }
    if (this.len == this.cap) {
      const cap = this.cap == 0 ? <usize>64 : this.cap * 2;
      this.list = this.list == 0 ? heap.alloc(cap << 2) : heap.realloc(this.list, cap << 2);
      this.cap = cap;
    }
    let p: usize, raw: usize;
    if (align <= HEAP_ALIGN) {
      raw = heap.alloc(size);
      p = raw;
    } else {
      raw = heap.alloc(size + align);
      p = (raw + align) & ~(align - 1);
    }
    store<u32>(this.list + (this.len << 2), <u32>raw);
    this.len++;
    if (zero) memory.fill(p, 0, size);
    return p;
  }

  /** Frees every block. */
  reset(): void {
    for (let i: usize = 0; i < this.len; i++) {
      heap.free(<usize>load<u32>(this.list + (i << 2)));
    }
    this.len = 0;
  }

  /** Number of live blocks (for tests). */
  get blocks(): i32 {
    return <i32>this.len;
  }
}
