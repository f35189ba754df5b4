//go:build cgo

package reliability

import (
	"os/signal"
	"syscall"
)

// limitFileSize makes writes past n bytes of any file fail with EFBIG
// (RLIMIT_FSIZE), the signal the kernel sends with them ignored.
func limitFileSize(n int64) error {
	signal.Ignore(syscall.SIGXFSZ)
	return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: uint64(n), Max: uint64(n)})
}
