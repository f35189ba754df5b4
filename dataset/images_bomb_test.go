package dataset

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pngHeader is a PNG signature and an IHDR chunk declaring w × h RGB
// pixels, and nothing else: what a decompression bomb needs to start.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8 bits, truecolour
	chunk := append([]byte("IHDR"), ihdr...)
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// TestImageBombRefusedBeforeDecoding: an image whose header declares more
// pixels than MaxImagePixels is a bad row naming the file, found from the
// header alone, with or without a resize (regression: the reliability
// suite's 100-byte PNG declaring 60000 × 60000 killed the process).
func TestImageBombRefusedBeforeDecoding(t *testing.T) {
	dir := t.TempDir()
	bomb := filepath.Join(dir, "bomb.png")
	if err := os.WriteFile(bomb, pngHeader(60000, 60000), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, opts := range [][]Option{nil, {WithResize(32, 32)}} {
		_, err := func() (int64, error) {
			src, err := OpenImages(context.Background(), []string{bomb}, opts...)
			if err != nil {
				return 0, err
			}
			defer src.Close()
			recs, err := ReadAll(context.Background(), NewStreamReader(src, nil))
			for _, r := range recs {
				r.Release()
			}
			return 0, err
		}()
		var re *RowError
		if !errors.As(err, &re) || re.File != bomb || !strings.Contains(err.Error(), "declares 60000×60000 pixels") {
			t.Fatalf("resize %v: got %v, want a bad row naming %s and its declared size", opts != nil, err, bomb)
		}
	}
}
