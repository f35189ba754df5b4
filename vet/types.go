package vet

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wasinfer/wasinfer/manifest"
	"github.com/wasinfer/wasinfer/tensor"
)

var primitiveTypes = map[string]arrow.DataType{
	"null": arrow.Null, "bool": arrow.FixedWidthTypes.Boolean,
	"int8": arrow.PrimitiveTypes.Int8, "int16": arrow.PrimitiveTypes.Int16,
	"int32": arrow.PrimitiveTypes.Int32, "int64": arrow.PrimitiveTypes.Int64,
	"uint8": arrow.PrimitiveTypes.Uint8, "uint16": arrow.PrimitiveTypes.Uint16,
	"uint32": arrow.PrimitiveTypes.Uint32, "uint64": arrow.PrimitiveTypes.Uint64,
	"float16": arrow.FixedWidthTypes.Float16, "float32": arrow.PrimitiveTypes.Float32,
	"float64": arrow.PrimitiveTypes.Float64,
	"date32":  arrow.FixedWidthTypes.Date32, "date64": arrow.FixedWidthTypes.Date64,
	"utf8": arrow.BinaryTypes.String, "large_utf8": arrow.BinaryTypes.LargeString,
	"binary": arrow.BinaryTypes.Binary, "large_binary": arrow.BinaryTypes.LargeBinary,
}

var timeUnits = map[string]arrow.TimeUnit{"s": arrow.Second, "ms": arrow.Millisecond, "us": arrow.Microsecond, "ns": arrow.Nanosecond}

// arrowType builds the Arrow type of t, with the symbolic tensor dims bound
// by dims.
func arrowType(t *manifest.Type, dims map[string]int) (arrow.DataType, error) {
	if dt, ok := primitiveTypes[t.Kind]; ok {
		return dt, nil
	}
	switch t.Kind {
	case "fixed_size_binary":
		return &arrow.FixedSizeBinaryType{ByteWidth: t.Size}, nil
	case "decimal128":
		return &arrow.Decimal128Type{Precision: int32(t.Precision), Scale: int32(t.Scale)}, nil
	case "decimal256":
		return &arrow.Decimal256Type{Precision: int32(t.Precision), Scale: int32(t.Scale)}, nil
	case "time32":
		return &arrow.Time32Type{Unit: timeUnits[t.Unit]}, nil
	case "time64":
		return &arrow.Time64Type{Unit: timeUnits[t.Unit]}, nil
	case "timestamp":
		return &arrow.TimestampType{Unit: timeUnits[t.Unit], TimeZone: t.TZ}, nil
	case "duration":
		return &arrow.DurationType{Unit: timeUnits[t.Unit]}, nil
	case "list", "large_list", "fixed_size_list":
		elem, err := arrowType(t.Elem, dims)
		if err != nil {
			return nil, err
		}
		switch t.Kind {
		case "list":
			return arrow.ListOf(elem), nil
		case "large_list":
			return arrow.LargeListOf(elem), nil
		}
		return arrow.FixedSizeListOf(int32(t.Size), elem), nil
	case "struct":
		fields := make([]arrow.Field, len(t.Fields))
		for i, f := range t.Fields {
			ft, err := arrowType(f.Type, dims)
			if err != nil {
				return nil, err
			}
			fields[i] = arrow.Field{Name: f.Name, Type: ft, Nullable: true}
		}
		return arrow.StructOf(fields...), nil
	case "map":
		k, err := arrowType(t.Key, dims)
		if err != nil {
			return nil, err
		}
		v, err := arrowType(t.Elem, dims)
		if err != nil {
			return nil, err
		}
		return arrow.MapOf(k, v), nil
	case "dictionary":
		k, err := arrowType(t.Key, dims)
		if err != nil {
			return nil, err
		}
		v, err := arrowType(t.Elem, dims)
		if err != nil {
			return nil, err
		}
		return &arrow.DictionaryType{IndexType: k, ValueType: v}, nil
	case "tensor":
		elem, err := arrowType(t.Elem, dims)
		if err != nil {
			return nil, err
		}
		shape := make([]int, len(t.Dims))
		for i, d := range t.Dims {
			shape[i] = d.Size
			if d.Name != "" {
				n, ok := dims[d.Name]
				if !ok {
					return nil, fmt.Errorf("tensor dimension %s has no size", d.Name)
				}
				shape[i] = n
			}
		}
		return tensor.NewFixedShapeType(elem, shape)
	}
	return nil, fmt.Errorf("type %s: not supported", t)
}

// matchType reports whether dt is an instance of t, binding the symbolic
// tensor dims in dims (a name seen before must have the same size). It
// returns "" on a match, or what differs.
func matchType(t *manifest.Type, dt arrow.DataType, dims map[string]int) string {
	mismatch := func() string { return fmt.Sprintf("type %s, want %s", typeString(dt), t) }
	if t.Kind == "tensor" {
		ft, ok := dt.(*tensor.FixedShapeType)
		if !ok {
			return mismatch()
		}
		if d := matchType(t.Elem, ft.ValueType(), dims); d != "" {
			return mismatch()
		}
		shape := ft.Shape()
		if len(shape) != len(t.Dims) {
			return fmt.Sprintf("tensor of shape %v, want %d dimensions %s", shape, len(t.Dims), t)
		}
		for i, d := range t.Dims {
			switch {
			case d.Name == "" && d.Size != shape[i]:
				return fmt.Sprintf("tensor of shape %v, want %s", shape, t)
			case d.Name != "":
				if n, ok := dims[d.Name]; ok && n != shape[i] {
					return fmt.Sprintf("tensor of shape %v: dimension %s is %d here and %d elsewhere", shape, d.Name, shape[i], n)
				}
				dims[d.Name] = shape[i]
			}
		}
		return ""
	}
	if _, ok := dt.(arrow.ExtensionType); ok {
		return mismatch()
	}
	switch t.Kind {
	case "list", "large_list", "fixed_size_list":
		var elem arrow.DataType
		switch lt := dt.(type) {
		case *arrow.ListType:
			if t.Kind != "list" {
				return mismatch()
			}
			elem = lt.Elem()
		case *arrow.LargeListType:
			if t.Kind != "large_list" {
				return mismatch()
			}
			elem = lt.Elem()
		case *arrow.FixedSizeListType:
			if t.Kind != "fixed_size_list" || int(lt.Len()) != t.Size {
				return mismatch()
			}
			elem = lt.Elem()
		default:
			return mismatch()
		}
		if d := matchType(t.Elem, elem, dims); d != "" {
			return mismatch()
		}
		return ""
	case "struct":
		st, ok := dt.(*arrow.StructType)
		if !ok || st.NumFields() != len(t.Fields) {
			return mismatch()
		}
		for i, f := range t.Fields {
			if st.Field(i).Name != f.Name || matchType(f.Type, st.Field(i).Type, dims) != "" {
				return mismatch()
			}
		}
		return ""
	case "map":
		mt, ok := dt.(*arrow.MapType)
		if !ok || matchType(t.Key, mt.KeyType(), dims) != "" || matchType(t.Elem, mt.ItemType(), dims) != "" {
			return mismatch()
		}
		return ""
	case "dictionary":
		dict, ok := dt.(*arrow.DictionaryType)
		if !ok || matchType(t.Key, dict.IndexType, dims) != "" || matchType(t.Elem, dict.ValueType, dims) != "" {
			return mismatch()
		}
		return ""
	}
	want, err := arrowType(t, dims)
	if err != nil || !arrow.TypeEqual(want, dt) {
		return mismatch()
	}
	return ""
}

// typeString spells an Arrow type in the manifest grammar where it can.
func typeString(dt arrow.DataType) string {
	switch t := dt.(type) {
	case *tensor.FixedShapeType:
		dims := make([]string, len(t.Shape()))
		for i, d := range t.Shape() {
			dims[i] = fmt.Sprint(d)
		}
		return fmt.Sprintf("tensor<%s>[%s]", typeString(t.ValueType()), strings.Join(dims, ", "))
	case *arrow.ListType:
		return "list<" + typeString(t.Elem()) + ">"
	case *arrow.LargeListType:
		return "large_list<" + typeString(t.Elem()) + ">"
	case *arrow.FixedSizeListType:
		return fmt.Sprintf("fixed_size_list<%s>[%d]", typeString(t.Elem()), t.Len())
	}
	for name, p := range primitiveTypes {
		if arrow.TypeEqual(p, dt) {
			return name
		}
	}
	return dt.String()
}
