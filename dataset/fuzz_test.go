package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FuzzCSVParser: any bytes split into records without a panic; every
// record starts on a later line than the one before, and a record's
// fields, re-encoded, parse back to the same fields.
func FuzzCSVParser(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "\"x\"\"y\",\"multi\nline\"\r\n", "\"open", "a\"b,c\n\n\n", "\"a\"x,b\n", ",,\n"} {
		f.Add([]byte(s), byte(','))
	}
	f.Fuzz(func(t *testing.T, data []byte, delim byte) {
		if delim == '"' || delim == '\n' || delim == '\r' || delim >= 0x80 {
			delim = ','
		}
		p := newCSVParser(bytes.NewReader(data), delim, 1<<16)
		var rec csvRecord
		last := int64(0)
		for {
			err := p.next(&rec)
			if errors.Is(err, io.EOF) {
				return
			}
			var se *csvSyntaxError
			if errors.As(err, &se) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.line <= last {
				t.Fatalf("record on line %d after one on line %d", rec.line, last)
			}
			last = rec.line
			// Re-encode and parse again.
			var buf bytes.Buffer
			e := &csvEncoder{w: &buf, delim: delim}
			for i, fl := range rec.fields {
				if i > 0 {
					e.buf.WriteByte(delim)
				}
				e.field(fl, false)
			}
			buf.Write(e.buf.Bytes())
			buf.WriteByte('\n')
			q := newCSVParser(&buf, delim, 1<<20)
			var back csvRecord
			if err := q.next(&back); err != nil {
				t.Fatalf("re-encoded %q: %v", buf.String(), err)
			}
			if len(back.fields) != len(rec.fields) {
				t.Fatalf("fields %q, back %q", rec.fields, back.fields)
			}
			for i := range rec.fields {
				if back.fields[i] != rec.fields[i] {
					t.Fatalf("fields %q, back %q", rec.fields, back.fields)
				}
			}
		}
	})
}

// FuzzJSONLine: any line is either rejected or decoded into the schema,
// without a panic or a leak.
func FuzzJSONLine(f *testing.F) {
	for _, s := range []string{`{"id": 1, "s": "a", "l": [1, 2], "st": {"a": 1.5}}`, `{"id": "x"}`, `[1]`, `{"l": [null]}`, "{\"s\": \"\xff\"}", `{}`} {
		f.Add([]byte(s))
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Float64, Nullable: true}), Nullable: true},
	}, nil)
	f.Fuzz(func(t *testing.T, line []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		src := &JSONLSource{cfg: config{mem: mem}}
		src.schema = schema
		r := &jsonlReader{src: src, path: "fuzz.jsonl"}
		if bytes.ContainsAny(line, "\n") || checkJSONLine(line) != nil {
			return
		}
		r.allow = true
		rec, err := r.build([]jsonLine{{line: 1, text: line}})
		if err != nil {
			return
		}
		if rec.NumRows()+int64(len(r.Rejected())) != 1 {
			t.Fatalf("%d rows and rejects for one line", rec.NumRows())
		}
		rec.Release()
		var v any
		_ = json.Unmarshal(line, &v)
	})
}

// FuzzImageDecode: any bytes decode into a resized image or give an
// error, without a panic.
func FuzzImageDecode(f *testing.F) {
	for _, s := range [][]byte{
		[]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"),
		[]byte("\xff\xd8\xff\xdb\x00C\x00"), []byte("BM"), []byte("GIF89a"), []byte("RIFF\x00\x00\x00\x00WEBPVP8 "), []byte("II*\x00"),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dst := make([]byte, 4*3*3)
		_ = decodeInto(dst, data, 4, 3, 3, true)
		gray := make([]byte, 4*3)
		_ = decodeInto(gray, data, 4, 3, 1, true)
	})
}

// FuzzManifest: any manifest text parses or fails with ErrManifest; what
// parses re-encodes to entries that parse the same.
func FuzzManifest(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"split":3,"id":"a#rg=1","fingerprint":"size=1,mtime=2","input_rows":10,"rows":10,"files":[{"name":"part-000003-000.parquet","rows":10,"bytes":100}]}` + "\n",
		`{"v":1,"split":0,"id":"x","fingerprint":"","input_rows":-1,"rows":0,"files":[]}` + "\n" + `{"v":1,"spl`,
		`{"v":2}` + "\n", "\n\n", `{"v":1,"split":1,"files":[{"name":"../../etc/passwd"}]}` + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, valid, err := parseManifest(bytes.NewReader(data), "m.jsonl")
		if err != nil {
			if !errors.Is(err, ErrManifest) {
				t.Fatalf("error %v does not wrap ErrManifest", err)
			}
			return
		}
		if valid > int64(len(data)) || (valid > 0 && data[valid-1] != '\n') {
			t.Fatalf("valid %d of %d bytes", valid, len(data))
		}
		var buf bytes.Buffer
		for _, e := range entries {
			for _, fl := range e.Files {
				if _, _, ok := partIndex(fl.Name); !ok {
					t.Fatalf("file name %q accepted", fl.Name)
				}
			}
			b, _ := json.Marshal(e)
			buf.Write(b)
			buf.WriteByte('\n')
		}
		again, _, err := parseManifest(&buf, "again")
		if err != nil || len(again) != len(entries) {
			t.Fatalf("re-encoded: %v, %d entries of %d", err, len(again), len(entries))
		}
	})
}
