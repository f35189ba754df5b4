package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Limits of the IPC guard.
const (
	// ipcMaxMetadata is the largest footer or message metadata read:
	// arrow-go's default (ipc.WithMetadataSizeLimit), 64 MiB.
	ipcMaxMetadata = 64 << 20
	// ipcMaxDecompressed is the most the buffers of one compressed
	// message may decompress to: arrow-go's default limit on a file
	// message's body (ipc.WithBodySizeLimit), 256 MiB.
	ipcMaxDecompressed = 256 << 20
)

// ipcMagic opens and closes an Arrow IPC file.
var ipcMagic = []byte("ARROW1")

// ipcContinuation marks the start of a message (since Arrow 0.15).
const ipcContinuation = 0xFFFFFFFF

// ipcTrailer is the footer length (int32) and the closing magic.
const ipcTrailer = 4 + 6

// ipcFile is an Arrow IPC file whose footer the guard has checked. It is
// also the ipc.ReadAtSeeker to give arrow-go (of size bytes): reads of
// the footer, the trailer and the metadata of the messages the guard has
// checked are served from the bytes it checked, so arrow-go decodes
// exactly those and the file is not read twice; other reads go to r. Used
// by one goroutine.
type ipcFile struct {
	r      io.ReaderAt
	size   int64
	footer ipcFooter
	// checked holds the bytes the guard checked, by file offset: the
	// footer, the trailer, the dictionaries' metadata, the last checked
	// record batch's metadata (at lastBatch).
	checked   map[int64][]byte
	lastBatch int64
	pos       int64 // for Read and Seek
}

// ReadAt reads from the checked bytes when they hold p exactly from off,
// else from the file, never past size.
func (f *ipcFile) ReadAt(p []byte, off int64) (int, error) {
	if b, ok := f.checked[off]; ok && len(p) <= len(b) {
		return copy(p, b), nil
	}
	if off < 0 {
		return 0, errors.New("dataset: negative offset")
	}
	if off >= f.size {
		return 0, io.EOF
	}
	if left := f.size - off; int64(len(p)) > left {
		n, err := f.r.ReadAt(p[:left], off)
		if err == nil {
			err = io.EOF
		}
		return n, err
	}
	return f.r.ReadAt(p, off)
}

// Read reads from the current offset.
func (f *ipcFile) Read(p []byte) (int, error) {
	n, err := f.ReadAt(p, f.pos)
	f.pos += int64(n)
	return n, err
}

// Seek sets the offset of Read; the end is size.
func (f *ipcFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		offset += f.size
	}
	if offset < 0 {
		return 0, errors.New("dataset: seeking before the start of the file")
	}
	f.pos = offset
	return offset, nil
}

// checkIPCFile checks the footer of the Arrow IPC file r of size bytes,
// and the metadata of its dictionary messages (arrow-go reads them all
// when it opens a file), before arrow-go decodes any of it. Errors are
// *ipcMetaError.
func checkIPCFile(r io.ReaderAt, size int64) (*ipcFile, error) {
	fail := func(format string, args ...any) error {
		return &ipcMetaError{Msg: "the file " + fmt.Sprintf(format, args...)}
	}
	if size < 8+ipcTrailer+4 {
		return nil, fail("has %d bytes, an Arrow IPC file at least %d (magic, footer, footer length, magic)", size, 8+ipcTrailer+4)
	}
	var head [8]byte
	var tail [ipcTrailer]byte
	if err := readAt(r, head[:], 0); err != nil {
		return nil, err
	}
	if err := readAt(r, tail[:], size-ipcTrailer); err != nil {
		return nil, err
	}
	if !bytes.Equal(head[:6], ipcMagic) {
		if binary.LittleEndian.Uint32(head[:]) == ipcContinuation {
			return nil, fail("starts with a message, not the magic ARROW1: it is an Arrow IPC stream; name it .arrows or read it with the IPC format stream")
		}
		return nil, fail("does not start with the magic ARROW1: it is not an Arrow IPC file")
	}
	if !bytes.Equal(tail[4:], ipcMagic) {
		return nil, fail("does not end with the magic ARROW1: it is truncated or not an Arrow IPC file")
	}
	footerLen := int64(int32(binary.LittleEndian.Uint32(tail[:4])))
	if most := size - 8 - ipcTrailer; footerLen < 4 || footerLen > most {
		return nil, fail("declares a footer of %d bytes: a %d-byte file holds a footer of 4 to %d bytes", footerLen, size, most)
	}
	if footerLen > ipcMaxMetadata {
		return nil, fail("declares a footer of %d bytes, more than the limit of %d", footerLen, ipcMaxMetadata)
	}
	start := size - ipcTrailer - footerLen
	buf := make([]byte, footerLen)
	if err := readAt(r, buf, start); err != nil {
		return nil, err
	}
	footer, err := checkFooter(buf, start, start)
	if err != nil {
		return nil, where(err, fmt.Sprintf("the footer (%d bytes at byte %d)", footerLen, start))
	}
	f := &ipcFile{r: r, size: size, footer: footer, lastBatch: -1,
		checked: map[int64][]byte{start: buf, size - ipcTrailer: tail[:]}}
	for i, b := range footer.dicts {
		if err := f.checkBlock(b, "dictionary", i, ipcDictionaryBatch); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// checkBatch checks the metadata of record batch i before arrow-go reads
// it.
func (f *ipcFile) checkBatch(i int) error {
	if i < 0 || i >= len(f.footer.batches) {
		return &ipcMetaError{Where: "the footer", Msg: fmt.Sprintf("it lists %d record batches, not batch %d", len(f.footer.batches), i)}
	}
	if f.lastBatch >= 0 {
		delete(f.checked, f.lastBatch)
		f.lastBatch = -1
	}
	b := f.footer.batches[i]
	if err := f.checkBlock(b, "record batch", i, ipcRecordBatch); err != nil {
		return err
	}
	f.lastBatch = b.offset
	return nil
}

// checkBlock checks the message a footer block points to (what i:
// "dictionary 0"): its framing, its metadata, that it is of kind want and
// that its body is the block's; the metadata checked is kept for
// arrow-go's read (ReadAt).
func (f *ipcFile) checkBlock(b ipcBlock, what string, i int, want int) error {
	w := func() string { return fmt.Sprintf("%s %d (the message at byte %d)", what, i, b.offset) }
	fail := func(format string, args ...any) error {
		return &ipcMetaError{Where: w(), Msg: fmt.Sprintf(format, args...)}
	}
	if int64(b.meta) > ipcMaxMetadata {
		return fail("%d bytes of metadata, more than the limit of %d", b.meta, ipcMaxMetadata)
	}
	buf := make([]byte, b.meta)
	if err := readAt(f.r, buf, b.offset); err != nil {
		return err
	}
	prefix := 4
	switch binary.LittleEndian.Uint32(buf) {
	case 0:
		return fail("an end-of-stream marker where the footer says a message is")
	case ipcContinuation:
		prefix = 8
	}
	if n := int64(binary.LittleEndian.Uint32(buf[prefix-4:])); n != int64(b.meta)-int64(prefix) {
		return fail("the message declares %d bytes of metadata, the footer %d", n, int64(b.meta)-int64(prefix))
	}
	meta := buf[prefix:]
	info, err := checkMessage(meta, b.offset+int64(prefix))
	if err != nil {
		return where(err, w())
	}
	if info.typ != want {
		return fail("a %s message where the footer says a %s is", ipcHeaderName(info.typ), ipcHeaderName(want))
	}
	if info.bodyLen != b.body {
		return fail("the message declares a body of %d bytes, the footer %d", info.bodyLen, b.body)
	}
	if info.compressed {
		body := b.offset + int64(b.meta)
		var p [8]byte
		err := checkDecompressed(meta, info, func(off int64) (int64, error) {
			if err := readAt(f.r, p[:], body+off); err != nil {
				return 0, err
			}
			return int64(binary.LittleEndian.Uint64(p[:])), nil
		})
		if err != nil {
			return where(err, w())
		}
	}
	f.checked[b.offset] = buf
	return nil
}

// checkDecompressed checks the uncompressed lengths that prefix each
// buffer of a compressed message (-1: stored uncompressed), which arrow-go
// allocates before decompressing: each is non-negative and together at
// most ipcMaxDecompressed. prefix reads the 8 bytes at offset off of the
// body.
func checkDecompressed(meta []byte, info ipcMsgInfo, prefix func(off int64) (int64, error)) error {
	f := newFbuf(meta, 0)
	var total int64
	for i := range info.bufLen {
		at := info.bufStart + i*ipcBufferSize
		off, length := f.i64(at), f.i64(at+8)
		if length == 0 {
			continue
		}
		if length < 8 {
			return &ipcMetaError{Path: fmt.Sprintf("%s.buffers[%d]", info.batchPath, i), Msg: fmt.Sprintf("a compressed buffer of %d bytes cannot hold its 8-byte length prefix", length)}
		}
		n, err := prefix(off)
		if err != nil {
			return err
		}
		if n == -1 {
			continue
		}
		if n < 0 || n > ipcMaxDecompressed-total {
			return &ipcMetaError{Path: fmt.Sprintf("%s.buffers[%d]", info.batchPath, i), Msg: fmt.Sprintf("decompresses to %d bytes: the buffers of a message may decompress to at most %d bytes (%d before this one)", n, ipcMaxDecompressed, total)}
		}
		total += n
	}
	return nil
}

// where sets the Where of an *ipcMetaError that has none.
func where(err error, w string) error {
	var me *ipcMetaError
	if errors.As(err, &me) && me.Where == "" {
		me.Where = w
	}
	return err
}

// readAt fills p from offset off of r.
func readAt(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("reading %d bytes at byte %d: %w", len(p), off, err)
}
