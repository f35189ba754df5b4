package dataset

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ipcMessageReader reads the messages of an Arrow IPC stream of a known
// size for arrow-go's stream reader (ipc.NewReaderFromMessageReader),
// checking each message's framing and metadata before arrow-go sees it,
// and its body length against the bytes left, so a damaged length never
// makes an allocation larger than the stream. It implements
// ipc.MessageReader: a Message is valid until the next call to Message;
// bodies come from mem.
type ipcMessageReader struct {
	r    io.Reader
	mem  memory.Allocator
	left int64 // bytes of the stream not read yet
	pos  int64 // stream offset of the next message
	n    int   // messages read
	msg  *ipc.Message
	refs atomic.Int64
	hdr  [4]byte
}

func newIPCMessageReader(r io.Reader, size int64, mem memory.Allocator) *ipcMessageReader {
	mr := &ipcMessageReader{r: r, mem: mem, left: size}
	mr.refs.Add(1)
	return mr
}

// openIPCStream returns arrow-go's stream reader over the stream r of size
// bytes, reading its messages through an ipcMessageReader. Errors (here
// and from the reader's Next) wrap *ipcMetaError where the guard refused
// a message.
func openIPCStream(r io.Reader, size int64, mem memory.Allocator) (*ipc.Reader, error) {
	return ipc.NewReaderFromMessageReader(newIPCMessageReader(r, size, mem), ipc.WithAllocator(mem))
}

// Retain adds a reference.
func (r *ipcMessageReader) Retain() { r.refs.Add(1) }

// Release drops a reference; the last one releases the current message.
func (r *ipcMessageReader) Release() {
	if r.refs.Add(-1) == 0 && r.msg != nil {
		r.msg.Release()
		r.msg = nil
	}
}

// read fills p from the stream; what names the part for errors.
func (r *ipcMessageReader) read(p []byte, start int64, what string) error {
	if int64(len(p)) > r.left {
		return &ipcMetaError{Where: r.where(start), Msg: fmt.Sprintf("the stream ends %d bytes into the %d bytes of its %s", r.left, len(p), what)}
	}
	n, err := io.ReadFull(r.r, p)
	r.left -= int64(n)
	r.pos += int64(n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("%s: reading its %s: %w", r.where(start), what, err)
	}
	return nil
}

func (r *ipcMessageReader) where(start int64) string {
	return fmt.Sprintf("message %d (at byte %d)", r.n, start)
}

// Message reads, checks and returns the next message; io.EOF at the end
// of the stream (its end-of-stream marker, or its last byte).
func (r *ipcMessageReader) Message() (*ipc.Message, error) {
	if r.msg != nil {
		r.msg.Release()
		r.msg = nil
	}
	start := r.pos
	if r.left == 0 {
		return nil, io.EOF
	}
	fail := func(format string, args ...any) error {
		return &ipcMetaError{Where: r.where(start), Msg: fmt.Sprintf(format, args...)}
	}
	if err := r.read(r.hdr[:], start, "framing"); err != nil {
		return nil, err
	}
	var metaLen int64
	switch cid := binary.LittleEndian.Uint32(r.hdr[:]); cid {
	case 0:
		return nil, io.EOF
	case ipcContinuation:
		if err := r.read(r.hdr[:], start, "framing"); err != nil {
			return nil, err
		}
		metaLen = int64(int32(binary.LittleEndian.Uint32(r.hdr[:])))
		if metaLen == 0 {
			return nil, io.EOF
		}
	default: // before Arrow 0.15: no continuation marker
		metaLen = int64(int32(cid))
	}
	switch {
	case metaLen < 4:
		return nil, fail("the message declares %d bytes of metadata", metaLen)
	case metaLen > r.left:
		return nil, fail("the message declares %d bytes of metadata, %d remain in the stream", metaLen, r.left)
	case metaLen > ipcMaxMetadata:
		return nil, fail("the message declares %d bytes of metadata, more than the limit of %d", metaLen, ipcMaxMetadata)
	}
	metaAt := r.pos
	meta := make([]byte, metaLen)
	if err := r.read(meta, start, "metadata"); err != nil {
		return nil, err
	}
	info, err := checkMessage(meta, metaAt)
	if err != nil {
		return nil, where(err, r.where(start))
	}
	if info.bodyLen > r.left {
		return nil, fail("the message declares a body of %d bytes, %d remain in the stream", info.bodyLen, r.left)
	}
	body := memory.NewResizableBuffer(r.mem)
	defer body.Release()
	body.Resize(int(info.bodyLen))
	if err := r.read(body.Bytes(), start, "body"); err != nil {
		return nil, err
	}
	if info.compressed {
		b := body.Bytes()
		err := checkDecompressed(meta, info, func(off int64) (int64, error) {
			return int64(binary.LittleEndian.Uint64(b[off:])), nil
		})
		if err != nil {
			return nil, where(err, r.where(start))
		}
	}
	mb := memory.NewBufferBytes(meta)
	defer mb.Release()
	r.msg = ipc.NewMessage(mb, body)
	r.n++
	return r.msg, nil
}

// pqarrowSchemaKey is the Parquet key-value metadata under which pqarrow
// stores the Arrow schema (base64 of an IPC stream) and decodes it with
// arrow-go's IPC reader when it opens a file.
const pqarrowSchemaKey = "ARROW:schema"

// checkStoredSchema checks an Arrow schema stored in Parquet key-value
// metadata (base64 of an IPC stream: pqarrow's ARROW:schema, the sink's
// wasinfer:arrow_schema) before arrow-go decodes it: every message of the
// stream passes the guard. A value that is not base64 is left to the
// decoder, which refuses it. Errors are *ipcMetaError.
func checkStoredSchema(b64 string) error {
	// As pqarrow decodes it: padded when the length allows, else raw.
	var raw []byte
	var err error
	if len(b64)%4 == 0 {
		raw, err = base64.StdEncoding.DecodeString(b64)
	}
	if len(raw) == 0 || err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(b64); err != nil {
			return nil
		}
	}
	mr := newIPCMessageReader(bytes.NewReader(raw), int64(len(raw)), memory.DefaultAllocator)
	defer mr.Release()
	for {
		if _, err := mr.Message(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
