package host

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wasinfer/wasinfer/abi"
)

// formatOf returns the C Data Interface format string of a type ABI v1
// supports (spec §4.2). Extension types are described by their storage type;
// dictionary types by their index type.
func formatOf(dt arrow.DataType) (string, error) {
	switch t := dt.(type) {
	case arrow.ExtensionType:
		return formatOf(t.StorageType())
	case *arrow.DictionaryType:
		return formatOf(t.IndexType)
	case *arrow.NullType:
		return "n", nil
	case *arrow.BooleanType:
		return "b", nil
	case *arrow.Int8Type:
		return "c", nil
	case *arrow.Uint8Type:
		return "C", nil
	case *arrow.Int16Type:
		return "s", nil
	case *arrow.Uint16Type:
		return "S", nil
	case *arrow.Int32Type:
		return "i", nil
	case *arrow.Uint32Type:
		return "I", nil
	case *arrow.Int64Type:
		return "l", nil
	case *arrow.Uint64Type:
		return "L", nil
	case *arrow.Float16Type:
		return "e", nil
	case *arrow.Float32Type:
		return "f", nil
	case *arrow.Float64Type:
		return "g", nil
	case *arrow.BinaryType:
		return "z", nil
	case *arrow.StringType:
		return "u", nil
	case *arrow.LargeBinaryType:
		return "Z", nil
	case *arrow.LargeStringType:
		return "U", nil
	case *arrow.FixedSizeBinaryType:
		return "w:" + strconv.Itoa(t.ByteWidth), nil
	case *arrow.Decimal128Type:
		return fmt.Sprintf("d:%d,%d", t.Precision, t.Scale), nil
	case *arrow.Decimal256Type:
		return fmt.Sprintf("d:%d,%d,256", t.Precision, t.Scale), nil
	case *arrow.Date32Type:
		return "tdD", nil
	case *arrow.Date64Type:
		return "tdm", nil
	case *arrow.Time32Type:
		return "tt" + unitLetter(t.Unit), nil
	case *arrow.Time64Type:
		return "tt" + unitLetter(t.Unit), nil
	case *arrow.TimestampType:
		return "ts" + unitLetter(t.Unit) + ":" + t.TimeZone, nil
	case *arrow.DurationType:
		return "tD" + unitLetter(t.Unit), nil
	case *arrow.ListType:
		return "+l", nil
	case *arrow.LargeListType:
		return "+L", nil
	case *arrow.FixedSizeListType:
		return "+w:" + strconv.Itoa(int(t.Len())), nil
	case *arrow.StructType:
		return "+s", nil
	case *arrow.MapType:
		return "+m", nil
	}
	return "", fmt.Errorf("type %s is not supported by ABI v1", dt)
}

func unitLetter(u arrow.TimeUnit) string {
	return [...]string{"s", "m", "u", "n"}[u&3]
}

var unitOf = map[byte]arrow.TimeUnit{'s': arrow.Second, 'm': arrow.Millisecond, 'u': arrow.Microsecond, 'n': arrow.Nanosecond}

var primitiveOf = map[string]arrow.DataType{
	"n": arrow.Null, "b": arrow.FixedWidthTypes.Boolean,
	"c": arrow.PrimitiveTypes.Int8, "C": arrow.PrimitiveTypes.Uint8,
	"s": arrow.PrimitiveTypes.Int16, "S": arrow.PrimitiveTypes.Uint16,
	"i": arrow.PrimitiveTypes.Int32, "I": arrow.PrimitiveTypes.Uint32,
	"l": arrow.PrimitiveTypes.Int64, "L": arrow.PrimitiveTypes.Uint64,
	"e": arrow.FixedWidthTypes.Float16, "f": arrow.PrimitiveTypes.Float32, "g": arrow.PrimitiveTypes.Float64,
	"z": arrow.BinaryTypes.Binary, "u": arrow.BinaryTypes.String,
	"Z": arrow.BinaryTypes.LargeBinary, "U": arrow.BinaryTypes.LargeString,
	"tdD": arrow.FixedWidthTypes.Date32, "tdm": arrow.FixedWidthTypes.Date64,
	"tts": arrow.FixedWidthTypes.Time32s, "ttm": arrow.FixedWidthTypes.Time32ms,
	"ttu": arrow.FixedWidthTypes.Time64us, "ttn": arrow.FixedWidthTypes.Time64ns,
	"tDs": arrow.FixedWidthTypes.Duration_s, "tDm": arrow.FixedWidthTypes.Duration_ms,
	"tDu": arrow.FixedWidthTypes.Duration_us, "tDn": arrow.FixedWidthTypes.Duration_ns,
}

// typeOf builds the Arrow type of a validated schema node. Child fields must
// already be built. It never panics on guest input: every condition that
// would make an arrow-go constructor panic is checked first.
func typeOf(f abi.Format, children []arrow.Field, flags int64) (arrow.DataType, error) {
	if dt, ok := primitiveOf[f.Raw]; ok {
		return dt, nil
	}
	s := f.Raw
	switch f.Kind {
	case abi.KindFixed:
		switch {
		case strings.HasPrefix(s, "w:"):
			return &arrow.FixedSizeBinaryType{ByteWidth: f.Width}, nil
		case strings.HasPrefix(s, "d:"):
			parts := strings.Split(s[2:], ",")
			p, _ := strconv.ParseInt(parts[0], 10, 32)
			sc, _ := strconv.ParseInt(parts[1], 10, 32)
			if f.Width == 32 {
				return &arrow.Decimal256Type{Precision: int32(p), Scale: int32(sc)}, nil
			}
			return &arrow.Decimal128Type{Precision: int32(p), Scale: int32(sc)}, nil
		case strings.HasPrefix(s, "ts"):
			return &arrow.TimestampType{Unit: unitOf[s[2]], TimeZone: s[4:]}, nil
		}
	case abi.KindList:
		return arrow.ListOfField(children[0]), nil
	case abi.KindLargeList:
		return arrow.LargeListOfField(children[0]), nil
	case abi.KindFixedSizeList:
		if f.ListSize > 1<<31-1 {
			return nil, fmt.Errorf("fixed_size_list size %d too large", f.ListSize)
		}
		return arrow.FixedSizeListOfField(int32(f.ListSize), children[0]), nil
	case abi.KindStruct:
		return arrow.StructOf(children...), nil
	case abi.KindMap:
		st, ok := children[0].Type.(*arrow.StructType)
		if !ok || st.NumFields() != 2 {
			return nil, fmt.Errorf("map child must be a struct of 2 fields (key, value)")
		}
		if st.Field(0).Nullable {
			return nil, fmt.Errorf("map key field must not be nullable")
		}
		mt := arrow.MapOfFields(st.Field(0), st.Field(1))
		mt.KeysSorted = flags&abi.FlagMapKeysSorted != 0
		return mt, nil
	}
	return nil, fmt.Errorf("format %q is not supported by ABI v1", s)
}
