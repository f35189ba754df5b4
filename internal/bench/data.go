package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/wasinfer/wasinfer/dataset"
	"github.com/wasinfer/wasinfer/tensor"
)

// The end-to-end data set: the committed digits test split
// (examples/digits/data/test.parquet, 360 scans of 8×8 pixels 0..16 and
// their labels), repeated to the rows asked for, with the pixels as a
// tensor<uint8>[8, 8, 1] (a one-channel HWC image, what
// udfs/image_normalize reads) in row groups of digitsRowGroup rows (the
// splits) and batches of digitsBatch rows.
const (
	digitsRowGroup = 16384
	digitsBatch    = 256
)

// digitsPixels reads the committed split: 64 pixels per row, and labels.
func (e *env) digitsPixels(ctx context.Context) ([]uint8, []int64, error) {
	src, err := dataset.OpenParquet(ctx, []string{e.path(digitsTestData)})
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	sr := dataset.NewStreamReader(src, nil)
	defer sr.Close()
	recs, err := dataset.ReadAll(ctx, sr)
	if err != nil {
		return nil, nil, err
	}
	var pixels []uint8
	var labels []int64
	for _, rec := range recs {
		px, ok := rec.Column(0).(*tensor.FixedShapeArray)
		lb, ok2 := rec.Column(1).(*array.Int64)
		if !ok || !ok2 || px.TensorType().Size() != 64 {
			rec.Release()
			return nil, nil, fmt.Errorf("%s: schema %s, want pixels tensor<uint8>[8, 8] and label int64", digitsTestData, rec.Schema())
		}
		for i := range px.Len() {
			pixels = append(pixels, tensor.Row[uint8](px, i)...)
			labels = append(labels, lb.Value(i))
		}
		rec.Release()
	}
	return pixels, labels, nil
}

// digits returns a Parquet file of rows digits, made once per run.
func (e *env) digits(rows int) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.datasets[rows]; ok {
		return p, nil
	}
	pixels, labels, err := e.digitsPixels(context.Background())
	if err != nil {
		return "", err
	}
	path := filepath.Join(e.work, fmt.Sprintf("digits-%d.parquet", rows))
	if err := writeDigits(path, pixels, labels, rows); err != nil {
		return "", fmt.Errorf("writing the digits data set: %w", err)
	}
	e.datasets[rows] = path
	return path, nil
}

// digitsBinary returns a directory holding the data set of digits(rows)
// as wasinfer's Parquet sink writes it with the binary tensor layout
// (dataset.TensorLayoutBinary: one FIXED_LEN_BYTE_ARRAY(64) value per
// row), one file and row group per split of digitsRowGroup rows; made
// once per run.
func (e *env) digitsBinary(ctx context.Context, rows int) (string, error) {
	list, err := e.digits(rows)
	if err != nil {
		return "", err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.binaryDatasets[rows]; ok {
		return p, nil
	}
	dir := filepath.Join(e.work, fmt.Sprintf("digits-%d-binary", rows))
	if _, err := plainCopy(ctx, list, dir, dataset.WithTensorLayout(dataset.TensorLayoutBinary),
		dataset.WithRowGroupRows(digitsRowGroup), dataset.WithRowGroupBytes(1<<40), dataset.WithMaxFileBytes(0)); err != nil {
		return "", fmt.Errorf("writing the digits data set in the binary tensor layout: %w", err)
	}
	e.binaryDatasets[rows] = dir
	return dir, nil
}

func writeDigits(path string, pixels []uint8, labels []int64, rows int) error {
	mem := memory.DefaultAllocator
	typ, err := tensor.NewFixedShapeType(arrow.PrimitiveTypes.Uint8, []int{8, 8, 1}, tensor.WithDimNames("H", "W", "C"))
	if err != nil {
		return err
	}
	// The tensor column goes to Parquet as its storage with the extension
	// in the field metadata (tensor/doc.go, "Parquet").
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "pixels", Type: typ.StorageType(), Metadata: arrow.NewMetadata(
			[]string{"ARROW:extension:name", "ARROW:extension:metadata"}, []string{typ.ExtensionName(), typ.Serialize()})},
		{Name: "label", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	// The writer closes f.
	w, err := pqarrow.NewFileWriter(schema, f,
		parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithMaxRowGroupLength(digitsRowGroup)),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		_ = f.Close()
		return err
	}
	n := len(labels)
	for start := 0; start < rows; start += digitsRowGroup {
		m := min(digitsRowGroup, rows-start)
		flat := make([]uint8, 0, m*64)
		lab := make([]int64, 0, m)
		for i := range m {
			j := (start + i) % n
			flat = append(flat, pixels[j*64:(j+1)*64]...)
			lab = append(lab, labels[j])
		}
		px, err := tensor.NewArray(mem, typ, flat, nil)
		if err != nil {
			return err
		}
		lb := array.NewInt64Builder(mem)
		lb.AppendValues(lab, nil)
		la := lb.NewArray()
		lb.Release()
		rec := array.NewRecordBatch(schema, []arrow.Array{px.Storage(), la}, int64(m))
		err = w.Write(rec)
		rec.Release()
		px.Release()
		la.Release()
		if err != nil {
			_ = w.Close()
			return err
		}
	}
	return w.Close()
}

// e2eSpec is the end-to-end pipeline: Parquet → image_normalize (C: pixels
// / 16 as float32 [1, 8, 8]) → the digits CNN (ONNX Runtime, one actor,
// one intra-op thread) → argmax (AssemblyScript: the class and its logit)
// → Parquet. cacheDir is the UDFs' compilation cache ("" for the user's),
// layout the sink's parquet.tensor_layout ("" for the default).
func (e *env) e2eSpec(data, out, cacheDir, layout string) string {
	var b strings.Builder
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	fmt.Fprintf(&b, "source:\n  format: parquet\n  paths: [%s]\n  batch_size: %d\n", q(data), digitsBatch)
	fmt.Fprintf(&b, "stages:\n")
	fmt.Fprintf(&b, "  - name: normalize\n    udf: %s\n    concurrency: 1\n    config: {column: pixels, output: input, mean: [0], std: [1], range: 16}\n", q(e.path(imageNormWasm)))
	fmt.Fprintf(&b, "  - name: classify\n    model: %s\n    actors: 1\n    threads: %d\n    inputs: {pixels: input}\n    outputs: {logits: logits}\n    keep: [label]\n", q(e.path(digitsModel)), e2eThreads)
	fmt.Fprintf(&b, "  - name: argmax\n    udf: %s\n    concurrency: 1\n    config: {column: logits, output: prediction, score: logit}\n", q(e.path(argmaxWasm)))
	fmt.Fprintf(&b, "sink:\n  format: parquet\n  path: %s\n", q(out))
	if layout != "" {
		fmt.Fprintf(&b, "  parquet: {tensor_layout: %s}\n", layout)
	}
	if cacheDir != "" {
		fmt.Fprintf(&b, "run:\n  cache_dir: %s\n", q(cacheDir))
	}
	return b.String()
}

// e2eThreads is the model stage's intra-op thread count, and the bare
// session's.
const e2eThreads = 1
