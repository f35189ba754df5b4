//go:build !unix

package host

import "errors"

// reservable is false: guest memory is wazero's own (a Go slice).
const reservable = false

var pageSize = 1 << 16

func reserve(uint64) ([]byte, error) {
	return nil, errors.New("host: no reservable address space on this platform")
}

func commit([]byte) error { return errors.New("host: no reservable address space on this platform") }

func release([]byte) error { return nil }
