package host

// Copies of batch data into and out of guest memory.
//
// Go's copy (runtime.memmove) on amd64 writes with non-temporal stores once
// one copy reaches 1 MiB: the destination bypasses the caches, which suits
// data nobody reads soon. The host's copies are read at once: the guest
// reads its input, the copy out reads the guest's output, the caller reads
// the batch. So for a batch that fits in cache the host copies in chunks
// below that size, with ordinary stores, and the next step finds the bytes
// in cache (on this project's 2-core EPYC: two chained 1 MiB copies take
// 0.55× the time of two plain ones, 4 MiB 0.5×; BenchmarkIdentity). A
// larger batch would not stay in cache anyway, and there one plain copy,
// which does not read the destination first, moves less memory.
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
