package dataset

import (
	"encoding/binary"

	flatbuffers "github.com/google/flatbuffers/go"
)

// fbw writes Arrow IPC metadata table by table with the flatbuffers
// builder, slot by slot as in Schema.fbs, Message.fbs and File.fbs, so
// tests can write what arrow-go's writer never would: vectors that claim
// more elements than they hold, shared and cyclic children, unknown kinds.
type fbw struct{ b *flatbuffers.Builder }

type fbOff = flatbuffers.UOffsetT

type flatbufBuilder = flatbuffers.Builder

func newFbw() *fbw { return &fbw{flatbuffers.NewBuilder(256)} }

// obj builds a table of n slots; set prepends its fields.
func (w *fbw) obj(n int, set func(b *flatbuffers.Builder)) fbOff {
	w.b.StartObject(n)
	set(w.b)
	return w.b.EndObject()
}

// tables is a vector of tables.
func (w *fbw) tables(offs ...fbOff) fbOff {
	w.b.StartVector(4, len(offs), 4)
	for i := len(offs) - 1; i >= 0; i-- {
		w.b.PrependUOffsetT(offs[i])
	}
	return w.b.EndVector(len(offs))
}

// claims is a vector that declares n elements and holds none.
func (w *fbw) claims(n int) fbOff {
	w.b.StartVector(4, 0, 4)
	return w.b.EndVector(n)
}

// int64s is a vector of longs.
func (w *fbw) int64s(v ...int64) fbOff {
	w.b.StartVector(8, len(v), 8)
	for i := len(v) - 1; i >= 0; i-- {
		w.b.PrependInt64(v[i])
	}
	return w.b.EndVector(len(v))
}

// pairs is a vector of 16-byte structs of two longs (FieldNode, Buffer).
func (w *fbw) pairs(v ...[2]int64) fbOff {
	w.b.StartVector(16, len(v), 8)
	for i := len(v) - 1; i >= 0; i-- {
		w.b.Prep(8, 16)
		w.b.PrependInt64(v[i][1])
		w.b.PrependInt64(v[i][0])
	}
	return w.b.EndVector(len(v))
}

// blocks is a vector of footer Blocks.
func (w *fbw) blocks(bs ...ipcBlock) fbOff {
	w.b.StartVector(ipcBlockSize, len(bs), 8)
	for i := len(bs) - 1; i >= 0; i-- {
		w.b.Prep(8, ipcBlockSize)
		w.b.PrependInt64(bs[i].body)
		w.b.Pad(4)
		w.b.PrependInt32(bs[i].meta)
		w.b.PrependInt64(bs[i].offset)
	}
	return w.b.EndVector(len(bs))
}

func (w *fbw) kv(k, v string) fbOff {
	ko, vo := w.b.CreateString(k), w.b.CreateString(v)
	return w.obj(2, func(b *flatbuffers.Builder) {
		b.PrependUOffsetTSlot(slotKey, ko, 0)
		b.PrependUOffsetTSlot(slotValue, vo, 0)
	})
}

func (w *fbw) intType() fbOff {
	return w.obj(2, func(b *flatbuffers.Builder) {
		b.PrependInt32Slot(0, 64, 0)
		b.PrependBoolSlot(1, true, false)
	})
}

func (w *fbw) emptyType() fbOff { return w.obj(0, func(*flatbuffers.Builder) {}) }

// field builds a Field; 0 leaves an offset out.
func (w *fbw) field(name string, typeType byte, typ, children, md fbOff) fbOff {
	no := w.b.CreateString(name)
	return w.obj(7, func(b *flatbuffers.Builder) {
		b.PrependUOffsetTSlot(slotFieldName, no, 0)
		b.PrependBoolSlot(slotFieldNullable, true, false)
		b.PrependByteSlot(slotFieldTypeType, typeType, 0)
		b.PrependUOffsetTSlot(slotFieldType, typ, 0)
		b.PrependUOffsetTSlot(slotFieldChildren, children, 0)
		b.PrependUOffsetTSlot(slotFieldCustomMetadata, md, 0)
	})
}

// int64Field is a nullable int64 field.
func (w *fbw) int64Field(name string) fbOff {
	return w.field(name, ipcTypeInt, w.intType(), 0, 0)
}

func (w *fbw) schema(fields, md fbOff) fbOff {
	return w.obj(4, func(b *flatbuffers.Builder) {
		b.PrependUOffsetTSlot(slotSchemaFields, fields, 0)
		b.PrependUOffsetTSlot(slotSchemaCustomMetadata, md, 0)
	})
}

// schemaX is the schema {x: int64}.
func (w *fbw) schemaX() fbOff { return w.schema(w.tables(w.int64Field("x")), 0) }

func (w *fbw) footer(schema, dicts, batches, md fbOff) fbOff {
	return w.obj(5, func(b *flatbuffers.Builder) {
		b.PrependInt16Slot(0, 4, 0) // V5
		b.PrependUOffsetTSlot(slotFooterSchema, schema, 0)
		b.PrependUOffsetTSlot(slotFooterDictionaries, dicts, 0)
		b.PrependUOffsetTSlot(slotFooterRecordBatches, batches, 0)
		b.PrependUOffsetTSlot(slotFooterCustomMetadata, md, 0)
	})
}

func (w *fbw) message(typ byte, header fbOff, bodyLen int64, md fbOff) fbOff {
	return w.obj(5, func(b *flatbuffers.Builder) {
		b.PrependInt16Slot(0, 4, 0) // V5
		b.PrependByteSlot(slotMessageHeaderType, typ, 0)
		b.PrependUOffsetTSlot(slotMessageHeader, header, 0)
		b.PrependInt64Slot(slotMessageBodyLength, bodyLen, 0)
		b.PrependUOffsetTSlot(slotMessageCustomMetadata, md, 0)
	})
}

func (w *fbw) batch(length int64, nodes, buffers, compression, variadic fbOff) fbOff {
	return w.obj(5, func(b *flatbuffers.Builder) {
		b.PrependInt64Slot(slotBatchLength, length, 0)
		b.PrependUOffsetTSlot(slotBatchNodes, nodes, 0)
		b.PrependUOffsetTSlot(slotBatchBuffers, buffers, 0)
		b.PrependUOffsetTSlot(slotBatchCompression, compression, 0)
		b.PrependUOffsetTSlot(slotBatchVariadic, variadic, 0)
	})
}

func (w *fbw) lz4() fbOff {
	return w.obj(2, func(b *flatbuffers.Builder) { b.PrependInt8Slot(slotCodec, 0, -1) })
}

// finish returns the buffer with root as its root table.
func (w *fbw) finish(root fbOff) []byte {
	w.b.Finish(root)
	return w.b.FinishedBytes()
}

// pos is the position in the finished buffer of what off names.
func (w *fbw) pos(off fbOff) int { return len(w.b.FinishedBytes()) - int(off) }

// ipcMsg is one message to write: its metadata and body.
type ipcMsg struct{ meta, body []byte }

// frame writes m as a stream writes it: continuation marker, metadata
// length, metadata padded to 8 bytes, body padded to 8 bytes.
func frame(m ipcMsg) []byte {
	meta := pad8(m.meta, 8)
	out := binary.LittleEndian.AppendUint32(nil, ipcContinuation)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(meta)))
	out = append(out, meta...)
	return append(out, pad8(m.body, 0)...)
}

// pad8 pads b with zeros so that len(b)+extra is a multiple of 8.
func pad8(b []byte, extra int) []byte {
	out := append([]byte(nil), b...)
	for (len(out)+extra)%8 != 0 {
		out = append(out, 0)
	}
	return out
}

// ipcFileOf assembles an Arrow IPC file: magic, the messages, the footer
// that footer builds given the messages' blocks, its length, magic.
func ipcFileOf(msgs []ipcMsg, footer func(w *fbw, blocks []ipcBlock) fbOff) []byte {
	out := append([]byte("ARROW1"), 0, 0)
	var blocks []ipcBlock
	for _, m := range msgs {
		f := frame(m)
		body := len(pad8(m.body, 0))
		blocks = append(blocks, ipcBlock{offset: int64(len(out)), meta: int32(len(f) - body), body: int64(body)})
		out = append(out, f...)
	}
	w := newFbw()
	fb := pad8(w.finish(footer(w, blocks)), 0)
	out = append(out, fb...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(fb)))
	return append(out, "ARROW1"...)
}

// ipcStreamOf assembles an Arrow IPC stream: the messages, then the
// end-of-stream marker.
func ipcStreamOf(msgs ...ipcMsg) []byte {
	var out []byte
	for _, m := range msgs {
		out = append(out, frame(m)...)
	}
	out = binary.LittleEndian.AppendUint32(out, ipcContinuation)
	return binary.LittleEndian.AppendUint32(out, 0)
}

// schemaFooter is a footer with the schema built by schema and no
// messages.
func schemaFooter(schema func(w *fbw) fbOff) []byte {
	return ipcFileOf(nil, func(w *fbw, _ []ipcBlock) fbOff { return w.footer(schema(w), 0, 0, 0) })
}

// msgMeta builds one message's metadata.
func msgMeta(build func(w *fbw) fbOff) []byte {
	w := newFbw()
	return w.finish(build(w))
}

// schemaMsg is the schema message of {x: int64}.
func schemaMsg() ipcMsg {
	return ipcMsg{meta: msgMeta(func(w *fbw) fbOff { return w.message(ipcSchema, w.schemaX(), 0, 0) })}
}

// batchMsg is a record batch message of one row of {x: int64} whose
// RecordBatch table batch builds, given the body length.
func batchMsg(body []byte, batch func(w *fbw) fbOff) ipcMsg {
	return ipcMsg{meta: msgMeta(func(w *fbw) fbOff { return w.message(ipcRecordBatch, batch(w), int64(len(body)), 0) }), body: body}
}

// goodBatch is the RecordBatch of {x: [7]}: no validity buffer, 8 bytes
// of values.
func goodBatch(w *fbw) fbOff {
	return w.batch(1, w.pairs([2]int64{1, 0}), w.pairs([2]int64{0, 0}, [2]int64{0, 8}), 0, 0)
}

// batchFile is an Arrow IPC file of {x: int64} holding the batch message
// m.
func batchFile(m ipcMsg) []byte {
	return ipcFileOf([]ipcMsg{schemaMsg(), m}, func(w *fbw, blocks []ipcBlock) fbOff {
		return w.footer(w.schemaX(), 0, w.blocks(blocks[1]), 0)
	})
}

// le64 is v as 8 little-endian bytes.
func le64(v int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }
