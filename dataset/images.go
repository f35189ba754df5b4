package dataset

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif" // decoders register themselves
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	xdraw "golang.org/x/image/draw"

	_ "golang.org/x/image/bmp" // more decoders: BMP, TIFF, WebP
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"

	"github.com/wasinfer/wasinfer/tensor"
)

// ImageSource reads image files (PNG, JPEG, GIF, BMP, TIFF, WebP), one row
// per image: path (utf8) and image, either the encoded bytes (binary, with
// [WithDecode](false)) or the decoded pixels as an arrow.fixed_shape_tensor
// of uint8, shape [H, W, C] (dim names H, W, C), C from [WithChannels].
// Pixels are 8-bit (16-bit images are reduced); rgb composites any
// transparency onto black, rgba keeps straight (not premultiplied) alpha. Every row of a column has one shape: [WithResize]
// scales each image (bilinear) to it; without it every image must have
// the size of the first one.
//
// Splits are runs of [WithFilesPerSplit] files ("images[0:256]"). Within
// a batch, images are decoded by up to [WithWorkers] goroutines, rows in
// path order. A file that does not decode, or has the wrong size, is a
// [*RowError] naming it, or with [WithAllowBadRows] is skipped and
// reported through [Rejecter].
type ImageSource struct {
	base
	cfg   config
	files []inputFile
	runs  [][2]int
	full  *arrow.Schema
	proj  projection
	typ   *tensor.FixedShapeType // nil: encoded bytes
	h, w  int
	ch    int
}

// OpenImages lists image files. When decoding without a resize it reads
// the first file's header for the shape. Options: [WithBatchSize]
// (default [DefaultImageBatchSize]), [WithColumns], [WithLimit],
// [WithAllocator], [WithBaseDir], [WithExtensions], [WithAllowBadRows],
// [WithFilesPerSplit], [WithMaxRowBytes], [WithDecode], [WithResize],
// [WithChannels], [WithWorkers].
func OpenImages(ctx context.Context, inputs []string, opts ...Option) (*ImageSource, error) {
	cfg := newConfig(FormatImages, opts)
	files, err := expand(cfg.baseDir, inputs, extensionsFor(FormatImages, &cfg))
	if err != nil {
		return nil, err
	}
	s := &ImageSource{cfg: cfg, files: files}
	s.format = FormatImages
	s.splits, s.runs = fileRuns(files, cfg.filesPerSplit, "images")
	imgField := arrow.Field{Name: "image", Type: arrow.BinaryTypes.Binary}
	if cfg.decode {
		switch cfg.channels {
		case ChannelsRGB:
			s.ch = 3
		case ChannelsGray:
			s.ch = 1
		case ChannelsRGBA:
			s.ch = 4
		default:
			return nil, fmt.Errorf("%w: image channels %q (want rgb, gray or rgba)", ErrUnsupported, cfg.channels)
		}
		if cfg.width < 0 || cfg.height < 0 || (cfg.width == 0) != (cfg.height == 0) {
			return nil, fmt.Errorf("%w: resize to %d×%d: give both sizes, each at least 1", ErrUnsupported, cfg.width, cfg.height)
		}
		s.w, s.h = cfg.width, cfg.height
		for i := 0; s.w == 0; i++ {
			// The first image that decodes sets the shape; with bad rows
			// allowed, the ones before it are the readers' to reject.
			s.w, s.h, err = imageSize(files[i].path)
			if err != nil && (!cfg.allowBadRows || i == len(files)-1) {
				return nil, err
			}
		}
		s.typ, err = tensor.NewFixedShapeType(arrow.PrimitiveTypes.Uint8, []int{s.h, s.w, s.ch}, tensor.WithDimNames("H", "W", "C"))
		if err != nil {
			return nil, fmt.Errorf("dataset: image shape: %w", err)
		}
		imgField = arrow.Field{Name: "image", Type: s.typ}
	}
	s.full = arrow.NewSchema([]arrow.Field{{Name: "path", Type: arrow.BinaryTypes.String}, imgField}, nil)
	if s.proj, err = project(s.full, cfg.columns, "images source"); err != nil {
		return nil, err
	}
	s.schema = s.proj.schema
	s.openSplit = s.open
	if err := s.applyLimit(ctx, cfg.limit); err != nil {
		return nil, err
	}
	return s, nil
}

// MaxImagePixels bounds the width × height an image may declare: an image
// whose header declares more is a bad row, refused before anything is
// allocated for its pixels (a 100-byte PNG can declare 60000 × 60000).
// 1<<28 pixels is 16384 × 16384: 1 GiB of RGBA, 2 GiB at 16 bits a channel.
const MaxImagePixels = 1 << 28

// checkPixels refuses a declared size past MaxImagePixels.
func checkPixels(format string, w, h int) error {
	if w < 1 || h < 1 {
		return fmt.Errorf("%s image is %d×%d", format, w, h)
	}
	if int64(w)*int64(h) > MaxImagePixels {
		return fmt.Errorf("%s image declares %d×%d pixels, more than the %d this reader decodes (a corrupt or hostile header, or an image to downscale first)", format, w, h, MaxImagePixels)
	}
	return nil
}

func imageSize(path string) (w, h int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("dataset: opening image: %w", err)
	}
	defer f.Close()
	var format string
	err = guard(path, "decoding", func() error {
		c, f2, err := image.DecodeConfig(f)
		w, h, format = c.Width, c.Height, f2
		return err
	})
	if err != nil {
		return 0, 0, &RowError{File: path, Err: fmt.Errorf("reading the image header (for the column's shape; or set a resize): %w", err)}
	}
	if err := checkPixels(format, w, h); err != nil {
		return 0, 0, &RowError{File: path, Err: err}
	}
	return w, h, nil
}

func (s *ImageSource) open(ctx context.Context, i int) (Reader, error) {
	run := s.runs[i]
	r := &imageReader{src: s, split: i, files: s.files[run[0]:run[1]]}
	r.allow = s.cfg.allowBadRows
	return r, nil
}

type imageReader struct {
	rejects
	src   *ImageSource
	split int
	files []inputFile
	next  int
}

// decoded is one image's result.
type decoded struct {
	data []byte // encoded bytes (encoded mode)
	err  *RowError
}

func (r *imageReader) Read(ctx context.Context) (arrow.RecordBatch, error) {
	if r.next >= len(r.files) {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := r.src
	for {
		n := min(s.cfg.batchSize, len(r.files)-r.next)
		files := r.files[r.next : r.next+n]
		r.next += n
		rec, err := r.batch(ctx, files)
		if err != nil || rec != nil || r.next >= len(r.files) {
			if rec == nil && err == nil {
				return nil, io.EOF
			}
			return rec, err
		}
	}
}

// batch decodes files in parallel into one batch; nil when every file was
// rejected.
func (r *imageReader) batch(ctx context.Context, files []inputFile) (arrow.RecordBatch, error) {
	s := r.src
	n := len(files)
	res := make([]decoded, n)
	size := s.h * s.w * s.ch
	var pix *memory.Buffer
	var px []byte
	if s.typ != nil {
		pix = memory.NewResizableBuffer(s.cfg.mem)
		defer pix.Release()
		pix.Resize(n * size)
		px = pix.Bytes()
	}
	work := func(i int) {
		f := files[i]
		data, err := readLimited(f.path, s.cfg.maxRowBytes)
		if err != nil {
			var re *RowError
			if !errors.As(err, &re) {
				re = &RowError{File: f.path, Err: err}
			}
			res[i].err = re
			return
		}
		if s.typ == nil {
			res[i].data = data
			return
		}
		if err := decodeInto(px[i*size:(i+1)*size], data, s.w, s.h, s.ch, s.cfg.width > 0); err != nil {
			res[i].err = &RowError{File: f.path, Err: err}
		}
	}
	workers := min(s.cfg.workers, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				work(i)
			}
		}()
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Rows in path order, without the bad ones.
	var good []int
	for i := range res {
		if res[i].err != nil {
			if err := r.bad(r.split, res[i].err, nil); err != nil {
				return nil, err
			}
			continue
		}
		good = append(good, i)
	}
	if len(good) == 0 {
		return nil, nil
	}
	pb := array.NewStringBuilder(s.cfg.mem)
	defer pb.Release()
	for _, i := range good {
		pb.Append(files[i].path)
	}
	paths := pb.NewArray()
	defer paths.Release()
	var img arrow.Array
	if s.typ == nil {
		bb := array.NewBinaryBuilder(s.cfg.mem, arrow.BinaryTypes.Binary)
		defer bb.Release()
		for _, i := range good {
			bb.Append(res[i].data)
		}
		img = bb.NewArray()
	} else {
		if len(good) < n { // compact the good images to the front
			for k, i := range good {
				copy(px[k*size:(k+1)*size], px[i*size:(i+1)*size])
			}
			pix.Resize(len(good) * size)
		}
		img = tensorArray(s.typ, pix, len(good))
	}
	defer img.Release()
	full := array.NewRecordBatch(s.full, []arrow.Array{paths, img}, int64(len(good)))
	defer full.Release()
	return s.proj.apply(full), nil
}

// tensorArray wraps a buffer of rows tensors as a tensor array (the
// buffer is retained).
func tensorArray(typ *tensor.FixedShapeType, buf *memory.Buffer, rows int) arrow.Array {
	storage := typ.StorageType().(*arrow.FixedSizeListType)
	child := array.NewData(storage.Elem(), rows*typ.Size(), []*memory.Buffer{nil, buf}, nil, 0, 0)
	defer child.Release()
	list := array.NewData(storage, rows, []*memory.Buffer{nil}, []arrow.ArrayData{child}, 0, 0)
	defer list.Release()
	st := array.MakeFromData(list)
	defer st.Release()
	return array.NewExtensionArrayWithStorage(typ, st)
}

// decodeInto decodes an encoded image into dst as h×w×ch uint8 HWC,
// resizing (bilinear) when resize is set, else requiring the size w×h.
func decodeInto(dst, data []byte, w, h, ch int, resize bool) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoding image: %v", p)
		}
	}()
	// The header first: a size that does not fit is refused before the
	// decoder allocates for it.
	c, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("decoding image: %w", err)
	}
	if err := checkPixels(format, c.Width, c.Height); err != nil {
		return err
	}
	if !resize && (c.Width != w || c.Height != h) {
		return fmt.Errorf("%s image is %d×%d, the column's shape is %d×%d (the first image's): set a resize so every image has one shape", format, c.Width, c.Height, w, h)
	}
	src, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("decoding image: %w", err)
	}
	b := src.Bounds()
	if !resize && (b.Dx() != w || b.Dy() != h) {
		return fmt.Errorf("%s image is %d×%d, the column's shape is %d×%d (the first image's): set a resize so every image has one shape", format, b.Dx(), b.Dy(), w, h)
	}
	rect := image.Rect(0, 0, w, h)
	if ch == 1 {
		g, ok := src.(*image.Gray)
		if !ok || resize || b.Min != (image.Point{}) {
			g = image.NewGray(rect)
			if resize {
				xdraw.BiLinear.Scale(g, rect, src, b, xdraw.Src, nil)
			} else {
				draw.Draw(g, rect, src, b.Min, draw.Src)
			}
		}
		for y := range h {
			copy(dst[y*w:(y+1)*w], g.Pix[y*g.Stride:y*g.Stride+w])
		}
		return nil
	}
	if ch == 4 {
		m, ok := src.(*image.NRGBA)
		if !ok || resize || b.Min != (image.Point{}) {
			m = image.NewNRGBA(rect)
			if resize {
				xdraw.BiLinear.Scale(m, rect, src, b, xdraw.Src, nil)
			} else {
				draw.Draw(m, rect, src, b.Min, draw.Src)
			}
		}
		for y := range h {
			copy(dst[y*w*4:(y+1)*w*4], m.Pix[y*m.Stride:y*m.Stride+w*4])
		}
		return nil
	}
	// RGB: composited onto black (premultiplied RGBA, whose fast paths
	// cover JPEG's YCbCr and PNG's formats).
	m, ok := src.(*image.RGBA)
	if !ok || resize || b.Min != (image.Point{}) {
		m = image.NewRGBA(rect)
		if resize {
			xdraw.BiLinear.Scale(m, rect, src, b, xdraw.Src, nil)
		} else {
			draw.Draw(m, rect, src, b.Min, draw.Src)
		}
	}
	for y := range h {
		row := m.Pix[y*m.Stride:]
		out := dst[y*w*3:]
		for x := range w {
			out[x*3], out[x*3+1], out[x*3+2] = row[x*4], row[x*4+1], row[x*4+2]
		}
	}
	return nil
}

func (r *imageReader) Close() error { return nil }
