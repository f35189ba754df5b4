package host

// Copies of batch data into and out of guest memory.
//
// Go's copy (runtime.memmove) on amd64 writes with non-temporal stores once
// one copy reaches 1 MiB: the destination bypasses the caches, which suits
// data nobody reads soon. The host's copies are read at once: the guest
// reads its input, the copy out reads the guest's output, the caller reads
// the batch. So for a batch that fits in cache the host copies in chunks
// below that size, with ordinary stores, and the next step finds the bytes
// in cache. Measured on the project's 2-core EPYC (32 MiB L3), two chained
// copies (A to B, then B to C) take 0.57× the time of two plain ones at
// 1 MiB, 0.52× at 4 MiB, about the same at 16 MiB and 1.15× at 64 MiB;
// BenchmarkIdentity shows the effect on a round trip. A larger batch would
// not stay in cache anyway, and there one plain copy, which does not read
// the destination first, moves less memory. cachedBatchMax leaves room for
// a smaller cache than that machine's.
const (
	copyChunk      = 128 << 10 // bytes per copy call in a chunked copy
	cachedBatchMax = 8 << 20   // batches up to this size are copied in chunks
)

// copyData is copy(dst, src), in chunks when cached is set.
func copyData(dst, src []byte, cached bool) int {
	n := min(len(dst), len(src))
	if !cached || n <= copyChunk {
		return copy(dst, src)
	}
	for off := 0; off < n; off += copyChunk {
		end := min(off+copyChunk, n)
		copy(dst[off:end], src[off:end])
	}
	return n
}
