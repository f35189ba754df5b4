package dataset

import (
	"bytes"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ReadIPCFile decodes every record batch of an Arrow IPC file held in
// memory (name names it in errors), with the same checks of its metadata as
// the IPC source: untrusted bytes (a module manifest's test vectors, an
// upload) are refused with an ErrCorrupt error instead of crashing the
// process. The caller releases the batches; they are allocated with mem.
func ReadIPCFile(name string, data []byte, mem memory.Allocator) (recs []arrow.RecordBatch, err error) {
	err = guard(name, "reading", func() error {
		checked, err := checkIPCFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return err
		}
		r, err := ipc.NewFileReader(checked, ipc.WithAllocator(mem))
		if err != nil {
			return err
		}
		defer r.Close()
		for i := range r.NumRecords() {
			if err := checked.checkBatch(i); err != nil {
				return err
			}
			rec, err := r.RecordBatchAt(i)
			if err != nil {
				return fmt.Errorf("batch %d: %w", i, err)
			}
			recs = append(recs, rec)
		}
		return nil
	})
	if err != nil {
		for _, r := range recs {
			r.Release()
		}
		return nil, ipcCorrupt(name, "reading the Arrow IPC file", err)
	}
	return recs, nil
}
