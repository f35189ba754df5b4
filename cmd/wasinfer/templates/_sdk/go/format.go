package wasinfer

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Flags of ArrowSchema (spec §4).
const (
	flagDictionaryOrdered = 1
	flagNullable          = 2
	flagMapKeysSorted     = 4
)

// Layout of the C structures on wasm32 (spec §4; abi/abi.go in the root
// module spells the same numbers).
const (
	schemaSize        = 48
	schemaFormat      = 0
	schemaName        = 4
	schemaMetadata    = 8
	schemaFlags       = 16
	schemaNChildren   = 24
	schemaChildren    = 32
	schemaDictionary  = 36
	schemaRelease     = 40
	schemaPrivateData = 44

	arraySize        = 64
	arrayLength      = 0
	arrayNullCount   = 8
	arrayOffset      = 16
	arrayNBuffers    = 24
	arrayNChildren   = 32
	arrayBuffers     = 40
	arrayChildren    = 44
	arrayDictionary  = 48
	arrayRelease     = 52
	arrayPrivateData = 56

	structAlign = 8
	bufferAlign = 64

	maxFormatLen = 64
	maxNameLen   = 4096
	maxDepth     = 32

	maxMetadataBytes = 1 << 20
)

// Keys of the field metadata that carries an extension type (spec §4.2).
const (
	ExtensionNameKey     = "ARROW:extension:name"
	ExtensionMetadataKey = "ARROW:extension:metadata"
)

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

var unitOf = map[byte]arrow.TimeUnit{'s': arrow.Second, 'm': arrow.Millisecond, 'u': arrow.Microsecond, 'n': arrow.Nanosecond}

func unitLetter(u arrow.TimeUnit) string { return [...]string{"s", "m", "u", "n"}[u&3] }

// childCount is the number of children a format has, or -1 for a struct
// (any number).
func childCount(format string) int {
	switch {
	case format == "+s":
		return -1
	case format == "+l", format == "+L", format == "+m", strings.HasPrefix(format, "+w:"):
		return 1
	}
	return 0
}

// typeOf is the Arrow type of the format of a schema node whose children
// are already built. It returns an unsupported error for a format outside
// ABI v1.
func typeOf(format string, children []arrow.Field, flags int64, path string) (arrow.DataType, error) {
	if dt, ok := primitiveOf[format]; ok {
		return dt, nil
	}
	bad := func(what string) error {
		return unsupported(path, "format %q: %s", format, what)
	}
	switch {
	case format == "+l":
		return arrow.ListOfField(children[0]), nil
	case format == "+L":
		return arrow.LargeListOfField(children[0]), nil
	case format == "+s":
		return arrow.StructOf(children...), nil
	case format == "+m":
		st, ok := children[0].Type.(*arrow.StructType)
		if !ok || st.NumFields() != 2 {
			return nil, bad("the map child must be a struct of two fields (key, value)")
		}
		mt := arrow.MapOfFields(st.Field(0), st.Field(1))
		mt.KeysSorted = flags&flagMapKeysSorted != 0
		return mt, nil
	case strings.HasPrefix(format, "+w:"):
		n, err := positive(format[3:])
		if err != nil {
			return nil, bad("fixed_size_list size " + err.Error())
		}
		return arrow.FixedSizeListOfField(n, children[0]), nil
	case strings.HasPrefix(format, "w:"):
		n, err := positive(format[2:])
		if err != nil {
			return nil, bad("fixed_size_binary width " + err.Error())
		}
		return &arrow.FixedSizeBinaryType{ByteWidth: int(n)}, nil
	case strings.HasPrefix(format, "d:"):
		parts := strings.Split(format[2:], ",")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, bad("decimal wants d:P,S[,BITS]")
		}
		p, err := positive(parts[0])
		if err != nil {
			return nil, bad("decimal precision " + err.Error())
		}
		s, err := strconv.ParseInt(parts[1], 10, 32)
		if err != nil {
			return nil, bad("decimal scale is not a number")
		}
		bits := "128"
		if len(parts) == 3 {
			bits = parts[2]
		}
		switch {
		case bits == "128" && p <= 38:
			return &arrow.Decimal128Type{Precision: p, Scale: int32(s)}, nil
		case bits == "256" && p <= 76:
			return &arrow.Decimal256Type{Precision: p, Scale: int32(s)}, nil
		case bits == "128" || bits == "256":
			return nil, bad("decimal precision out of range")
		}
		return nil, bad("decimal bit width must be 128 or 256")
	case len(format) >= 4 && format[:2] == "ts" && format[3] == ':':
		if u, ok := unitOf[format[2]]; ok {
			return &arrow.TimestampType{Unit: u, TimeZone: format[4:]}, nil
		}
	}
	return nil, unsupported(path, "type format %q is not supported by ABI v1", format)
}

func positive(s string) (int32, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive number", s)
	}
	return int32(n), nil
}

// formatOf is the format string of a storage type (not an extension, not a
// dictionary: the exporter unwraps those first).
func formatOf(dt arrow.DataType) (string, bool) {
	switch t := dt.(type) {
	case *arrow.NullType:
		return "n", true
	case *arrow.BooleanType:
		return "b", true
	case *arrow.Int8Type:
		return "c", true
	case *arrow.Uint8Type:
		return "C", true
	case *arrow.Int16Type:
		return "s", true
	case *arrow.Uint16Type:
		return "S", true
	case *arrow.Int32Type:
		return "i", true
	case *arrow.Uint32Type:
		return "I", true
	case *arrow.Int64Type:
		return "l", true
	case *arrow.Uint64Type:
		return "L", true
	case *arrow.Float16Type:
		return "e", true
	case *arrow.Float32Type:
		return "f", true
	case *arrow.Float64Type:
		return "g", true
	case *arrow.BinaryType:
		return "z", true
	case *arrow.StringType:
		return "u", true
	case *arrow.LargeBinaryType:
		return "Z", true
	case *arrow.LargeStringType:
		return "U", true
	case *arrow.FixedSizeBinaryType:
		return "w:" + strconv.Itoa(t.ByteWidth), true
	case *arrow.Decimal128Type:
		return fmt.Sprintf("d:%d,%d", t.Precision, t.Scale), true
	case *arrow.Decimal256Type:
		return fmt.Sprintf("d:%d,%d,256", t.Precision, t.Scale), true
	case *arrow.Date32Type:
		return "tdD", true
	case *arrow.Date64Type:
		return "tdm", true
	case *arrow.Time32Type:
		return "tt" + unitLetter(t.Unit), true
	case *arrow.Time64Type:
		return "tt" + unitLetter(t.Unit), true
	case *arrow.TimestampType:
		return "ts" + unitLetter(t.Unit) + ":" + t.TimeZone, true
	case *arrow.DurationType:
		return "tD" + unitLetter(t.Unit), true
	case *arrow.ListType:
		return "+l", true
	case *arrow.LargeListType:
		return "+L", true
	case *arrow.FixedSizeListType:
		return "+w:" + strconv.Itoa(int(t.Len())), true
	case *arrow.StructType:
		return "+s", true
	case *arrow.MapType:
		return "+m", true
	}
	return "", false
}

// layout describes the buffers of a storage type: how many, and for each the
// kind the importer and exporter size it by.
type bufKind uint8

const (
	bufValidity bufKind = iota
	bufBits             // bit-packed booleans
	bufFixed            // width bytes per slot
	bufOffsets32
	bufOffsets64
	bufData // bytes up to the last offset
)

type layout struct {
	bufs  []bufKind
	width int // bytes per slot for bufFixed
}

func layoutOf(dt arrow.DataType) layout {
	switch t := dt.(type) {
	case *arrow.NullType:
		return layout{}
	case *arrow.BooleanType:
		return layout{bufs: []bufKind{bufValidity, bufBits}}
	case *arrow.BinaryType, *arrow.StringType:
		return layout{bufs: []bufKind{bufValidity, bufOffsets32, bufData}}
	case *arrow.LargeBinaryType, *arrow.LargeStringType:
		return layout{bufs: []bufKind{bufValidity, bufOffsets64, bufData}}
	case *arrow.ListType, *arrow.MapType:
		return layout{bufs: []bufKind{bufValidity, bufOffsets32}}
	case *arrow.LargeListType:
		return layout{bufs: []bufKind{bufValidity, bufOffsets64}}
	case *arrow.FixedSizeListType, *arrow.StructType:
		return layout{bufs: []bufKind{bufValidity}}
	case *arrow.DictionaryType:
		return layoutOf(t.IndexType)
	case arrow.FixedWidthDataType:
		return layout{bufs: []bufKind{bufValidity, bufFixed}, width: t.BitWidth() / 8}
	}
	return layout{}
}

// storageOf unwraps extension types down to the type that is laid out.
func storageOf(dt arrow.DataType) arrow.DataType {
	for {
		ext, ok := dt.(arrow.ExtensionType)
		if !ok {
			return dt
		}
		dt = ext.StorageType()
	}
}
