package scheduler

import (
	"bufio"
	"bytes"
	"os"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
)

// A charge is the memory of one set of Arrow buffers (a batch read from the
// source, a stage's output, a concatenation), counted against the budget
// once however many slices of it are alive. refs counts the envelopes
// holding it; all fields are guarded by the run's mutex.
type charge struct {
	bytes int64
	refs  int
}

// recordBytes is the total length of the buffers reachable from rec (each
// buffer counted once even when several columns share it). A slice counts
// its parent's whole buffers: they stay alive as long as the slice does.
func recordBytes(rec arrow.RecordBatch) int64 {
	seen := map[*byte]bool{}
	var n int64
	var walk func(d arrow.ArrayData)
	walk = func(d arrow.ArrayData) {
		if d == nil {
			return
		}
		for _, b := range d.Buffers() {
			if b == nil || b.Len() == 0 {
				continue
			}
			p := &b.Bytes()[0]
			if seen[p] {
				continue
			}
			seen[p] = true
			n += int64(b.Len())
		}
		for _, c := range d.Children() {
			walk(c)
		}
		if d.DataType().ID() == arrow.DICTIONARY {
			walk(d.Dictionary())
		}
	}
	for _, c := range rec.Columns() {
		walk(c.Data())
	}
	return n
}

// peakRSS is the process's peak resident set (VmHWM in /proc/self/status),
// in bytes, or 0 where it cannot be read (not Linux).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		if rest, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			f := bytes.Fields(rest)
			if len(f) == 0 {
				return 0
			}
			kb, err := strconv.ParseInt(string(f[0]), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
