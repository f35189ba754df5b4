// Command gen writes the quickstart's sample data: images.arrow (eight small
// RGB images as an arrow.fixed_shape_tensor column, with their paths) and
// readings.parquet (a table of sensor readings). The files are committed;
// run `go run ./examples/quickstart/gen examples/quickstart` to remake them.
package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/wasinfer/wasinfer/tensor"
)

const h, w, c = 16, 16, 3

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := writeImages(filepath.Join(dir, "images.arrow")); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := writeReadings(filepath.Join(dir, "readings.parquet")); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// writeImages draws eight patterns: gradients, stripes and a checkerboard.
func writeImages(path string) error {
	mem := memory.DefaultAllocator
	typ, err := tensor.NewFixedShapeType(arrow.PrimitiveTypes.Uint8, []int{h, w, c}, tensor.WithDimNames("H", "W", "C"))
	if err != nil {
		return err
	}
	names := []string{"red-gradient", "green-gradient", "blue-gradient", "stripes", "checker", "diagonal", "rings", "black"}
	vals := make([]uint8, 0, len(names)*h*w*c)
	for k := range names {
		for y := range h {
			for x := range w {
				r, g, b := pixel(k, x, y)
				vals = append(vals, r, g, b)
			}
		}
	}
	img, err := tensor.NewArray(mem, typ, vals, nil)
	if err != nil {
		return err
	}
	defer img.Release()
	pb := array.NewStringBuilder(mem)
	defer pb.Release()
	for _, n := range names {
		pb.Append("images/" + n + ".png")
	}
	paths := pb.NewArray()
	defer paths.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "path", Type: arrow.BinaryTypes.String}, {Name: "image", Type: typ}}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{paths, img}, int64(len(names)))
	defer rec.Release()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	iw, err := ipc.NewFileWriter(f, ipc.WithSchema(schema))
	if err != nil {
		f.Close()
		return err
	}
	if err := iw.Write(rec); err != nil {
		f.Close()
		return err
	}
	if err := iw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func pixel(k, x, y int) (r, g, b uint8) {
	v := uint8(x * 255 / (w - 1))
	switch k {
	case 0:
		return v, 0, 0
	case 1:
		return 0, v, 0
	case 2:
		return 0, 0, v
	case 3:
		if x/2%2 == 0 {
			return 255, 255, 255
		}
		return 0, 0, 0
	case 4:
		if (x/4+y/4)%2 == 0 {
			return 255, 255, 255
		}
		return 0, 0, 0
	case 5:
		d := uint8((x + y) * 255 / (w + h - 2))
		return d, 255 - d, 128
	case 6:
		dist := math.Hypot(float64(x-w/2), float64(y-h/2))
		s := uint8(127 + 127*math.Cos(dist))
		return s, s, s
	}
	return 0, 0, 0
}

// writeReadings writes 200 sensor readings in two row groups.
func writeReadings(path string) error {
	mem := memory.DefaultAllocator
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "value", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "sensor", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := range 200 {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%17 == 5 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Int64Builder).Append(int64((i * 37) % 101))
		}
		b.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("sensor-%c", 'a'+i%4))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	pw, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(100)), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		f.Close()
		return err
	}
	if err := pw.Write(rec); err != nil {
		pw.Close()
		return err
	}
	return pw.Close()
}
