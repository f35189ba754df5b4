package udfs

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/host"
)

var benchBaseline = flag.String("udfs.baseline", "", "a directory of other builds of the modules (`DIR/NAME.wasm`, e.g. from an earlier commit) that the row-copy benchmarks also run, in the same loop")

// cIdentity is the C SDK's identity guest: its output aliases the input,
// so a round trip through it is the host's copy in and copy out alone.
const cIdentity = "../sdk/c/examples/identity/identity.wasm"

func loadForBench(ctx context.Context, b *testing.B, path, config string) *host.UDF {
	b.Helper()
	return loadUDF(ctx, b, path, config, host.WithCacheDir(filepath.Join(os.TempDir(), "wasinfer-udfs-bench")))
}

// benchCopy times rec through identity and through each module, interleaved
// in one loop so that a shared machine's drift hits every side alike.
//
// Metrics: ns/op and MB/s (input bytes) are the first module's (the
// committed build); x_identity is its time ÷ identity's on the same batch
// (1 would be a module that copies nothing the host does not); with a
// baseline, baseline_x_identity is the baseline's and speedup the
// baseline's time ÷ the committed build's. allocs/op and B/op count every
// side.
func benchCopy(ctx context.Context, b *testing.B, identity *host.UDF, mods []*host.UDF, rec arrow.RecordBatch, bytes int64) {
	all := append([]*host.UDF{identity}, mods...)
	for _, u := range all {
		out, err := u.Transform(ctx, 0, rec) // the input block grows, the output schema is fixed
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
	times := make([]time.Duration, 1+len(mods))
	b.SetBytes(bytes)
	b.ReportAllocs()
	for b.Loop() {
		for i, u := range all {
			t0 := time.Now()
			out, err := u.Transform(ctx, 0, rec)
			if err != nil {
				b.Fatal(err)
			}
			out.Release()
			times[i] += time.Since(t0)
		}
	}
	n := float64(b.N)
	id, mod := float64(times[0])/n, float64(times[1])/n
	b.ReportMetric(mod, "ns/op")
	b.ReportMetric(float64(bytes)/mod*1e3, "MB/s")
	b.ReportMetric(float64(rec.NumRows())/mod*1e9, "rows/s")
	b.ReportMetric(mod/id, "x_identity")
	if len(mods) > 1 {
		base := float64(times[2]) / n
		b.ReportMetric(base/id, "baseline_x_identity")
		b.ReportMetric(base/mod, "speedup")
	}
}

// loadCopyModules loads the committed build of module name and, with
// -udfs.baseline, the baseline build.
func loadCopyModules(ctx context.Context, b *testing.B, name, config string) []*host.UDF {
	b.Helper()
	mods := []*host.UDF{loadForBench(ctx, b, filepath.Join(name, name+".wasm"), config)}
	if *benchBaseline != "" {
		mods = append(mods, loadForBench(ctx, b, filepath.Join(*benchBaseline, name+".wasm"), config))
	}
	return mods
}

func closeAll(ctx context.Context, us ...*host.UDF) {
	for _, u := range us {
		_ = u.Close(ctx)
	}
}

// imageRows is rows 480 × 640 × 3 uint8 image tensors, a float32 score
// per row (rows alternate 0.9 and 0.1) and an int64 id: the columns a
// filter copies.
func imageRows(mem memory.Allocator, rows int) arrow.RecordBatch {
	const h, w = 480, 640
	img := make([]uint8, rows*h*w*3)
	for i := range img {
		img[i] = uint8(i * 7)
	}
	scores := make([]float32, rows)
	ids := make([]int64, rows)
	for r := range rows {
		scores[r], ids[r] = 0.9, int64(r)
		if r%2 == 1 {
			scores[r] = 0.1
		}
	}
	return batch(col{name: "id", arr: int64Col(mem, ids...)},
		col{name: "score", arr: float32Col(mem, scores, nil), nullable: true},
		col{name: "image", arr: tensorCol(mem, arrow.PrimitiveTypes.Uint8, []int{h, w, 3}, img, nil), nullable: true})
}

// BenchmarkThresholdFilter copies 640 × 480 RGB image rows (8 of them,
// 7.4 MB) through threshold_filter (udfs_take in include/udfs.h): every
// row kept (one run of rows) or every other row (runs of one row).
func BenchmarkThresholdFilter(b *testing.B) {
	ctx := context.Background()
	identity := loadForBench(ctx, b, cIdentity, "")
	rec := imageRows(memory.DefaultAllocator, 8)
	defer rec.Release()
	for _, keep := range []struct{ name, config string }{
		{"all", `{"threshold": 0}`},
		{"half", `{"threshold": 0.5}`},
	} {
		mods := loadCopyModules(ctx, b, "threshold_filter", keep.config)
		b.Run(fmt.Sprintf("rows=8/keep=%s", keep.name), func(b *testing.B) {
			benchCopy(ctx, b, identity, mods, rec, recBytes(rec))
		})
		closeAll(ctx, mods...)
	}
	closeAll(ctx, identity)
}

// BenchmarkOCRDBPost explodes 4 rows of a 480 × 640 probability map with
// three text lines each, carrying the 640 × 480 RGB image, into 12 rows:
// the image is copied once per box (ocr_db_post's copy of the other
// columns, udfs_take).
func BenchmarkOCRDBPost(b *testing.B) {
	ctx := context.Background()
	const rows, h, w = 4, 480, 640
	mem := memory.DefaultAllocator
	m := newOCRMap(h, w, 0.02).rect(40, 40, 600, 80, 0.9, 0).rect(40, 200, 400, 240, 0.85, 0).rect(100, 360, 560, 400, 0.8, 0)
	var probs, frames []float32
	img := make([]uint8, rows*h*w*3)
	for i := range img {
		img[i] = uint8(i * 7)
	}
	for range rows {
		probs = append(probs, m.p...)
		frames = append(frames, 1, 1, w, h)
	}
	f32 := arrow.PrimitiveTypes.Float32
	rec := batch(col{name: "image", arr: tensorCol(mem, arrow.PrimitiveTypes.Uint8, []int{h, w, 3}, img, nil), nullable: true},
		col{name: "prob", arr: tensorCol(mem, f32, []int{1, h, w}, probs, nil), nullable: true},
		col{name: "det_frame", arr: tensorCol(mem, f32, []int{4}, frames, nil), nullable: true})
	defer rec.Release()
	identity := loadForBench(ctx, b, cIdentity, "")
	mods := loadCopyModules(ctx, b, "ocr_db_post", "{}")
	out, err := mods[0].Transform(ctx, 0, rec)
	if err != nil {
		b.Fatal(err)
	}
	boxes := out.NumRows()
	out.Release()
	b.Run(fmt.Sprintf("rows=%d/boxes=%d", rows, boxes), func(b *testing.B) {
		benchCopy(ctx, b, identity, mods, rec, recBytes(rec))
	})
	closeAll(ctx, append(mods, identity)...)
}

// recBytes is the size of rec's buffers.
func recBytes(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += arraySize(c.Data())
	}
	return n
}

func arraySize(d arrow.ArrayData) int64 {
	var n int64
	for _, buf := range d.Buffers() {
		if buf != nil {
			n += int64(buf.Len())
		}
	}
	for _, c := range d.Children() {
		n += arraySize(c)
	}
	return n
}
