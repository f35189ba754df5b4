package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Format names a file format, as used in specs and URLs ("parquet:data/").
type Format string

// The formats. A directory input yields the files with the format's
// extensions (case-insensitive): parquet .parquet .pq; csv .csv .tsv;
// jsonl .jsonl .ndjson .json; ipc .arrow .feather .arrows .ipc; images
// .png .jpg .jpeg .gif .bmp .tif .tiff .webp; binary and text every file.
const (
	FormatParquet Format = "parquet"
	FormatCSV     Format = "csv"
	FormatJSONL   Format = "jsonl"
	FormatIPC     Format = "ipc"
	FormatImages  Format = "images"
	FormatBinary  Format = "binary"
	FormatText    Format = "text"
)

var formatExtensions = map[Format][]string{
	FormatParquet: {".parquet", ".pq"},
	FormatCSV:     {".csv", ".tsv"},
	FormatJSONL:   {".jsonl", ".ndjson", ".json"},
	FormatIPC:     {".arrow", ".feather", ".arrows", ".ipc"},
	FormatImages:  {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"},
}

// inputFile is one input file with what identifies its content.
type inputFile struct {
	path  string
	id    string // path relative to the base directory, for split IDs
	size  int64
	mtime int64 // UnixNano
}

// relID names path relative to baseDir, so that split IDs (and the
// manifests that record them) do not depend on the directory a run was
// started from; paths outside baseDir keep their full name.
func relID(baseDir, path string) string {
	if baseDir == "" {
		return filepath.ToSlash(filepath.Clean(path))
	}
	abs, err1 := filepath.Abs(baseDir)
	p, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return filepath.ToSlash(path)
	}
	r, err := filepath.Rel(abs, p)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(p)
	}
	return filepath.ToSlash(r)
}

// fingerprint identifies the file's bytes well enough to notice a change.
func (f inputFile) fingerprint() string {
	return "size=" + strconv.FormatInt(f.size, 10) + ",mtime=" + strconv.FormatInt(f.mtime, 10)
}

// filesFingerprint combines the fingerprints of several files.
func filesFingerprint(files []inputFile) string {
	if len(files) == 1 {
		return files[0].fingerprint()
	}
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%s\n", f.path, f.fingerprint())
	}
	return "sha256=" + hex.EncodeToString(h.Sum(nil)[:16])
}

// ExpandPaths resolves inputs (files, directories, glob patterns) into a
// sorted list of files without duplicates. Relative inputs are taken
// relative to baseDir ("" for the working directory). A directory yields,
// recursively, the files whose extension is in exts (every file when exts is
// empty), skipping names that start with "." or "_" (hidden files, the
// sinks' temporary files and their _wasinfer manifests). A pattern
// (containing *, ? or [) uses filepath.Match syntax and yields every
// regular file it matches. The order depends only on the paths: a byte-wise
// sort.
//
// # Errors
//
// An input that does not exist, a pattern that matches nothing or a
// directory that holds no matching file wraps [ErrNoInput] and names it; an
// unreadable directory or file is reported with its path.
func ExpandPaths(baseDir string, inputs []string, exts []string) ([]string, error) {
	files, err := expand(baseDir, inputs, exts)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.path
	}
	return out, nil
}

func expand(baseDir string, inputs []string, exts []string) ([]inputFile, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("%w: no paths given", ErrNoInput)
	}
	seen := map[string]bool{}
	var out []inputFile
	add := func(path string, info fs.FileInfo) {
		if seen[path] {
			return
		}
		seen[path] = true
		out = append(out, inputFile{path: path, id: relID(baseDir, path), size: info.Size(), mtime: info.ModTime().UnixNano()})
	}
	for _, in := range inputs {
		p := in
		if baseDir != "" && !filepath.IsAbs(p) {
			p = filepath.Join(baseDir, p)
		}
		if strings.ContainsAny(in, "*?[") {
			matches, err := filepath.Glob(p)
			if err != nil {
				return nil, fmt.Errorf("dataset: pattern %q: %w", in, err)
			}
			n := 0
			for _, m := range matches {
				info, err := os.Stat(m)
				if err != nil {
					return nil, fmt.Errorf("dataset: reading input %s: %w", m, err)
				}
				if info.Mode().IsRegular() {
					add(m, info)
					n++
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("%w: pattern %q matches no file", ErrNoInput, in)
			}
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			if os.IsNotExist(err) {
				return nil, fmt.Errorf("%w: %s does not exist", ErrNoInput, p)
			}
			return nil, fmt.Errorf("dataset: reading input %s: %w", p, err)
		}
		if !info.IsDir() {
			add(p, info)
			continue
		}
		n := 0
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("dataset: reading input directory %s: %w", path, err)
			}
			name := d.Name()
			if path != p && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			if len(exts) > 0 && !slices.Contains(exts, strings.ToLower(filepath.Ext(name))) {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return fmt.Errorf("dataset: reading input %s: %w", path, err)
			}
			add(path, info)
			n++
			return nil
		})
		if err != nil {
			return nil, err
		}
		if n == 0 {
			if len(exts) > 0 {
				return nil, fmt.Errorf("%w: directory %s holds no %s file", ErrNoInput, p, strings.Join(exts, ", "))
			}
			return nil, fmt.Errorf("%w: directory %s holds no file", ErrNoInput, p)
		}
	}
	slices.SortFunc(out, func(a, b inputFile) int { return strings.Compare(a.path, b.path) })
	return out, nil
}

// extensionsFor returns the directory filter of a format.
func extensionsFor(f Format, cfg *config) []string {
	if cfg.extensions != nil {
		out := make([]string, len(cfg.extensions))
		for i, e := range cfg.extensions {
			e = strings.ToLower(e)
			if !strings.HasPrefix(e, ".") {
				e = "." + e
			}
			out[i] = e
		}
		return out
	}
	return formatExtensions[f]
}
