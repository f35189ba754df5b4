// Package abi holds the names, codes, layouts and limits of the wasinfer guest
// ABI. spec.md in this directory is the contract; this package is its Go
// spelling, shared by the host and the tests of every SDK. It imports only the
// standard library.
package abi

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is the ABI version this package describes.
const Version = 1

// Export names (spec §2).
const (
	ExportMemory     = "memory"
	ExportVersion    = "wasinfer_abi_v1"
	VersionPrefix    = "wasinfer_abi_v"
	ExportAlloc      = "wasinfer_alloc"
	ExportFree       = "wasinfer_free"
	ExportTransform  = "wasinfer_transform"
	ExportRelease    = "wasinfer_release"
	ExportLastError  = "wasinfer_last_error"
	ExportInit       = "wasinfer_init"
	ExportDescribe   = "wasinfer_describe"
	ExportInitialize = "_initialize"
	ExportStart      = "_start"
)

// WASIModule is the only import module a v1 guest may use (spec §7).
const WASIModule = "wasi_snapshot_preview1"

// Status is the result of wasinfer_init and wasinfer_transform (spec §8).
type Status int32

// Status codes.
const (
	StatusOK               Status = 0
	StatusError            Status = 1
	StatusInvalidConfig    Status = 2
	StatusUnsupportedInput Status = 3
	StatusOutOfMemory      Status = 4
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "OK"
	case StatusError:
		return "ERROR"
	case StatusInvalidConfig:
		return "INVALID_CONFIG"
	case StatusUnsupportedInput:
		return "UNSUPPORTED_INPUT"
	case StatusOutOfMemory:
		return "OUT_OF_MEMORY"
	}
	return "ERROR(" + strconv.Itoa(int(s)) + ")"
}

// Layout of struct ArrowSchema on wasm32 (spec §4).
const (
	SchemaSize         = 48
	SchemaFormat       = 0
	SchemaName         = 4
	SchemaMetadata     = 8
	SchemaFlags        = 16
	SchemaNChildren    = 24
	SchemaChildren     = 32
	SchemaDictionary   = 36
	SchemaRelease      = 40
	SchemaPrivateData  = 44
	ArraySize          = 64
	ArrayLength        = 0
	ArrayNullCount     = 8
	ArrayOffset        = 16
	ArrayNBuffers      = 24
	ArrayNChildren     = 32
	ArrayBuffers       = 40
	ArrayChildren      = 44
	ArrayDictionary    = 48
	ArrayRelease       = 52
	ArrayPrivateData   = 56
	PointerSize        = 4
	InputBufferAlign   = 64
	StructAlign        = 8
	FlagDictionaryOrd  = 1
	FlagNullable       = 2
	FlagMapKeysSorted  = 4
	ExtensionNameKey   = "ARROW:extension:name"
	ExtensionMetaKey   = "ARROW:extension:metadata"
	FixedShapeTensorID = "arrow.fixed_shape_tensor"
)

// Limits the host enforces on guest output (spec §6). Hosts may lower them.
const (
	MaxFormatLen     = 64
	MaxNameLen       = 4096
	MaxMetadataBytes = 1 << 20
	MaxDepth         = 32
	MaxColumns       = 4096
	MaxSchemaNodes   = 65536
	MaxErrorMessage  = 64 << 10
)

// Defaults of the host sandbox (spec §7).
const (
	DefaultMemoryLimitBytes = 512 << 20
	DefaultTimeoutSeconds   = 60
	DefaultMaxModuleBytes   = 64 << 20
	PageSize                = 65536
)

// Kind is the layout class of a format string (spec §4.2).
type Kind int

// Layout classes.
const (
	KindNull          Kind = iota
	KindBool               // validity, bit-packed values
	KindFixed              // validity, fixed-width values (Width bytes)
	KindBinary             // validity, int32 offsets, data
	KindLargeBinary        // validity, int64 offsets, data
	KindList               // validity, int32 offsets; 1 child
	KindLargeList          // validity, int64 offsets; 1 child
	KindFixedSizeList      // validity; 1 child, ListSize per row
	KindStruct             // validity; n children
	KindMap                // validity, int32 offsets; 1 struct child of 2
)

// Format is a parsed format string.
type Format struct {
	Raw      string
	Kind     Kind
	Width    int   // bytes per value, KindFixed only
	ListSize int64 // KindFixedSizeList only; bytes for "w:N" is in Width
	UTF8     bool  // utf8 / large_utf8
	Integer  bool  // a signed or unsigned integer type (may index a dictionary)
}

// NBuffers is the number of buffers an array of this format carries.
func (f Format) NBuffers() int {
	switch f.Kind {
	case KindNull:
		return 0
	case KindFixedSizeList, KindStruct:
		return 1
	case KindBinary, KindLargeBinary:
		return 3
	}
	return 2
}

var fixedFormats = map[string]Format{
	"c": {Kind: KindFixed, Width: 1, Integer: true}, "C": {Kind: KindFixed, Width: 1, Integer: true},
	"s": {Kind: KindFixed, Width: 2, Integer: true}, "S": {Kind: KindFixed, Width: 2, Integer: true},
	"i": {Kind: KindFixed, Width: 4, Integer: true}, "I": {Kind: KindFixed, Width: 4, Integer: true},
	"l": {Kind: KindFixed, Width: 8, Integer: true}, "L": {Kind: KindFixed, Width: 8, Integer: true},
	"e": {Kind: KindFixed, Width: 2}, "f": {Kind: KindFixed, Width: 4}, "g": {Kind: KindFixed, Width: 8},
	"tdD": {Kind: KindFixed, Width: 4}, "tdm": {Kind: KindFixed, Width: 8},
	"tts": {Kind: KindFixed, Width: 4}, "ttm": {Kind: KindFixed, Width: 4},
	"ttu": {Kind: KindFixed, Width: 8}, "ttn": {Kind: KindFixed, Width: 8},
	"tDs": {Kind: KindFixed, Width: 8}, "tDm": {Kind: KindFixed, Width: 8},
	"tDu": {Kind: KindFixed, Width: 8}, "tDn": {Kind: KindFixed, Width: 8},
	"n": {Kind: KindNull}, "b": {Kind: KindBool},
	"z": {Kind: KindBinary}, "u": {Kind: KindBinary, UTF8: true},
	"Z": {Kind: KindLargeBinary}, "U": {Kind: KindLargeBinary, UTF8: true},
	"+l": {Kind: KindList}, "+L": {Kind: KindLargeList},
	"+s": {Kind: KindStruct}, "+m": {Kind: KindMap},
}

// ParseFormat parses and checks a format string of a type ABI v1 supports.
func ParseFormat(s string) (Format, error) {
	if f, ok := fixedFormats[s]; ok {
		f.Raw = s
		return f, nil
	}
	switch {
	case strings.HasPrefix(s, "w:"):
		n, err := positive(s[2:])
		if err != nil {
			return Format{}, fmt.Errorf("format %q: fixed_size_binary width: %w", s, err)
		}
		return Format{Raw: s, Kind: KindFixed, Width: int(n)}, nil
	case strings.HasPrefix(s, "+w:"):
		n, err := positive(s[3:])
		if err != nil {
			return Format{}, fmt.Errorf("format %q: fixed_size_list size: %w", s, err)
		}
		return Format{Raw: s, Kind: KindFixedSizeList, ListSize: n}, nil
	case strings.HasPrefix(s, "d:"):
		parts := strings.Split(s[2:], ",")
		if len(parts) < 2 || len(parts) > 3 {
			return Format{}, fmt.Errorf("format %q: decimal wants d:P,S[,BITS]", s)
		}
		p, err := positive(parts[0])
		if err != nil {
			return Format{}, fmt.Errorf("format %q: decimal precision: %w", s, err)
		}
		if _, err := strconv.ParseInt(parts[1], 10, 32); err != nil {
			return Format{}, fmt.Errorf("format %q: decimal scale: %w", s, err)
		}
		width, maxP := 16, int64(38)
		if len(parts) == 3 {
			switch parts[2] {
			case "128":
			case "256":
				width, maxP = 32, 76
			default:
				return Format{}, fmt.Errorf("format %q: decimal bit width must be 128 or 256", s)
			}
		}
		if p > maxP {
			return Format{}, fmt.Errorf("format %q: decimal precision %d above %d", s, p, maxP)
		}
		return Format{Raw: s, Kind: KindFixed, Width: width}, nil
	case len(s) >= 4 && s[0] == 't' && s[1] == 's' && s[3] == ':' && strings.ContainsRune("smun", rune(s[2])):
		return Format{Raw: s, Kind: KindFixed, Width: 8}, nil
	}
	return Format{}, fmt.Errorf("format %q is not supported by ABI v1", s)
}

func positive(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n <= 0 {
		return 0, fmt.Errorf("%d is not positive", n)
	}
	return n, nil
}

// PackPtrLen encodes the (ptr << 32) | len result of wasinfer_last_error and
// wasinfer_describe.
func PackPtrLen(ptr, n uint32) uint64 { return uint64(ptr)<<32 | uint64(n) }

// UnpackPtrLen decodes a value made by PackPtrLen.
func UnpackPtrLen(v uint64) (ptr, n uint32) { return uint32(v >> 32), uint32(v) }
