package dataset

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/wasinfer/wasinfer/internal/corpus"
)

// readIPC opens path with OpenIPC and reads every split, returning the
// batches (released by the caller) or the first error.
func readIPC(t *testing.T, path string, mem memory.Allocator) ([]arrow.RecordBatch, error) {
	t.Helper()
	ctx := context.Background()
	src, err := OpenIPC(ctx, []string{path}, WithAllocator(mem), WithBatchSize(1<<30))
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var out []arrow.RecordBatch
	for _, sp := range src.Splits() {
		recs, err := readSplit(ctx, src, sp)
		out = append(out, recs...)
		if err != nil {
			release(out)
			return nil, err
		}
	}
	return out, nil
}

// TestIPCGuardBuilder: the hand-made files the refusal tests damage read
// as they should when they are not damaged (so the refusals are about the
// damage, not the builder).
func TestIPCGuardBuilder(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
	}{
		{"batch.arrow", batchFile(batchMsg(le64(7), goodBatch))},
		{"batch.arrows", ipcStreamOf(schemaMsg(), batchMsg(le64(7), goodBatch))},
		{"metadata.arrow", ipcFileOf([]ipcMsg{batchMsg(le64(7), goodBatch)}, func(w *fbw, blocks []ipcBlock) fbOff {
			x := w.field("x", ipcTypeInt, w.intType(), 0, w.tables(w.kv("unit", "m")))
			return w.footer(w.schema(w.tables(x), w.tables(w.kv("a", "1"), w.kv("b", "2"))), 0, w.blocks(blocks[0]), 0)
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			path := filepath.Join(dir, tc.name)
			must(t, os.WriteFile(path, tc.data, 0o644))
			recs, err := readIPC(t, path, mem)
			if err != nil {
				t.Fatal(err)
			}
			defer release(recs)
			if len(recs) != 1 || recs[0].NumRows() != 1 || recs[0].Column(0).(*array.Int64).Value(0) != 7 {
				t.Fatalf("read %v", recs)
			}
			if tc.name == "metadata.arrow" {
				sc := recs[0].Schema()
				if got, want := fmt.Sprint(sc.Metadata(), sc.Field(0).Metadata), `["a": "1", "b": "2"] ["unit": "m"]`; got != want {
					t.Errorf("metadata %s, want %s", got, want)
				}
			}
		})
	}
}

// ipcRefusal is a damaged file and the error it must give.
type ipcRefusal struct {
	name string // file name: .arrow is read as a file, .arrows as a stream
	data func(t *testing.T) []byte
	want string // the error after "dataset: corrupt file: FILE: " (FILE: the file's path)
}

const huge = 1<<31 - 1 // a damaged int32 count: 2^31-1

var ipcRefusals = []ipcRefusal{
	// File footers.
	{"footer-truncated.arrow", func(t *testing.T) []byte {
		b := schemaFooter(func(w *fbw) fbOff { return w.schemaX() })
		return b[:len(b)-3]
	},
		"reading the Arrow IPC file footer: the file does not end with the magic ARROW1: it is truncated or not an Arrow IPC file"},
	{"footer-cut.arrow", func(t *testing.T) []byte {
		b := schemaFooter(func(w *fbw) fbOff { return w.schemaX() })
		return append(b[:8+20], b[len(b)-ipcTrailer:]...) // the footer loses its end
	},
		"reading the Arrow IPC file footer: the file declares a footer of 104 bytes: a 38-byte file holds a footer of 4 to 20 bytes"},
	{"footer-length-huge.arrow", func(t *testing.T) []byte {
		b := schemaFooter(func(w *fbw) fbOff { return w.schemaX() })
		binary.LittleEndian.PutUint32(b[len(b)-ipcTrailer:], 0x7ffffff0)
		return b
	},
		"reading the Arrow IPC file footer: the file declares a footer of 2147483632 bytes: a 122-byte file holds a footer of 4 to 104 bytes"},
	{"footer-length-zero.arrow", func(t *testing.T) []byte {
		b := schemaFooter(func(w *fbw) fbOff { return w.schemaX() })
		binary.LittleEndian.PutUint32(b[len(b)-ipcTrailer:], 0)
		return b
	},
		"reading the Arrow IPC file footer: the file declares a footer of 0 bytes: a 122-byte file holds a footer of 4 to 104 bytes"},
	{"footer-length-negative.arrow", func(t *testing.T) []byte {
		b := schemaFooter(func(w *fbw) fbOff { return w.schemaX() })
		binary.LittleEndian.PutUint32(b[len(b)-ipcTrailer:], 0xfffffff0)
		return b
	},
		"reading the Arrow IPC file footer: the file declares a footer of -16 bytes: a 122-byte file holds a footer of 4 to 104 bytes"},
	{"footer-no-schema.arrow", func(t *testing.T) []byte {
		return ipcFileOf(nil, func(w *fbw, _ []ipcBlock) fbOff { return w.footer(0, 0, 0, 0) })
	},
		"reading the Arrow IPC file footer: the footer (24 bytes at byte 8): it has no schema"},
	{"footer-custom-metadata-count.arrow", func(t *testing.T) []byte {
		return ipcFileOf(nil, func(w *fbw, _ []ipcBlock) fbOff { return w.footer(w.schemaX(), 0, 0, w.claims(huge)) })
	},
		"reading the Arrow IPC file footer: the footer (120 bytes at byte 8): custom_metadata: a vector of 2147483647 tables at byte 44 needs 8589934588 bytes, 80 remain in the metadata"},
	{"footer-record-batches-count.arrow", func(t *testing.T) []byte {
		return ipcFileOf(nil, func(w *fbw, _ []ipcBlock) fbOff { return w.footer(w.schemaX(), 0, w.claims(huge), 0) })
	},
		"reading the Arrow IPC file footer: the footer (120 bytes at byte 8): recordBatches: a vector of 2147483647 24-byte blocks at byte 40 needs 51539607528 bytes, 84 remain in the metadata"},
	{"footer-dictionaries-count.arrow", func(t *testing.T) []byte {
		return ipcFileOf(nil, func(w *fbw, _ []ipcBlock) fbOff { return w.footer(w.schemaX(), w.claims(huge), 0, 0) })
	},
		"reading the Arrow IPC file footer: the footer (120 bytes at byte 8): dictionaries: a vector of 2147483647 24-byte blocks at byte 40 needs 51539607528 bytes, 84 remain in the metadata"},
	{"footer-block-outside.arrow", func(t *testing.T) []byte {
		return ipcFileOf(nil, func(w *fbw, _ []ipcBlock) fbOff {
			return w.footer(w.schemaX(), 0, w.blocks(ipcBlock{offset: 1 << 40, meta: 64, body: 64}), 0)
		})
	},
		"reading the Arrow IPC file footer: the footer (144 bytes at byte 8): recordBatches[0]: the message at byte 1099511627776 (64 + 64 bytes) runs past byte 8, where the footer starts"},
	{"start-is-a-stream.arrow", func(t *testing.T) []byte {
		return ipcStreamOf(schemaMsg(), batchMsg(le64(7), goodBatch))
	},
		"reading the Arrow IPC file footer: the file starts with a message, not the magic ARROW1: it is an Arrow IPC stream; name it .arrows or read it with the IPC format stream"},
	// Schemas.
	{"schema-custom-metadata-count.arrow", func(t *testing.T) []byte {
		return schemaFooter(func(w *fbw) fbOff { return w.schema(w.tables(w.int64Field("x")), w.claims(huge)) })
	},
		"reading the Arrow IPC file footer: the footer (112 bytes at byte 8): schema.custom_metadata: a vector of 2147483647 tables at byte 52 needs 8589934588 bytes, 64 remain in the metadata"},
	{"schema-fields-count.arrow", func(t *testing.T) []byte {
		return schemaFooter(func(w *fbw) fbOff { return w.schema(w.claims(huge), 0) })
	},
		"reading the Arrow IPC file footer: the footer (48 bytes at byte 8): schema.fields: a vector of 2147483647 tables at byte 48 needs 8589934588 bytes, 4 remain in the metadata"},
	{"field-children-count.arrow", func(t *testing.T) []byte {
		return schemaFooter(func(w *fbw) fbOff {
			s := w.field("s", 13, w.emptyType(), w.claims(1<<30), 0)
			return w.schema(w.tables(w.int64Field("x"), s), 0)
		})
	},
		"reading the Arrow IPC file footer: the footer (168 bytes at byte 8): schema.fields[1].children: a vector of 1073741824 tables at byte 160 needs 4294967296 bytes, 12 remain in the metadata"},
	{"field-custom-metadata-count.arrow", func(t *testing.T) []byte {
		return schemaFooter(func(w *fbw) fbOff {
			return w.schema(w.tables(w.field("x", ipcTypeInt, w.intType(), 0, w.claims(huge))), 0)
		})
	},
		"reading the Arrow IPC file footer: the footer (120 bytes at byte 8): schema.fields[0].custom_metadata: a vector of 2147483647 tables at byte 104 needs 8589934588 bytes, 20 remain in the metadata"},
	{"field-name-length.arrow", func(t *testing.T) []byte {
		return schemaFooter(func(w *fbw) fbOff {
			name := w.claims(huge)
			f := w.obj(7, func(b *flatbufBuilder) {
				b.PrependUOffsetTSlot(slotFieldName, name, 0)
			})
			return w.schema(w.tables(f), 0)
		})
	},
		"reading the Arrow IPC file footer: the footer (72 bytes at byte 8): schema.fields[0].name: a string of 2147483647 bytes at byte 72 runs past the end of the metadata (4 bytes remain)"},
	{"field-deep-children.arrow", func(t *testing.T) []byte {
		return schemaFooter(func(w *fbw) fbOff {
			f := w.int64Field("leaf")
			for range 100 {
				f = w.field("s", 13, w.emptyType(), w.tables(f), 0)
			}
			return w.schema(w.tables(f), 0)
		})
	},
		"reading the Arrow IPC file footer: the footer (4128 bytes at byte 8): schema.fields[0].children[0].children[0] …59 more… children[0].children[0].children[0].children: fields nest deeper than 64 levels"},
	{"field-shared-children.arrow", func(t *testing.T) []byte {
		// 40 levels of struct fields whose two children are the same
		// table: 2^40 fields in a few kilobytes.
		return schemaFooter(func(w *fbw) fbOff {
			f := w.int64Field("leaf")
			for range 40 {
				f = w.field("s", 13, w.emptyType(), w.tables(f, f), 0)
			}
			return w.schema(w.tables(f), 0)
		})
	},
		"reading the Arrow IPC file footer: the footer (1888 bytes at byte 8): schema.fields[0].children[0].children[0] …33 more… children[0].children[0].children[1].children: the metadata reaches more bytes than its 1888: it refers to the same tables again and again"},
	{"field-cyclic-children.arrow", cyclicChildren,
		"reading the Arrow IPC file footer: the footer (168 bytes at byte 8): schema.fields[0].children[0]: a table at byte 4294967368 is outside the 168 bytes of metadata"},
	{"field-unknown-type.arrow", func(t *testing.T) []byte {
		return schemaFooter(func(w *fbw) fbOff { return w.schema(w.tables(w.field("x", 99, w.emptyType(), 0, 0)), 0) })
	},
		"reading the Arrow IPC file footer: the footer (96 bytes at byte 8): schema.fields[0].type_type: type 99 is not an Arrow type (1 to 26)"},
	{"field-timezone-length.arrow", func(t *testing.T) []byte {
		return schemaFooter(func(w *fbw) fbOff {
			tz := w.claims(huge)
			ts := w.obj(2, func(b *flatbufBuilder) { b.PrependUOffsetTSlot(1, tz, 0) })
			return w.schema(w.tables(w.field("t", ipcTypeTimestamp, ts, 0, 0)), 0)
		})
	},
		"reading the Arrow IPC file footer: the footer (96 bytes at byte 8): schema.fields[0].type.timezone: a string of 2147483647 bytes at byte 100 runs past the end of the metadata (0 bytes remain)"},
	{"field-union-type-ids-count.arrow", func(t *testing.T) []byte {
		return schemaFooter(func(w *fbw) fbOff {
			ids := w.claims(huge)
			u := w.obj(2, func(b *flatbufBuilder) { b.PrependUOffsetTSlot(1, ids, 0) })
			return w.schema(w.tables(w.field("u", ipcTypeUnion, u, w.tables(w.int64Field("a")), 0)), 0)
		})
	},
		"reading the Arrow IPC file footer: the footer (168 bytes at byte 8): schema.fields[0].type.typeIds: a vector of 2147483647 type ids at byte 172 needs 8589934588 bytes, 0 remain in the metadata"},
	// Record batches of a file.
	{"batch-nodes-count.arrow", func(t *testing.T) []byte {
		return batchFile(batchMsg(le64(7), func(w *fbw) fbOff {
			return w.batch(1, w.claims(huge), w.pairs([2]int64{0, 0}, [2]int64{0, 8}), 0, 0)
		}))
	},
		"reading FILE: record batch 0 (the message at byte 128): RecordBatch.nodes: a vector of 2147483647 16-byte field nodes at byte 252 needs 34359738352 bytes, 0 remain in the metadata"},
	{"batch-buffers-count.arrow", func(t *testing.T) []byte {
		return batchFile(batchMsg(le64(7), func(w *fbw) fbOff {
			return w.batch(1, w.pairs([2]int64{1, 0}), w.claims(huge), 0, 0)
		}))
	},
		"reading FILE: record batch 0 (the message at byte 128): RecordBatch.buffers: a vector of 2147483647 16-byte buffers at byte 208 needs 34359738352 bytes, 20 remain in the metadata"},
	{"batch-variadic-count.arrow", func(t *testing.T) []byte {
		return batchFile(batchMsg(le64(7), func(w *fbw) fbOff {
			return w.batch(1, w.pairs([2]int64{1, 0}), w.pairs([2]int64{0, 0}, [2]int64{0, 8}), 0, w.int64s(1<<40))
		}))
	},
		"reading FILE: record batch 0 (the message at byte 128): RecordBatch.variadicBufferCounts[0]: 1099511627776 variadic buffers, the batch has 2 buffers (0 taken by the counts before)"},
	{"batch-variadic-vector-count.arrow", func(t *testing.T) []byte {
		return batchFile(batchMsg(le64(7), func(w *fbw) fbOff {
			return w.batch(1, w.pairs([2]int64{1, 0}), w.pairs([2]int64{0, 0}, [2]int64{0, 8}), 0, w.claims(huge))
		}))
	},
		"reading FILE: record batch 0 (the message at byte 128): RecordBatch.variadicBufferCounts: a vector of 2147483647 counts at byte 216 needs 17179869176 bytes, 60 remain in the metadata"},
	{"batch-buffer-outside-body.arrow", func(t *testing.T) []byte {
		return batchFile(batchMsg(le64(7), func(w *fbw) fbOff {
			return w.batch(1, w.pairs([2]int64{1, 0}), w.pairs([2]int64{0, 0}, [2]int64{8, 1 << 40}), 0, 0)
		}))
	},
		"reading FILE: record batch 0 (the message at byte 128): RecordBatch.buffers[1]: 1099511627776 bytes at offset 8 run past the body's 8 bytes"},
	{"batch-null-count.arrow", func(t *testing.T) []byte {
		return batchFile(batchMsg(le64(7), func(w *fbw) fbOff {
			return w.batch(1, w.pairs([2]int64{1, 5}), w.pairs([2]int64{0, 0}, [2]int64{0, 8}), 0, 0)
		}))
	},
		"reading FILE: record batch 0 (the message at byte 128): RecordBatch.nodes[0]: length 1 with null count 5"},
	{"batch-decompressed-size.arrow", func(t *testing.T) []byte {
		return batchFile(batchMsg(append(le64(1<<40), le64(0)...), func(w *fbw) fbOff {
			return w.batch(1, w.pairs([2]int64{1, 0}), w.pairs([2]int64{0, 0}, [2]int64{0, 16}), w.lz4(), 0)
		}))
	},
		"reading FILE: record batch 0 (the message at byte 128): RecordBatch.buffers[1]: decompresses to 1099511627776 bytes: the buffers of a message may decompress to at most 268435456 bytes (0 before this one)"},
	{"dictionary-kind.arrow", func(t *testing.T) []byte {
		return ipcFileOf([]ipcMsg{batchMsg(le64(7), goodBatch)}, func(w *fbw, blocks []ipcBlock) fbOff {
			return w.footer(w.schemaX(), w.blocks(blocks[0]), 0, 0)
		})
	}, "reading the Arrow IPC file footer: dictionary 0 (the message at byte 8): a RecordBatch message where the footer says a DictionaryBatch is"},
	{"dictionary-no-data.arrow", func(t *testing.T) []byte {
		m := ipcMsg{meta: msgMeta(func(w *fbw) fbOff {
			d := w.obj(3, func(b *flatbufBuilder) { b.PrependInt64Slot(slotDictBatchID, 0, -1) })
			return w.message(ipcDictionaryBatch, d, 0, 0)
		})}
		return ipcFileOf([]ipcMsg{m}, func(w *fbw, blocks []ipcBlock) fbOff {
			return w.footer(w.schemaX(), w.blocks(blocks[0]), 0, 0)
		})
	}, "reading the Arrow IPC file footer: dictionary 0 (the message at byte 8): DictionaryBatch.data: the dictionary batch has no data"},
	{"message-custom-metadata-count.arrow", func(t *testing.T) []byte {
		m := ipcMsg{meta: msgMeta(func(w *fbw) fbOff { return w.message(ipcRecordBatch, goodBatch(w), 8, w.claims(huge)) }), body: le64(7)}
		return batchFile(m)
	},
		"reading FILE: record batch 0 (the message at byte 128): custom_metadata: a vector of 2147483647 tables at byte 188 needs 8589934588 bytes, 96 remain in the metadata"},
	{"message-kind.arrow", func(t *testing.T) []byte { return batchFile(schemaMsg()) },
		"reading FILE: record batch 0 (the message at byte 128): a Schema message where the footer says a RecordBatch is"},
	{"message-tensor.arrow", func(t *testing.T) []byte {
		return batchFile(ipcMsg{meta: msgMeta(func(w *fbw) fbOff { return w.message(4, w.emptyType(), 0, 0) })})
	},
		"reading FILE: record batch 0 (the message at byte 128): header_type: a Tensor message: Arrow IPC data holds Schema, DictionaryBatch and RecordBatch messages"},
	// Streams.
	{"stream-metadata-length.arrows", func(t *testing.T) []byte {
		b := binary.LittleEndian.AppendUint32(nil, ipcContinuation)
		b = binary.LittleEndian.AppendUint32(b, 0x7ffffff0)
		return append(b, make([]byte, 64)...)
	},
		"reading the Arrow IPC stream schema: message 0 (at byte 0): the message declares 2147483632 bytes of metadata, 64 remain in the stream"},
	{"stream-body-length.arrows", func(t *testing.T) []byte {
		return ipcStreamOf(schemaMsg(), ipcMsg{meta: msgMeta(func(w *fbw) fbOff { return w.message(ipcRecordBatch, goodBatch(w), 1<<40, 0) })})
	},
		"reading FILE: message 1 (at byte 120): the message declares a body of 1099511627776 bytes, 8 remain in the stream"},
	{"stream-fields-count.arrows", func(t *testing.T) []byte {
		return ipcStreamOf(ipcMsg{meta: msgMeta(func(w *fbw) fbOff { return w.message(ipcSchema, w.schema(w.claims(huge), 0), 0, 0) })})
	},
		"reading the Arrow IPC stream schema: message 0 (at byte 0): Schema.fields: a vector of 2147483647 tables at byte 52 needs 8589934588 bytes, 0 remain in the metadata"},
	{"stream-nodes-count.arrows", func(t *testing.T) []byte {
		return ipcStreamOf(schemaMsg(), batchMsg(le64(7), func(w *fbw) fbOff {
			return w.batch(1, w.claims(huge), w.pairs([2]int64{0, 0}, [2]int64{0, 8}), 0, 0)
		}))
	},
		"reading FILE: message 1 (at byte 120): RecordBatch.nodes: a vector of 2147483647 16-byte field nodes at byte 244 needs 34359738352 bytes, 0 remain in the metadata"},
	{"stream-truncated-body.arrows", func(t *testing.T) []byte {
		b := ipcStreamOf(schemaMsg(), batchMsg(le64(7), goodBatch))
		return b[:len(b)-12] // the end-of-stream marker and half the body
	},
		"reading FILE: message 1 (at byte 120): the message declares a body of 8 bytes, 4 remain in the stream"},
	{"stream-decompressed-size.arrows", func(t *testing.T) []byte {
		return ipcStreamOf(schemaMsg(), batchMsg(append(le64(1<<40), le64(0)...), func(w *fbw) fbOff {
			return w.batch(1, w.pairs([2]int64{1, 0}), w.pairs([2]int64{0, 0}, [2]int64{0, 16}), w.lz4(), 0)
		}))
	},
		"reading FILE: message 1 (at byte 120): RecordBatch.buffers[1]: decompresses to 1099511627776 bytes: the buffers of a message may decompress to at most 268435456 bytes (0 before this one)"},
	// Regression: the reliability suite's malformed-data corpus (16 bytes
	// of 0xff at byte 1195 of this file make the footer schema's
	// custom_metadata claim billions of entries; arrow-go allocated them
	// all, a fatal out-of-memory).
	{"reliability-ipc-metadata-count.arrow", func(t *testing.T) []byte {
		b, err := os.ReadFile("../udfs/image_crop/vectors/01-in.arrow")
		if err != nil {
			t.Fatal(err)
		}
		copy(b[1195:], bytes.Repeat([]byte{0xff}, 16))
		return b
	},
		"reading the Arrow IPC file footer: the footer (472 bytes at byte 976): schema.fields[0].custom_metadata: a vector of 4278190082 tables at byte 1192 needs 17112760328 bytes, 252 remain in the metadata"},
}

// cyclicChildren is a struct field whose children vector points back at
// the field itself through a 32-bit offset that wraps around: arrow-go,
// which adds offsets in 32 bits, would recurse until the stack is
// exhausted (a fatal error).
func cyclicChildren(t *testing.T) []byte {
	w := newFbw()
	leaf := w.int64Field("leaf")
	kids := w.tables(leaf)
	s := w.field("s", 13, w.emptyType(), kids, 0)
	schema := w.schema(w.tables(s), 0)
	buf := w.finish(w.footer(schema, 0, 0, 0))
	elem := w.pos(kids) + 4 // the vector's only offset
	binary.LittleEndian.PutUint32(buf[elem:], uint32(int64(w.pos(s))-int64(elem)))
	out := append([]byte("ARROW1"), 0, 0)
	out = append(out, pad8(buf, 0)...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(pad8(buf, 0))))
	return append(out, "ARROW1"...)
}

// TestIPCGuardRefuses: every hand-made damaged file or stream is refused
// with its error (ErrCorrupt, naming the file and what is wrong), having
// allocated at most a small multiple of its size: without the guard,
// arrow-go would allocate gigabytes for most of them (a fatal
// out-of-memory), recurse without end for the cyclic one, and read the
// rest wrongly or panic.
func TestIPCGuardRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range ipcRefusals {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			data := tc.data(t)
			path := filepath.Join(dir, tc.name)
			must(t, os.WriteFile(path, data, 0o644))
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			recs, err := readIPC(t, path, mem)
			runtime.ReadMemStats(&ms)
			allocated := ms.TotalAlloc - before
			release(recs)
			if err == nil {
				t.Fatalf("read %d batches", len(recs))
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("err %v, want ErrCorrupt", err)
			}
			got := strings.ReplaceAll(err.Error(), path, "FILE")
			if want := "dataset: corrupt file: FILE: " + tc.want; got != want {
				t.Errorf("error\n got %s\nwant %s", got, want)
			}
			// OpenIPC's own costs (buffers, readers) plus a small multiple
			// of the file.
			t.Logf("allocated %d bytes reading a %d-byte file", allocated, len(data))
			if bound := uint64(1<<20 + 16*len(data)); allocated > bound {
				t.Errorf("allocated %d bytes reading a %d-byte file, more than %d", allocated, len(data), bound)
			}
		})
	}
}

// readBare reads every batch of an IPC file or stream with arrow-go alone.
func readBare(t *testing.T, path string, stream bool, mem memory.Allocator) []arrow.RecordBatch {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []arrow.RecordBatch
	if stream {
		r, err := ipc.NewReader(f, ipc.WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Release()
		for r.Next() {
			rec := r.RecordBatch()
			rec.Retain()
			out = append(out, rec)
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	r, err := ipc.NewFileReader(f, ipc.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := range r.NumRecords() {
		rec, err := r.RecordBatchAt(i)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
	return out
}

// sameAsBare checks that OpenIPC reads path as arrow-go alone does: the
// same batches, equal.
func sameAsBare(t *testing.T, path string, stream bool, mem memory.Allocator) {
	t.Helper()
	want := readBare(t, path, stream, mem)
	defer release(want)
	got, err := readIPC(t, path, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer release(got)
	if len(got) != len(want) {
		t.Fatalf("%d batches, arrow-go reads %d", len(got), len(want))
	}
	for i := range got {
		if err := corpus.Equal(want[i], got[i]); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
}

// TestIPCGuardCorpus: every case of the canonical corpus, written by the
// IPC sink (file and stream), passes the guard and reads as arrow-go alone
// reads it.
func TestIPCGuardCorpus(t *testing.T) {
	ctx := context.Background()
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			mem := checkedMem(t)
			cases := corpus.Batches(mem)
			defer func() {
				for _, c := range cases {
					c.Batch.Release()
				}
			}()
			for _, c := range cases {
				if c.Batch.NumRows() == 0 {
					continue // an empty split commits no file
				}
				t.Run(strings.ReplaceAll(c.Name, "/", "_"), func(t *testing.T) {
					dir := t.TempDir()
					sink, err := OpenSink(ctx, dir, FormatIPC, WithIPCStream(stream), WithSinkAllocator(mem))
					if err != nil {
						t.Fatal(err)
					}
					writeSplits(t, sink, []Split{{Index: 0, ID: "corpus", Rows: c.Batch.NumRows()}}, []arrow.RecordBatch{c.Batch})
					must(t, sink.Close(ctx))
					files, _ := filepath.Glob(filepath.Join(dir, "part-*"))
					if len(files) != 1 {
						t.Fatalf("files %v", files)
					}
					sameAsBare(t, files[0], stream, mem)
				})
			}
		})
	}
}

// TestIPCGuardCommittedFiles: every Arrow IPC file and stream committed to
// the repository (test vectors, examples) passes the guard and reads as
// arrow-go alone reads it.
func TestIPCGuardCommittedFiles(t *testing.T) {
	var paths []string
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != ".." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(path); !d.IsDir() && (ext == ".arrow" || ext == ".arrows") {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no .arrow or .arrows file in the repository")
	}
	t.Logf("%d files", len(paths))
	for _, p := range paths {
		t.Run(strings.ReplaceAll(strings.TrimPrefix(p, "../"), "/", "_"), func(t *testing.T) {
			sameAsBare(t, p, filepath.Ext(p) == ".arrows", checkedMem(t))
		})
	}
}

// TestIPCGuardParquetStoredSchema: a Parquet file whose stored Arrow
// schema (pqarrow's ARROW:schema, which pqarrow decodes with arrow-go's
// IPC reader when it opens the file) is a damaged IPC stream is refused
// as corrupt, not a fatal out-of-memory; a damaged wasinfer:arrow_schema
// is ignored (the source falls back to the schema pqarrow gives).
func TestIPCGuardParquetStoredSchema(t *testing.T) {
	damaged := base64.StdEncoding.EncodeToString(ipcStreamOf(ipcMsg{meta: msgMeta(func(w *fbw) fbOff {
		return w.message(ipcSchema, w.schema(w.tables(w.int64Field("x")), w.claims(huge)), 0, 0)
	})}))
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	write := func(t *testing.T, key string) string {
		path := filepath.Join(t.TempDir(), "x.parquet")
		f, err := os.Create(path)
		must(t, err)
		fw, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(), pqarrow.NewArrowWriterProperties())
		must(t, err)
		b := array.NewInt64Builder(memory.DefaultAllocator)
		defer b.Release()
		b.Append(7)
		arr := b.NewArray()
		defer arr.Release()
		rec := array.NewRecordBatch(schema, []arrow.Array{arr}, 1)
		defer rec.Release()
		must(t, fw.Write(rec))
		must(t, fw.AppendKeyValueMetadata(key, damaged))
		must(t, fw.Close())
		return path
	}
	ctx := context.Background()
	t.Run("ARROW:schema", func(t *testing.T) {
		path := write(t, pqarrowSchemaKey)
		_, err := OpenParquet(ctx, []string{path})
		want := "dataset: corrupt file: " + path + ": reading the parquet schema: the stored Arrow schema (ARROW:schema): message 0 (at byte 0): Schema.custom_metadata: a vector of 2147483647 tables at byte 60 needs 8589934588 bytes, 64 remain in the metadata"
		if err == nil || err.Error() != want {
			t.Errorf("error\n got %v\nwant %s", err, want)
		}
	})
	t.Run(arrowSchemaKey, func(t *testing.T) {
		mem := checkedMem(t)
		src, err := OpenParquet(ctx, []string{write(t, arrowSchemaKey)}, WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		recs := readAll(t, src)
		defer release(recs)
		if len(recs) != 1 || recs[0].Column(0).(*array.Int64).Value(0) != 7 {
			t.Fatalf("read %v", recs)
		}
	})
}
