//go:build unix

package host

import (
	"errors"
	"math/bits"
	"os"

	"golang.org/x/sys/unix"
)

// reservable: guest memory is reserved address space on 64-bit Unix; a
// 32-bit address space has no room for several memories of up to 4 GiB.
const reservable = bits.UintSize == 64

var pageSize = os.Getpagesize()

// reserve maps n bytes (rounded up to pages) of inaccessible, private,
// anonymous memory: address space only, no memory and no commit charge
// until commit.
func reserve(n uint64) ([]byte, error) {
	if n == 0 || n > 1<<32 {
		return nil, errors.New("host: reservation size out of range")
	}
	return unix.Mmap(-1, 0, roundUp(int(n), pageSize), unix.PROT_NONE, mapFlags)
}

// commit makes b, a page-aligned part of a reservation, readable and
// writable. Its pages are zero and become resident when first touched.
func commit(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return unix.Mprotect(b, unix.PROT_READ|unix.PROT_WRITE)
}

// release unmaps a whole reservation.
func release(region []byte) error { return unix.Munmap(region) }
