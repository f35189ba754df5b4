package dataset

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestParquetPeakMemoryBounded: reading a file with ten times the row
// groups holds at most a little more memory at its peak than reading one
// (the reader streams row group by row group). Memory is counted by the
// allocator, so the figures do not depend on timing.
func TestParquetPeakMemoryBounded(t *testing.T) {
	ctx := context.Background()
	write := func(rows int) string {
		dir := t.TempDir()
		s, err := OpenSink(ctx, dir, FormatParquet, WithRowGroupRows(10_000))
		if err != nil {
			t.Fatal(err)
		}
		rec := benchBatch(memory.DefaultAllocator, rows)
		writeSplits(t, s, []Split{{Index: 0, ID: "m"}}, []arrow.RecordBatch{rec})
		rec.Release()
		s.Close(ctx)
		files, _ := filepath.Glob(filepath.Join(dir, "part-*"))
		return files[0]
	}
	p1 := parquetPeak(t, write(20_000))
	p10 := parquetPeak(t, write(200_000))
	t.Logf("peak %d bytes for 2 row groups, %d for 20", p1, p10)
	if p10 > p1+p1/4 {
		t.Errorf("peak %d bytes for 10× the rows, %d for 1×: want at most 1.25×", p10, p1)
	}
}
