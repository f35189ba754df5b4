// Command split writes the digits model's held-out split, made by train.py
// as examples/digits/train/split.json, as examples/digits/data/test.parquet:
// columns pixels (arrow.fixed_shape_tensor<uint8>[8,8], values 0..16) and
// label (int64). Run it from the repository root after train.py:
//
//	go run ./examples/digits/train/split
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/wasinfer/wasinfer/tensor"
)

const (
	in  = "examples/digits/train/split.json"
	out = "examples/digits/data/test.parquet"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "split:", err)
		os.Exit(1)
	}
}

func run() error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("reading %s (run train.py first): %w", in, err)
	}
	var split struct {
		Pixels [][]uint8 `json:"pixels"`
		Label  []int64   `json:"label"`
	}
	if err := json.Unmarshal(raw, &split); err != nil {
		return fmt.Errorf("decoding %s: %w", in, err)
	}
	if len(split.Pixels) != len(split.Label) || len(split.Pixels) == 0 {
		return fmt.Errorf("%s: %d images, %d labels", in, len(split.Pixels), len(split.Label))
	}
	mem := memory.DefaultAllocator
	typ, err := tensor.NewFixedShapeType(arrow.PrimitiveTypes.Uint8, []int{8, 8}, tensor.WithDimNames("H", "W"))
	if err != nil {
		return err
	}
	var flat []uint8
	for i, p := range split.Pixels {
		if len(p) != 64 {
			return fmt.Errorf("%s: image %d has %d pixels, want 64", in, i, len(p))
		}
		flat = append(flat, p...)
	}
	pixels, err := tensor.NewArray(mem, typ, flat, nil)
	if err != nil {
		return err
	}
	defer pixels.Release()
	lb := array.NewInt64Builder(mem)
	defer lb.Release()
	lb.AppendValues(split.Label, nil)
	labels := lb.NewArray()
	defer labels.Release()

	// pqarrow writes a tensor column as its storage with the extension
	// named in the field metadata (see tensor/doc.go, "Parquet").
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "pixels", Type: typ.StorageType(), Metadata: arrow.NewMetadata(
			[]string{"ARROW:extension:name", "ARROW:extension:metadata"}, []string{typ.ExtensionName(), typ.Serialize()})},
		{Name: "label", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{pixels.Storage(), labels}, int64(len(split.Label)))
	defer rec.Release()

	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd)),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		f.Close()
		return err
	}
	if err := w.Write(rec); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Printf("split: %d rows -> %s\n", rec.NumRows(), out)
	return nil
}
