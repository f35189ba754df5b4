package dataset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// manifestVersion is the "v" of every entry this package writes; an entry
// of another version is refused.
const manifestVersion = 1

// manifestEntry is one line of a manifest: a committed split.
type manifestEntry struct {
	V           int            `json:"v"`
	Split       int            `json:"split"`
	ID          string         `json:"id"`
	Fingerprint string         `json:"fingerprint"`
	InputRows   int64          `json:"input_rows"`
	Rows        int64          `json:"rows"`
	Files       []manifestFile `json:"files"`
}

// manifestFile is one committed file, by name relative to the sink's
// directory.
type manifestFile struct {
	Name  string `json:"name"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
}

// partName matches a final output file name: part-<split>-<seq>.<ext>.
var partName = regexp.MustCompile(`^part-([0-9]{6,})-([0-9]{3,})\.[a-z]+$`)

// tempName matches a temporary output file name:
// .part-<split>-<seq>.<ext>.<random>.tmp
var tempName = regexp.MustCompile(`^\.part-([0-9]{6,})-[0-9]{3,}\.[a-z]+\.[0-9a-f]+\.tmp$`)

// parseManifest reads a manifest's entries. A complete line that is not a
// valid entry is an error naming name and the line; an incomplete last line
// (no newline: the writer was interrupted) is ignored, and valid is the
// length of the part of the file that ends with the last complete line.
func parseManifest(r io.Reader, name string) (entries []manifestEntry, valid int64, err error) {
	br := bufio.NewReader(r)
	line := 0
	for {
		b, err := br.ReadBytes('\n')
		if err == io.EOF {
			return entries, valid, nil // b, if any, is an incomplete line
		}
		if err != nil {
			return nil, 0, fmt.Errorf("dataset: reading manifest %s: %w", name, err)
		}
		line++
		e, perr := parseManifestLine(bytes.TrimSpace(b))
		if perr != nil {
			return nil, 0, fmt.Errorf("%w: %s:%d: %w; the output directory was not written by this version of wasinfer, or was edited by hand", ErrManifest, name, line, perr)
		}
		valid += int64(len(b))
		if e != nil {
			entries = append(entries, *e)
		}
	}
}

// parseManifestLine parses one line; an empty line gives nil.
func parseManifestLine(b []byte) (*manifestEntry, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var e manifestEntry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("parsing entry: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("parsing entry: text after the JSON object")
	}
	switch {
	case e.V != manifestVersion:
		return nil, fmt.Errorf("entry version %d, want %d", e.V, manifestVersion)
	case e.Split < 0:
		return nil, fmt.Errorf("split %d is negative", e.Split)
	case e.Rows < 0:
		return nil, fmt.Errorf("rows %d is negative", e.Rows)
	}
	for _, f := range e.Files {
		m := partName.FindStringSubmatch(f.Name)
		if m == nil {
			return nil, fmt.Errorf("file name %q is not an output file name", f.Name)
		}
		if idx, err := strconv.Atoi(m[1]); err != nil || idx != e.Split {
			return nil, fmt.Errorf("file %q is not of split %d", f.Name, e.Split)
		}
		if f.Rows < 0 || f.Bytes < 0 {
			return nil, fmt.Errorf("file %q: negative rows or bytes", f.Name)
		}
	}
	return &e, nil
}

// partIndex returns the split index in a final or temporary file name.
func partIndex(name string) (idx int, temp, ok bool) {
	m := partName.FindStringSubmatch(name)
	if m == nil {
		m = tempName.FindStringSubmatch(name)
		temp = true
	}
	if m == nil {
		return 0, false, false
	}
	idx, err := strconv.Atoi(m[1])
	if err != nil {
		return 0, false, false
	}
	return idx, temp, true
}
