package dataset

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap one of them where it
// applies, so callers can test with errors.Is.
var (
	// ErrNoInput: a path, directory or glob pattern matched no file.
	ErrNoInput = errors.New("dataset: no input files")
	// ErrSchemaMismatch: a file's schema differs from the source's.
	ErrSchemaMismatch = errors.New("dataset: schema mismatch")
	// ErrBadRow: a row could not be parsed or decoded (see [RowError]).
	ErrBadRow = errors.New("dataset: bad row")
	// ErrCorrupt: a file is not a valid file of its format.
	ErrCorrupt = errors.New("dataset: corrupt file")
	// ErrUnsupported: a column type the format cannot hold.
	ErrUnsupported = errors.New("dataset: unsupported")
	// ErrFingerprint: the input behind a committed split changed (see
	// [FingerprintError]).
	ErrFingerprint = errors.New("dataset: input changed since its output was committed")
	// ErrUnknownSplit: Open was given a split the source does not have.
	ErrUnknownSplit = errors.New("dataset: unknown split")
	// ErrClosed: the source, reader, sink or part is closed.
	ErrClosed = errors.New("dataset: closed")
	// ErrInvalidSpec: a SourceSpec or SinkSpec is not valid (see [SpecError]).
	ErrInvalidSpec = errors.New("dataset: invalid spec")
	// ErrManifest: a manifest file cannot be parsed.
	ErrManifest = errors.New("dataset: bad manifest")
)

// RowError reports a bad row of an input file: where it is and what was
// wrong with it. Line is 1-based (0 when the format has no lines, such as
// an image file); Column is empty when the whole row is bad.
type RowError struct {
	File   string
	Line   int64
	Column string
	Err    error
}

func (e *RowError) Error() string {
	var b strings.Builder
	b.WriteString("dataset: ")
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.FormatInt(e.Line, 10))
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ": column %q", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *RowError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrBadRow].
func (e *RowError) Is(target error) bool { return target == ErrBadRow }

// Rejected is a bad row that a reader skipped because the caller allowed
// it ([WithAllowBadRows]). The scheduler writes it to the dead-letter
// output.
type Rejected struct {
	// Split is the Index of the split the row belongs to.
	Split int `json:"split"`
	// File is the input file.
	File string `json:"file"`
	// Line is the 1-based line of the row in File, 0 when the format has
	// no lines (images, binary files).
	Line int64 `json:"line"`
	// Column names the bad column, "" when the whole row is bad.
	Column string `json:"column"`
	// Raw holds the row's bytes as read (for an image or a binary file
	// nothing: Raw is nil and File names it).
	Raw []byte `json:"raw"`
	// Err says what was wrong; a [*RowError].
	Err error `json:"-"`
}

// A Rejecter is a [Reader] that can skip bad rows. Rejected returns the
// rows skipped since the last call and forgets them; call it after each
// Read (a batch's rejected rows are available as soon as Read returns it,
// and the last ones after Read returns io.EOF).
type Rejecter interface {
	Rejected() []Rejected
}

// FingerprintError reports a split whose output was committed for other
// input: the file behind it changed since. Remove the output directory (or
// the split's manifest entries) to recompute it, or restore the input.
type FingerprintError struct {
	Split      Split
	RecordedID string
	Recorded   string
}

func (e *FingerprintError) Error() string {
	if e.RecordedID != e.Split.ID {
		return fmt.Sprintf("dataset: split %d is %s, the manifest recorded %s for its committed output: the input list changed; restore it or remove the output to recompute it",
			e.Split.Index, e.Split.ID, e.RecordedID)
	}
	return fmt.Sprintf("dataset: split %d (%s): input fingerprint is %q, the manifest recorded %q for its committed output: the input changed; restore it or remove the output to recompute it",
		e.Split.Index, e.Split.ID, e.Split.Fingerprint, e.Recorded)
}

// Is reports whether target is [ErrFingerprint].
func (e *FingerprintError) Is(target error) bool { return target == ErrFingerprint }

// SpecError reports an invalid field of a [SourceSpec] or [SinkSpec].
// Field is the field's json/yaml name, dotted for nested fields
// ("shard.count", "csv.delimiter").
type SpecError struct {
	Field string
	Msg   string
}

func (e *SpecError) Error() string { return "dataset: " + e.Field + ": " + e.Msg }

// Is reports whether target is [ErrInvalidSpec].
func (e *SpecError) Is(target error) bool { return target == ErrInvalidSpec }

// corrupt wraps err as [ErrCorrupt] for file path, with what was being done.
func corrupt(path, doing string, err error) error {
	return fmt.Errorf("%w: %s: %s: %w", ErrCorrupt, path, doing, err)
}
