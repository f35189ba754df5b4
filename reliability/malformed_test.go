package reliability

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wasinfer/wasinfer/dataset"
	"github.com/wasinfer/wasinfer/gpu"
)

// The malformed-data corpus: deterministic damaged copies (mutations, plus
// format-specific huge declared lengths and decompression bombs) of real
// files of the repository, fed to the real readers — the dataset sources
// (Parquet, IPC, CSV, JSON lines, images) and gpu.Inspect and gpu.Load for
// ONNX models. Every file is decoded in a child process (decodeChild), one
// child per format working through its list, so that a reader that brings
// the process down (a fatal out-of-memory, a crash in ONNX Runtime's C
// code) is seen and counted as a crash of that file; the child restarts at
// the next file.

// decodeResult is what reading one file gave.
type decodeResult struct {
	File      string  `json:"file"`
	Outcome   string  `json:"outcome"` // "read", "error", "rejected" (bad rows went to dead letters), "panic", "hang", "crash"
	Err       string  `json:"err,omitempty"`
	Rows      int64   `json:"rows"`
	Rejected  int     `json:"rejected"`
	GoAlloc   int64   `json:"go_alloc"`   // bytes the Go heap handed out while reading
	ArrowPeak int64   `json:"arrow_peak"` // most Arrow bytes out at once
	Millis    float64 `json:"ms"`
}

type decodeJob struct {
	Format string   `json:"format"`
	Files  []string `json:"files"`
	Lib    string   `json:"lib,omitempty"` // the ONNX Runtime library, for "onnx"
}

// perFileTimeout bounds one file's decoding: past it the child reports a
// hang and exits.
const perFileTimeout = 60 * time.Second

func init() { children["decode"] = decodeChild }

func decodeChild(arg string) error {
	var job decodeJob
	if err := json.Unmarshal([]byte(arg), &job); err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	for _, f := range job.Files {
		fmt.Fprintf(os.Stderr, "start %s\n", f)
		done := make(chan decodeResult, 1)
		go func() { done <- decodeFile(job, f) }()
		select {
		case r := <-done:
			if err := enc.Encode(r); err != nil {
				return err
			}
		case <-time.After(perFileTimeout):
			_ = enc.Encode(decodeResult{File: f, Outcome: "hang", Err: fmt.Sprintf("no result within %v", perFileTimeout)})
			os.Exit(3)
		}
	}
	return nil
}

// decodeFile reads one file with the real reader of its format.
func decodeFile(job decodeJob, path string) (res decodeResult) {
	res.File = path
	ctx, cancel := context.WithTimeout(context.Background(), perFileTimeout)
	defer cancel()
	mem := newPeakAllocator()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	alloc0 := ms.TotalAlloc
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			res.Outcome, res.Err = "panic", fmt.Sprint(p)
		}
		runtime.ReadMemStats(&ms)
		res.GoAlloc = int64(ms.TotalAlloc - alloc0)
		res.ArrowPeak = mem.peakBytes()
		res.Millis = float64(time.Since(start)) / 1e6
		if res.Outcome == "" {
			res.Outcome = "read"
			if res.Rejected > 0 {
				res.Outcome = "rejected"
			}
		}
	}()
	fail := func(err error) decodeResult {
		res.Outcome, res.Err = "error", err.Error()
		return res
	}
	if job.Format == "onnx" {
		if _, err := gpu.Inspect(path); err != nil {
			return fail(err)
		}
		p, err := gpu.Load(ctx, path, gpu.WithLibrary(job.Lib), gpu.WithActors(1), gpu.WithIntraOpThreads(1))
		if err != nil {
			return fail(err)
		}
		p.Close(ctx)
		return res
	}
	var src dataset.Source
	var err error
	opts := []dataset.Option{dataset.WithAllocator(mem), dataset.WithAllowBadRows(true), dataset.WithMaxRowBytes(1 << 20)}
	switch job.Format {
	case "parquet":
		src, err = dataset.OpenParquet(ctx, []string{path}, dataset.WithAllocator(mem))
	case "ipc":
		src, err = dataset.OpenIPC(ctx, []string{path}, dataset.WithAllocator(mem))
	case "csv":
		src, err = dataset.OpenCSV(ctx, []string{path}, opts...)
	case "jsonl":
		src, err = dataset.OpenJSONL(ctx, []string{path}, opts...)
	case "images":
		// path is a directory: a good image first (it fixes the shape),
		// then the damaged one.
		src, err = dataset.OpenImages(ctx, []string{path}, opts...)
	default:
		err = fmt.Errorf("unknown format %q", job.Format)
	}
	if err != nil {
		return fail(err)
	}
	defer src.Close()
	for _, sp := range src.Splits() {
		r, err := src.Open(ctx, sp)
		if err != nil {
			return fail(err)
		}
		for {
			rec, err := r.Read(ctx)
			if rj, ok := r.(dataset.Rejecter); ok {
				res.Rejected += len(rj.Rejected())
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				r.Close()
				return fail(err)
			}
			res.Rows += rec.NumRows()
			rec.Release()
		}
		r.Close()
	}
	return res
}

// runDecode decodes files in children, restarting after a crash or hang,
// and returns one result per file.
func runDecode(t *testing.T, job decodeJob) []decodeResult {
	t.Helper()
	var out []decodeResult
	rest := job.Files
	for len(rest) > 0 {
		job.Files = rest
		cmd := child("decode", job)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		runErr := cmd.Run()
		done := map[string]bool{}
		dec := json.NewDecoder(&stdout)
		for {
			var r decodeResult
			if err := dec.Decode(&r); err != nil {
				break
			}
			out = append(out, r)
			done[r.File] = true
		}
		if runErr == nil {
			break
		}
		// The child died: the last file it started is the culprit.
		last := ""
		sc := bufio.NewScanner(&stderr)
		sc.Buffer(nil, 1<<20)
		var tail []string
		for sc.Scan() {
			if f, ok := strings.CutPrefix(sc.Text(), "start "); ok {
				last = f
				tail = tail[:0]
			} else if len(tail) < 6 {
				tail = append(tail, sc.Text())
			}
		}
		if last == "" {
			t.Fatalf("the decode child failed before its first file: %v\n%s", runErr, stderr.String())
		}
		if !done[last] {
			out = append(out, decodeResult{File: last, Outcome: "crash", Err: fmt.Sprintf("%v: %s", runErr, strings.Join(tail, " | "))})
		}
		i := 0
		for i < len(rest) && rest[i] != last {
			i++
		}
		rest = rest[min(i+1, len(rest)):]
	}
	return out
}

// corpusFile writes a mutant under dir and returns its path.
func corpusFile(t *testing.T, dir, ext string, m mutant) string {
	t.Helper()
	p := filepath.Join(dir, strings.NewReplacer("/", "_", ".", "_").Replace(m.Name)+ext)
	if err := os.WriteFile(p, m.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// digitImage renders scan i of the digits example (8×8, values 0..16) as a
// 32×32 grey image.
func digitImages(t *testing.T, n int) []*image.Gray {
	t.Helper()
	ctx := context.Background()
	src, err := dataset.OpenParquet(ctx, []string{repo("examples", "digits", "data", "test.parquet")})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r, err := src.Open(ctx, src.Splits()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, err := r.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	st := rec.Column(rec.Schema().FieldIndices("pixels")[0]).(array.ExtensionArray).Storage().(*array.FixedSizeList)
	vals := st.ListValues().(*array.Uint8).Uint8Values()
	var out []*image.Gray
	for i := range min(n, int(rec.NumRows())) {
		g := image.NewGray(image.Rect(0, 0, 32, 32))
		for y := range 32 {
			for x := range 32 {
				g.SetGray(x, y, color.Gray{Y: vals[i*64+(y/4)*8+x/4] * 15})
			}
		}
		out = append(out, g)
	}
	return out
}

func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	c := crc32.NewIEEE()
	c.Write([]byte(typ))
	c.Write(data)
	_ = binary.Write(&b, binary.BigEndian, c.Sum32())
	return b.Bytes()
}

// pngBomb is a valid PNG header (with correct checksums) that declares
// w×h pixels of 16-bit RGBA, and one tiny IDAT: a decompression bomb.
func pngBomb(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 16, 6
	var f bytes.Buffer
	f.WriteString("\x89PNG\r\n\x1a\n")
	f.Write(pngChunk("IHDR", ihdr))
	f.Write(pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}))
	f.Write(pngChunk("IEND", nil))
	return f.Bytes()
}

// jpegBomb is a real JPEG whose frame header (SOF0) is changed to declare
// 65500×65500 pixels.
func jpegBomb(good []byte) []byte {
	b := bytes.Clone(good)
	if i := bytes.Index(b, []byte{0xff, 0xc0}); i >= 0 && i+9 <= len(b) {
		binary.BigEndian.PutUint16(b[i+5:], 65500)
		binary.BigEndian.PutUint16(b[i+7:], 65500)
	}
	return b
}

// malformedCorpus builds every format's damaged files under dir.
func malformedCorpus(t *testing.T, dir string) map[string][]string {
	t.Helper()
	flips := pick(6, 40)
	files := map[string][]string{}
	add := func(format, ext string, ms ...mutant) {
		d := filepath.Join(dir, format)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			files[format] = append(files[format], corpusFile(t, d, ext, m))
		}
	}
	// Parquet: the footer's length (4 bytes before the closing PAR1) made huge.
	for _, p := range []string{
		repo("dataset", "testdata", "duckdb", "flat.parquet"), repo("dataset", "testdata", "duckdb", "nested.parquet"),
		repo("dataset", "testdata", "duckdb", "zstd.parquet"), repo("examples", "digits", "data", "test.parquet"),
		repo("examples", "quickstart", "readings.parquet"),
	} {
		data, base := readFile(t, p), strings.TrimSuffix(filepath.Base(p), ".parquet")
		add("parquet", ".parquet", mutations(base, data, flips)...)
		add("parquet", ".parquet", setU32(base, "footer-len-huge", data, len(data)-8, 0x7fffffff, false), setU32(base, "footer-len-max", data, len(data)-8, 0xffffffff, false))
	}
	// Arrow IPC files: the first message's metadata length and the footer's
	// length made huge.
	for _, p := range []string{repo("examples", "quickstart", "images.arrow"), repo("udfs", "argmax", "vectors", "01-in.arrow"), repo("udfs", "image_crop", "vectors", "01-in.arrow")} {
		data, base := readFile(t, p), strings.TrimSuffix(filepath.Base(p), ".arrow")
		base = filepath.Base(filepath.Dir(filepath.Dir(p))) + "-" + base
		add("ipc", ".arrow", mutations(base, data, flips)...)
		add("ipc", ".arrow", setU32(base, "message-len-huge", data, 12, 0x7ffffff0, false), setU32(base, "footer-len-huge", data, len(data)-10, 0x7ffffff0, false))
	}
	// Regression: 16 bytes of 0xff at offset 1195 of this file (found by the
	// full corpus) make a custom-metadata vector of the footer's schema
	// claim billions of entries; arrow-go's ipc.metadataFromFB allocates
	// them before reading one (a fatal out-of-memory).
	if data := readFile(t, repo("udfs", "image_crop", "vectors", "01-in.arrow")); len(data) > 1211 {
		b := bytes.Clone(data)
		copy(b[1195:], bytes.Repeat([]byte{0xff}, 16))
		add("ipc", ".arrow", mutant{"regression/ipc-metadata-count", b})
	}
	// CSV and JSON lines: the quickstart readings written by the real sinks,
	// then damaged, plus hand-made hostile lines.
	for _, format := range []dataset.Format{dataset.FormatCSV, dataset.FormatJSONL} {
		data := convert(t, repo("examples", "quickstart", "readings.parquet"), format, filepath.Join(dir, "src-"+string(format)))
		ext := "." + string(format)
		add(string(format), ext, mutations("readings", data, flips)...)
		line, _, _ := bytes.Cut(data, []byte("\n"))
		hostile := []mutant{
			{"readings/invalid-utf8", append(bytes.Clone(data), []byte("\xff\xfe\xfd\n")...)},
			{"readings/nul-bytes", bytes.ReplaceAll(bytes.Clone(data), []byte(","), []byte("\x00,"))},
			{"readings/line-of-2MiB", append(append(bytes.Clone(data), bytes.Repeat([]byte("9"), 2<<20)...), '\n')},
			{"readings/unterminated-quote", append(bytes.Clone(data), []byte("\"never closed, 1, 2\n")...)},
			{"readings/only-header", append(bytes.Clone(line), '\n')},
			{"readings/deep-nesting", append(append(bytes.Clone(data), bytes.Repeat([]byte("["), 200000)...), '\n')},
			{"readings/huge-number", append(bytes.Clone(data), []byte(`{"x": 1e999999999, "y": 123456789012345678901234567890}`+"\n")...)},
		}
		add(string(format), ext, hostile...)
	}
	// Images: digits scans as PNG and JPEG; each damaged file sits in its own
	// directory after a good image (which fixes the column's shape).
	imgs := digitImages(t, 2)
	for _, kind := range []string{"png", "jpeg"} {
		var good, other bytes.Buffer
		enc := func(w io.Writer, m image.Image) {
			var err error
			if kind == "png" {
				err = png.Encode(w, m)
			} else {
				err = jpeg.Encode(w, m, &jpeg.Options{Quality: 90})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		enc(&good, imgs[0])
		enc(&other, imgs[1])
		ms := mutations("digit", other.Bytes(), flips)
		if kind == "png" {
			ms = append(ms, mutant{"digit/bomb-60000x60000", pngBomb(60000, 60000)}, setU32("digit", "ihdr-len-huge", other.Bytes(), 8, 0x7fffffff, true))
		} else {
			ms = append(ms, mutant{"digit/bomb-65500x65500", jpegBomb(other.Bytes())})
		}
		for _, m := range ms {
			d := filepath.Join(dir, kind, strings.NewReplacer("/", "_", ".", "_").Replace(m.Name))
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			ext := "." + map[string]string{"png": "png", "jpeg": "jpg"}[kind]
			if err := os.WriteFile(filepath.Join(d, "a_good"+ext), good.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, "b_damaged"+ext), m.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			files[kind] = append(files[kind], d)
		}
	}
	return files
}

// convert writes the rows of a Parquet file as one file of format and
// returns its bytes.
func convert(t *testing.T, path string, format dataset.Format, dir string) []byte {
	t.Helper()
	ctx := context.Background()
	src, err := dataset.OpenParquet(ctx, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sink, err := dataset.OpenSink(ctx, dir, format)
	if err != nil {
		t.Fatal(err)
	}
	w := dataset.NewWriter(sink, true)
	for _, sp := range src.Splits() {
		r, err := src.Open(ctx, sp)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := r.Read(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(ctx, rec); err != nil {
				t.Fatal(err)
			}
			rec.Release()
		}
		r.Close()
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "part-*"))
	if len(files) != 1 {
		t.Fatalf("%d files for %s", len(files), format)
	}
	return readFile(t, files[0])
}

// TestMalformedData: every damaged file gives a clear error (naming the
// file) or dead-letter rows, never a panic, a crash or a hang, within a time
// bound and a memory bound per file (Go heap allocations while reading at
// most 1 GiB, Arrow buffers out at once at most 256 MiB).
func TestMalformedData(t *testing.T) {
	files := malformedCorpus(t, t.TempDir())
	const goBound, arrowBound = 1 << 30, 256 << 20
	for _, format := range []string{"parquet", "ipc", "csv", "jsonl", "png", "jpeg"} {
		t.Run(format, func(t *testing.T) {
			dsFormat := format
			if format == "png" || format == "jpeg" {
				dsFormat = "images"
			}
			res := runDecode(t, decodeJob{Format: dsFormat, Files: files[format]})
			summarize(t, format, res, goBound, arrowBound)
		})
	}
}

// summarize checks and records the results of one format.
func summarize(t *testing.T, format string, res []decodeResult, goBound, arrowBound int64) {
	t.Helper()
	n := map[string]int{}
	var maxGo, maxArrow int64
	var maxMs float64
	var examples []string
	for _, r := range res {
		n[r.Outcome]++
		maxGo, maxArrow, maxMs = max(maxGo, r.GoAlloc), max(maxArrow, r.ArrowPeak), max(maxMs, r.Millis)
		switch r.Outcome {
		case "panic", "crash", "hang":
			t.Errorf("%s: %s: %s", filepath.Base(r.File), r.Outcome, r.Err)
		case "error":
			// A reader names the file; a model stage is named after its
			// file (base name without .onnx) and errors name the stage.
			name := strings.TrimSuffix(filepath.Base(r.File), ".onnx")
			if !strings.Contains(r.Err, name) && !strings.Contains(r.Err, filepath.Base(filepath.Dir(r.File))) {
				t.Errorf("%s: the error does not name the file: %s", filepath.Base(r.File), r.Err)
			}
			if len(examples) < 3 {
				examples = append(examples, r.Err)
			}
		}
		if r.GoAlloc > goBound || r.ArrowPeak > arrowBound {
			t.Errorf("%s: allocated %s on the Go heap and %s of Arrow buffers at once, above the bounds (%s, %s)",
				filepath.Base(r.File), mib(r.GoAlloc), mib(r.ArrowPeak), mib(goBound), mib(arrowBound))
		}
	}
	read := "read (the damage fell on values)"
	if format == "onnx" {
		read = "loaded (the damage fell on weights or names)"
	}
	record(t, "hostile data", format, fmt.Sprintf("%d damaged files: %d clear errors, %d dead-letter rows (in %d files), %d %s, %d panics, %d crashes, %d hangs; per file at most %.0f ms, %s Go heap, %s Arrow",
		len(res), n["error"], sumRejected(res), n["rejected"], n["read"], read, n["panic"], n["crash"], n["hang"], maxMs, mib(maxGo), mib(maxArrow)),
		"TestMalformed", map[string]any{"outcomes": n, "examples": examples})
}

func sumRejected(res []decodeResult) int {
	s := 0
	for _, r := range res {
		s += r.Rejected
	}
	return s
}
