package wasinfer

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// column is one column of the test corpus: a type and its values as JSON
// (array.FromJSON syntax), five rows each.
type column struct {
	name     string
	dt       arrow.DataType
	json     string
	nullable bool
	md       map[string]string
}

func corpusColumns() []column {
	i32 := arrow.PrimitiveTypes.Int32
	str := arrow.BinaryTypes.String
	point := arrow.StructOf(
		arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		arrow.Field{Name: "tags", Type: arrow.ListOf(str), Nullable: true},
	)
	sortedMap := arrow.MapOf(str, arrow.PrimitiveTypes.Int64)
	sortedMap.KeysSorted = true
	return []column{
		{name: "null", dt: arrow.Null, json: `[null, null, null, null, null]`, nullable: true},
		{name: "bool", dt: arrow.FixedWidthTypes.Boolean, json: `[true, null, false, true, true]`, nullable: true},
		{name: "int8", dt: arrow.PrimitiveTypes.Int8, json: `[1, -2, null, 127, -128]`, nullable: true},
		{name: "uint8", dt: arrow.PrimitiveTypes.Uint8, json: `[1, 2, 3, 255, 0]`},
		{name: "int16", dt: arrow.PrimitiveTypes.Int16, json: `[1, null, 3, -32768, 32767]`, nullable: true},
		{name: "uint16", dt: arrow.PrimitiveTypes.Uint16, json: `[1, 2, null, 65535, 0]`, nullable: true},
		{name: "int32", dt: i32, json: `[1, 2, 3, null, -5]`, nullable: true},
		{name: "uint32", dt: arrow.PrimitiveTypes.Uint32, json: `[1, 2, 3, 4, 4294967295]`},
		{name: "int64", dt: arrow.PrimitiveTypes.Int64, json: `[null, 2, 3, 4, -9007199254740993]`, nullable: true},
		{name: "uint64", dt: arrow.PrimitiveTypes.Uint64, json: `[1, 2, 3, 4, 18446744073709551615]`, nullable: true},
		{name: "float16", dt: arrow.FixedWidthTypes.Float16, json: `[1.5, null, -2, 0, 65504]`, nullable: true},
		{name: "float32", dt: arrow.PrimitiveTypes.Float32, json: `[1.5, null, -2.25, 0, 3.4e38]`, nullable: true},
		{name: "float64", dt: arrow.PrimitiveTypes.Float64, json: `[1.5, 2.5, null, -0.0, 1e300]`, nullable: true},
		{name: "binary", dt: arrow.BinaryTypes.Binary, json: `["AAE=", null, "", "/w==", "aGk="]`, nullable: true},
		{name: "utf8", dt: str, json: `["a", "", null, "héllo", "日本"]`, nullable: true,
			md: map[string]string{"comment": "strings"}},
		{name: "large_binary", dt: arrow.BinaryTypes.LargeBinary, json: `["AAE=", "", null, "/w==", ""]`, nullable: true},
		{name: "large_utf8", dt: arrow.BinaryTypes.LargeString, json: `["x", null, "yz", "", "ü"]`, nullable: true},
		{name: "fsb", dt: &arrow.FixedSizeBinaryType{ByteWidth: 3}, json: `["AAEC", null, "AwQF", "BgcI", "CQoL"]`, nullable: true},
		{name: "dec128", dt: &arrow.Decimal128Type{Precision: 10, Scale: 2}, json: `["1.23", null, "-99999999.99", "0.00", "12.50"]`, nullable: true},
		{name: "dec256", dt: &arrow.Decimal256Type{Precision: 40, Scale: 5}, json: `["1.23456", "-1.00000", null, "0.00000", "123456789012345678901234567890.12345"]`, nullable: true},
		{name: "date32", dt: arrow.FixedWidthTypes.Date32, json: `["2024-01-02", null, "1970-01-01", "1969-12-31", "2000-02-29"]`, nullable: true},
		{name: "date64", dt: arrow.FixedWidthTypes.Date64, json: `["2024-01-02", "1970-01-01", null, "1969-12-31", "2000-02-29"]`, nullable: true},
		{name: "time32s", dt: arrow.FixedWidthTypes.Time32s, json: `["00:00:01", null, "23:59:59", "12:00:00", "00:00:00"]`, nullable: true},
		{name: "time32ms", dt: arrow.FixedWidthTypes.Time32ms, json: `["00:00:01.5", "12:00:00", null, "23:59:59.999", "00:00:00"]`, nullable: true},
		{name: "time64us", dt: arrow.FixedWidthTypes.Time64us, json: `["00:00:01.000001", null, "23:59:59", "12:00:00", "00:00:00"]`, nullable: true},
		{name: "time64ns", dt: arrow.FixedWidthTypes.Time64ns, json: `["00:00:01.000000001", "12:00:00", "23:59:59", null, "00:00:00"]`, nullable: true},
		{name: "ts_s", dt: &arrow.TimestampType{Unit: arrow.Second}, json: `["2024-01-02T03:04:05", null, "1970-01-01T00:00:00", "1960-01-01T00:00:00", "2038-01-19T03:14:08"]`, nullable: true},
		{name: "ts_ms_utc", dt: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, json: `["2024-01-02T03:04:05.678Z", null, "1970-01-01T00:00:00Z", "2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"]`, nullable: true},
		{name: "ts_us", dt: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "Europe/Paris"}, json: `[1, 2, null, 4, 5]`, nullable: true},
		{name: "ts_ns", dt: &arrow.TimestampType{Unit: arrow.Nanosecond}, json: `[1, null, 3, 4, 5]`, nullable: true},
		{name: "dur_s", dt: arrow.FixedWidthTypes.Duration_s, json: `[1, null, -3, 4, 5]`, nullable: true},
		{name: "dur_ms", dt: arrow.FixedWidthTypes.Duration_ms, json: `[1, 2, null, 4, 5]`, nullable: true},
		{name: "dur_us", dt: arrow.FixedWidthTypes.Duration_us, json: `[1, 2, 3, null, 5]`, nullable: true},
		{name: "dur_ns", dt: arrow.FixedWidthTypes.Duration_ns, json: `[1, 2, 3, 4, null]`, nullable: true},
		{name: "list", dt: arrow.ListOf(i32), json: `[[1, 2], null, [], [null, 4], [5]]`, nullable: true},
		{name: "large_list", dt: arrow.LargeListOf(str), json: `[["a"], [], null, ["b", null, "c"], ["d"]]`, nullable: true},
		{name: "fixed_list", dt: arrow.FixedSizeListOf(3, arrow.PrimitiveTypes.Float32), json: `[[1, 2, 3], null, [4, null, 6], [7, 8, 9], [0, 0, 0]]`, nullable: true},
		{name: "struct", dt: point, json: `[{"x": 1, "tags": ["a"]}, null, {"x": null, "tags": null}, {"x": 4, "tags": []}, {"x": 5, "tags": ["b", "c"]}]`, nullable: true},
		{name: "map", dt: sortedMap, json: `[[{"key": "a", "value": 1}], null, [], [{"key": "b", "value": null}, {"key": "c", "value": 3}], [{"key": "d", "value": 4}]]`, nullable: true},
		{name: "dict", dt: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: str, Ordered: true}, json: `["x", "y", null, "x", "z"]`, nullable: true},
		{name: "dict_u8", dt: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Uint8, ValueType: arrow.PrimitiveTypes.Int64}, json: `[10, 20, 10, null, 30]`, nullable: true},
		{name: "uuid", dt: extensions.NewUUIDType(), json: `["00000000-0000-0000-0000-000000000001", null, "f47ac10b-58cc-4372-a567-0e02b2c3d479", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"]`, nullable: true},
		{name: "nested", dt: arrow.ListOf(arrow.StructOf(arrow.Field{Name: "n", Type: arrow.LargeListOf(arrow.PrimitiveTypes.Int8), Nullable: true})),
			json: `[[{"n": [1, 2]}, {"n": null}], [], null, [{"n": []}], [{"n": [3]}, null]]`, nullable: true},
	}
}

// corpus builds the canonical batch: one column per corpus entry, five rows.
func corpus(t testing.TB, mem memory.Allocator) arrow.RecordBatch {
	t.Helper()
	var fields []arrow.Field
	var cols []arrow.Array
	for _, c := range corpusColumns() {
		a, _, err := array.FromJSON(mem, c.dt, strings.NewReader(c.json))
		if err != nil {
			t.Fatalf("building column %q: %v", c.name, err)
		}
		if a.Len() != 5 {
			t.Fatalf("column %q has %d rows", c.name, a.Len())
		}
		f := arrow.Field{Name: c.name, Type: c.dt, Nullable: c.nullable}
		if c.md != nil {
			f.Metadata = arrow.MetadataFrom(c.md)
		}
		fields, cols = append(fields, f), append(cols, a)
	}
	md := arrow.NewMetadata([]string{"source", "empty"}, []string{"corpus", ""})
	rec := array.NewRecordBatch(arrow.NewSchema(fields, &md), cols, 5)
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// storageField is f as a guest sees it: extension types replaced by their
// storage type, with the extension keys in the field metadata.
func storageField(f arrow.Field) arrow.Field {
	for {
		ext, ok := f.Type.(arrow.ExtensionType)
		if !ok {
			break
		}
		f.Metadata, f.Type = withExtension(f.Metadata, ext), ext.StorageType()
	}
	switch t := f.Type.(type) {
	case *arrow.ListType:
		f.Type = arrow.ListOfField(storageField(t.ElemField()))
	case *arrow.LargeListType:
		f.Type = arrow.LargeListOfField(storageField(t.ElemField()))
	case *arrow.FixedSizeListType:
		f.Type = arrow.FixedSizeListOfField(t.Len(), storageField(t.ElemField()))
	case *arrow.StructType:
		kids := make([]arrow.Field, t.NumFields())
		for i, k := range t.Fields() {
			kids[i] = storageField(k)
		}
		f.Type = arrow.StructOf(kids...)
	case *arrow.MapType:
		m := arrow.MapOfFields(storageField(t.KeyField()), storageField(t.ItemField()))
		m.KeysSorted = t.KeysSorted
		f.Type = m
	case *arrow.DictionaryType:
		f.Type = &arrow.DictionaryType{IndexType: t.IndexType, ValueType: storageField(arrow.Field{Type: t.ValueType}).Type, Ordered: t.Ordered}
	}
	return f
}

// storageData is d retyped to the guest's view of its type (same buffers).
func storageData(d arrow.ArrayData, dt arrow.DataType) *array.Data {
	kids := make([]arrow.ArrayData, len(d.Children()))
	switch t := dt.(type) {
	case *arrow.ListType:
		kids[0] = storageData(d.Children()[0], t.Elem())
	case *arrow.LargeListType:
		kids[0] = storageData(d.Children()[0], t.Elem())
	case *arrow.FixedSizeListType:
		kids[0] = storageData(d.Children()[0], t.Elem())
	case *arrow.MapType:
		kids[0] = storageData(d.Children()[0], t.Elem())
	case *arrow.StructType:
		for i := range kids {
			kids[i] = storageData(d.Children()[i], t.Field(i).Type)
		}
	}
	out := array.NewData(dt, d.Len(), d.Buffers(), kids, d.NullN(), d.Offset())
	for _, k := range kids {
		k.Release()
	}
	if dict := dictionaryOf(d); dict != nil {
		cd := storageData(dict, dt.(*arrow.DictionaryType).ValueType)
		out.SetDictionary(cd)
		cd.Release()
	}
	return out
}

// guestView is rec as the importer presents it.
func guestView(rec arrow.RecordBatch) arrow.RecordBatch {
	fields := make([]arrow.Field, rec.NumCols())
	cols := make([]arrow.Array, rec.NumCols())
	for i, f := range rec.Schema().Fields() {
		fields[i] = storageField(f)
		d := storageData(rec.Column(i).Data(), fields[i].Type)
		cols[i] = array.MakeFromData(d)
		d.Release()
	}
	md := rec.Schema().Metadata()
	out := array.NewRecordBatch(arrow.NewSchema(fields, &md), cols, rec.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return out
}

// assertSameBatch fails unless got equals want, schema metadata included.
func assertSameBatch(t *testing.T, want, got arrow.RecordBatch) {
	t.Helper()
	if !want.Schema().Equal(got.Schema()) || !want.Schema().Metadata().Equal(got.Schema().Metadata()) {
		t.Fatalf("schema:\n got %s\nwant %s", got.Schema(), want.Schema())
	}
	if got.NumRows() != want.NumRows() {
		t.Fatalf("rows: got %d, want %d", got.NumRows(), want.NumRows())
	}
	for i := range want.Columns() {
		if !array.Equal(want.Column(i), got.Column(i)) {
			t.Errorf("column %q:\n got %v\nwant %v", want.Schema().Field(i).Name, got.Column(i), want.Column(i))
		}
	}
}
