package dataset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	_ "github.com/wasinfer/wasinfer/tensor" // tensor columns read back as tensors
)

// parquetBufferSize is the read buffer of one column chunk: pages are read
// through it, so a reader never holds a whole column chunk.
const parquetBufferSize = 1 << 20

// ParquetSource reads Parquet files with arrow-go's pqarrow, one row group
// at a time: a reader holds one row group's pages of the projected columns
// (read through a 1 MiB buffer per column), never the whole file.
//
// Splits: one per row group ("data/a.parquet#rg=3"), or one per file
// ("data/a.parquet") when the file has a single row group. Rows are known.
// Every file must have the schema of the first one (after projection).
// Tensor columns written with the Arrow schema stored (as [ParquetSink]
// does) read back as arrow.fixed_shape_tensor.
type ParquetSource struct {
	base
	cfg    config
	files  []inputFile
	parts  []pqPart
	leaves [][]int       // per file: leaf column indices of the projection, nil for all
	convs  [][]converter // per file and column: how to restore the written type
}

type pqPart struct {
	file, rowGroup int
}

// OpenParquet lists the row groups of the Parquet files named by inputs
// (files, directories, glob patterns; see [ExpandPaths]). It reads each
// file's footer, not its data.
//
// Options: [WithBatchSize], [WithColumns], [WithLimit], [WithAllocator],
// [WithBaseDir], [WithExtensions].
//
// # Errors
//
// [ErrNoInput] for inputs that match no file; [ErrCorrupt] for a file that
// is not Parquet (bad magic, truncated footer), naming it;
// [ErrSchemaMismatch] for a file whose schema differs from the first; an
// error naming a column of [WithColumns] that no file has.
func OpenParquet(ctx context.Context, inputs []string, opts ...Option) (*ParquetSource, error) {
	cfg := newConfig(FormatParquet, opts)
	files, err := expand(cfg.baseDir, inputs, extensionsFor(FormatParquet, &cfg))
	if err != nil {
		return nil, err
	}
	s := &ParquetSource{cfg: cfg, files: files, leaves: make([][]int, len(files)), convs: make([][]converter, len(files))}
	s.format = FormatParquet
	for fi, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pf, fr, err := s.openFile(f.path)
		if err != nil {
			return nil, err
		}
		schema, leaves, err := projectParquet(fr, cfg.columns, f.path)
		if err == nil {
			origin := fr.Manifest.OriginSchema
			if v := pf.MetaData().KeyValueMetadata().FindValue(arrowSchemaKey); v != nil {
				if o, err := decodeSchema(*v, cfg.mem); err == nil {
					origin = o
				}
			}
			schema, s.convs[fi] = restoreOrigin(stripFieldIDs(schema), origin)
		}
		if err == nil {
			s.leaves[fi] = leaves
			if s.schema == nil {
				s.schema = schema
			} else if d := schemaDiff(s.schema, schema); d != "" {
				err = fmt.Errorf("%w: %s: %s (the first file, %s, has schema %s)", ErrSchemaMismatch, f.path, d, files[0].path, s.schema)
			}
		}
		if err == nil {
			md := pf.MetaData()
			n := md.NumRowGroups()
			if n <= 1 {
				s.splits = append(s.splits, Split{Index: len(s.splits), ID: f.id, Rows: md.NumRows, Fingerprint: f.fingerprint()})
				s.parts = append(s.parts, pqPart{file: fi, rowGroup: min(n, 1) - 1})
			}
			for rg := 0; n > 1 && rg < n; rg++ {
				s.splits = append(s.splits, Split{
					Index: len(s.splits), ID: fmt.Sprintf("%s#rg=%d", f.id, rg),
					Rows: md.RowGroup(rg).NumRows(), Fingerprint: f.fingerprint() + fmt.Sprintf(",rg=%d", rg),
				})
				s.parts = append(s.parts, pqPart{file: fi, rowGroup: rg})
			}
		}
		pf.Close()
		if err != nil {
			return nil, err
		}
	}
	s.openSplit = s.open
	if err := s.applyLimit(ctx, cfg.limit); err != nil {
		return nil, err
	}
	return s, nil
}

// openFile opens a Parquet file and its Arrow reader; the caller closes
// the returned *file.Reader (which closes the file).
func (s *ParquetSource) openFile(path string) (pf *file.Reader, fr *pqarrow.FileReader, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("dataset: opening parquet file: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = corrupt(path, "reading the parquet footer", fmt.Errorf("%v", r))
		}
		if err != nil {
			f.Close()
		}
	}()
	props := parquet.NewReaderProperties(s.cfg.mem)
	props.BufferedStreamEnabled = true
	props.BufferSize = parquetBufferSize
	pf, err = file.NewParquetReader(f, file.WithReadProps(props))
	if err != nil {
		return nil, nil, corrupt(path, "reading the parquet footer", err)
	}
	if v := pf.MetaData().KeyValueMetadata().FindValue(pqarrowSchemaKey); v != nil {
		if err := checkStoredSchema(*v); err != nil { // pqarrow decodes it with arrow-go's IPC reader
			return nil, nil, corrupt(path, "reading the parquet schema: the stored Arrow schema ("+pqarrowSchemaKey+")", err)
		}
	}
	fr, err = pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(s.cfg.batchSize)}, s.cfg.mem)
	if err != nil {
		return nil, nil, corrupt(path, "reading the parquet schema", err)
	}
	return pf, fr, nil
}

// projectParquet returns the Arrow schema of the projection and the leaf
// column indices it reads (nil: every column).
func projectParquet(fr *pqarrow.FileReader, columns []string, path string) (*arrow.Schema, []int, error) {
	full, err := fr.Schema()
	if err != nil {
		return nil, nil, corrupt(path, "reading the parquet schema", err)
	}
	if columns == nil {
		return full, nil, nil
	}
	var fields []arrow.Field
	var leaves []int
	for _, name := range columns {
		idx := full.FieldIndices(name)
		if len(idx) == 0 {
			return nil, nil, fmt.Errorf("dataset: %s: no column %q (columns: %s)", path, name, strings.Join(fieldNames(full), ", "))
		}
		fields = append(fields, full.Field(idx[0]))
		var walk func(sf *pqarrow.SchemaField)
		walk = func(sf *pqarrow.SchemaField) {
			if sf.IsLeaf() {
				leaves = append(leaves, sf.ColIndex)
			}
			for i := range sf.Children {
				walk(&sf.Children[i])
			}
		}
		walk(&fr.Manifest.Fields[idx[0]])
	}
	if len(leaves) == 0 { // only zero-leaf columns: pqarrow reads all for nil
		leaves = []int{}
	}
	md := full.Metadata()
	return arrow.NewSchema(fields, &md), leaves, nil
}

func fieldNames(s *arrow.Schema) []string {
	out := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		out[i] = f.Name
	}
	return out
}

// schemaDiff describes how b's fields differ from a's ("" when they have
// the same names, types and nullability; metadata is not compared).
func schemaDiff(a, b *arrow.Schema) string {
	if a.NumFields() != b.NumFields() {
		return fmt.Sprintf("%d columns, want %d", b.NumFields(), a.NumFields())
	}
	for i, fa := range a.Fields() {
		fb := b.Field(i)
		switch {
		case fa.Name != fb.Name:
			return fmt.Sprintf("column %d is %q, want %q", i, fb.Name, fa.Name)
		case !arrow.TypeEqual(fa.Type, fb.Type):
			return fmt.Sprintf("column %q is %s, want %s", fa.Name, fb.Type, fa.Type)
		case fa.Nullable != fb.Nullable:
			return fmt.Sprintf("column %q nullable %v, want %v", fa.Name, fb.Nullable, fa.Nullable)
		}
	}
	return ""
}

func (s *ParquetSource) open(ctx context.Context, i int) (Reader, error) {
	p := s.parts[i]
	path := s.files[p.file].path
	r := &parquetReader{schema: s.schema, path: path, split: s.splits[i].ID, convs: s.convs[p.file], mem: s.cfg.mem}
	if p.rowGroup < 0 {
		return r, nil // a file without row groups: no rows
	}
	if s.schema.NumFields() == 0 { // pqarrow reads no row group without a leaf
		r.noCols = s.splits[i].Rows
		return r, nil
	}
	pf, fr, err := s.openFile(path)
	if err != nil {
		return nil, err
	}
	if fi := s.files[p.file]; pf.MetaData().NumRowGroups() <= p.rowGroup {
		pf.Close()
		return nil, fmt.Errorf("%w: %s changed since the source was opened (%s)", ErrFingerprint, path, fi.fingerprint())
	}
	err = guard(path, "opening row group", func() error {
		var err error
		r.rr, err = fr.GetRecordReader(ctx, s.leaves[p.file], []int{p.rowGroup})
		return err
	})
	if err != nil {
		pf.Close()
		return nil, corrupt(path, fmt.Sprintf("opening row group %d", p.rowGroup), err)
	}
	r.pf = pf
	return r, nil
}

// guard runs f and turns a panic inside arrow-go's Parquet code (which it
// can raise on corrupt input) into an error.
func guard(path, doing string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", doing, r)
		}
	}()
	return f()
}

type parquetReader struct {
	schema *arrow.Schema
	path   string
	split  string
	pf     *file.Reader
	rr     pqarrow.RecordReader
	noCols int64 // rows of a split read without columns
	convs  []converter
	mem    memory.Allocator
}

func (r *parquetReader) Read(ctx context.Context) (arrow.RecordBatch, error) {
	if r.noCols > 0 {
		n := r.noCols
		r.noCols = 0
		return array.NewRecordBatch(r.schema, nil, n), nil
	}
	if r.rr == nil {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rec arrow.RecordBatch
	err := guard(r.path, "reading", func() error {
		if !r.rr.Next() {
			if err := r.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			return io.EOF
		}
		rec = r.rr.RecordBatch()
		return nil
	})
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, corrupt(r.path, "reading "+r.split, err)
	}
	if rec.Schema() == r.schema {
		rec.Retain()
		return rec, nil
	}
	// Each file has its own schema value (and maybe other metadata): give
	// the batch the source's, whose types lack pqarrow's unset field IDs.
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, c := range rec.Columns() {
		if r.convs[i] == nil {
			cols[i] = retype(c, r.schema.Field(i).Type)
			continue
		}
		var err error
		if cols[i], err = r.convs[i](c, r.mem); err != nil {
			return nil, fmt.Errorf("dataset: %s: column %q: restoring its type %s: %w", r.path, r.schema.Field(i).Name, r.schema.Field(i).Type, err)
		}
	}
	return array.NewRecordBatch(r.schema, cols, rec.NumRows()), nil
}

func (r *parquetReader) Close() error {
	if r.rr != nil {
		r.rr.Release()
		r.rr = nil
	}
	if r.pf != nil {
		err := r.pf.Close()
		r.pf = nil
		return err
	}
	return nil
}

// fieldIDKey is the field metadata key under which pqarrow reports a
// Parquet field ID; "-1" (no ID) is dropped from the source's schema, so a
// column reads back with the metadata it was written with.
const fieldIDKey = "PARQUET:field_id"

func stripFieldIDs(s *arrow.Schema) *arrow.Schema {
	fields := s.Fields()
	for i := range fields {
		fields[i] = stripField(fields[i])
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md)
}

func stripField(f arrow.Field) arrow.Field {
	if v, ok := f.Metadata.GetValue(fieldIDKey); ok && v == "-1" {
		var keys, vals []string
		for i, k := range f.Metadata.Keys() {
			if k != fieldIDKey {
				keys = append(keys, k)
				vals = append(vals, f.Metadata.Values()[i])
			}
		}
		f.Metadata = arrow.NewMetadata(keys, vals)
	}
	f.Type = stripType(f.Type)
	return f
}

func stripType(dt arrow.DataType) arrow.DataType {
	switch t := dt.(type) {
	case *arrow.StructType:
		fields := t.Fields()
		for i := range fields {
			fields[i] = stripField(fields[i])
		}
		return arrow.StructOf(fields...)
	case *arrow.MapType:
		kf, vf := stripField(t.KeyField()), stripField(t.ItemField())
		m := arrow.MapOfFields(kf, vf)
		m.KeysSorted = t.KeysSorted
		return m
	case *arrow.ListType:
		return arrow.ListOfField(stripField(t.ElemField()))
	case *arrow.LargeListType:
		return arrow.LargeListOfField(stripField(t.ElemField()))
	case *arrow.FixedSizeListType:
		return arrow.FixedSizeListOfField(t.Len(), stripField(t.ElemField()))
	}
	return dt
}

// retype returns arr with type dt, which has arr's layout (the same buffers
// and children).
func retype(arr arrow.Array, dt arrow.DataType) arrow.Array {
	if arr.DataType() == dt || (arr.DataType().String() == dt.String() && arrow.TypeEqual(arr.DataType(), dt, arrow.CheckMetadata())) {
		arr.Retain()
		return arr
	}
	d := retypeData(arr.Data(), dt)
	defer d.Release()
	return array.MakeFromData(d)
}

func retypeData(d arrow.ArrayData, dt arrow.DataType) arrow.ArrayData {
	var childTypes []arrow.DataType
	switch t := dt.(type) {
	case *arrow.StructType:
		for _, f := range t.Fields() {
			childTypes = append(childTypes, f.Type)
		}
	case *arrow.MapType:
		childTypes = []arrow.DataType{t.Elem()}
	case arrow.ListLikeType:
		childTypes = []arrow.DataType{t.Elem()}
	}
	children := make([]arrow.ArrayData, len(d.Children()))
	for i, c := range d.Children() {
		if i < len(childTypes) {
			children[i] = retypeData(c, childTypes[i])
		} else {
			c.Retain()
			children[i] = c
		}
	}
	out := array.NewData(dt, d.Len(), d.Buffers(), children, d.NullN(), d.Offset())
	for _, c := range children {
		c.Release()
	}
	return out
}

// restoreOrigin gives each field of s the type of the same-named field of
// the Arrow schema stored in the file (origin, may be nil) where the two
// have one layout and differ only in child names, nullability or metadata
// (pqarrow names a list's element "element" whatever it was written as),
// or where a converter restores the type exactly (restoreType). convs[i]
// is that converter, nil where the column only needs its type relabelled.
func restoreOrigin(s, origin *arrow.Schema) (_ *arrow.Schema, convs []converter) {
	convs = make([]converter, s.NumFields())
	if origin == nil {
		return s, convs
	}
	fields := s.Fields()
	for i, f := range fields {
		idx := origin.FieldIndices(f.Name)
		if len(idx) != 1 {
			continue
		}
		o := origin.Field(idx[0])
		if sameLayout(o.Type, f.Type) {
			fields[i].Type = o.Type
			fields[i].Metadata = o.Metadata
		} else if c := restoreType(o.Type, f.Type); c != nil {
			fields[i].Type = o.Type
			fields[i].Metadata = o.Metadata
			convs[i] = c
		}
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md), convs
}

// sameLayout reports whether arrays of a and b have the same buffers and
// children, names aside.
func sameLayout(a, b arrow.DataType) bool {
	if a.ID() != b.ID() {
		return false
	}
	switch at := a.(type) {
	case *arrow.FixedSizeListType:
		bt := b.(*arrow.FixedSizeListType)
		return at.Len() == bt.Len() && sameLayout(at.Elem(), bt.Elem())
	case arrow.ListLikeType:
		return sameLayout(at.Elem(), b.(arrow.ListLikeType).Elem())
	case *arrow.StructType:
		bt := b.(*arrow.StructType)
		if at.NumFields() != bt.NumFields() {
			return false
		}
		for i := range at.NumFields() {
			if !sameLayout(at.Field(i).Type, bt.Field(i).Type) {
				return false
			}
		}
		return true
	case arrow.ExtensionType:
		bt := b.(arrow.ExtensionType)
		return at.ExtensionName() == bt.ExtensionName() && at.Serialize() == bt.Serialize() && sameLayout(at.StorageType(), bt.StorageType())
	}
	return arrow.TypeEqual(a, b)
}
