package dataset

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// A Split is one deterministic, independently readable part of a source's
// input: a whole file, one Parquet row group, a fixed run of image files.
// A source's splits are numbered 0..n-1 in an order that depends only on the
// input (sorted paths, row-group order), never on timing, so split i names
// the same rows in every run and every shard.
//
// A Split is the unit of sharding (shard i of n takes the splits whose
// Index%n == i) and of commit: a sink commits a split's output whole, and a
// rerun skips the splits already committed.
type Split struct {
	// Index is the split's position in its source's full, unsharded list.
	Index int `json:"index"`
	// ID names the split for people and manifests, e.g.
	// "data/a.parquet#rg=3" or "images[256:512]". Stable across runs.
	ID string `json:"id"`
	// Rows is the number of input rows, or -1 when it is not known before
	// reading (CSV, JSON lines, text).
	Rows int64 `json:"rows"`
	// Fingerprint identifies the input bytes behind the split (for example
	// size and modification time of the files it reads). A manifest records
	// it, so a rerun over changed input is refused instead of silently
	// mixing old and new output.
	Fingerprint string `json:"fingerprint"`
}

// A Source is a data set split into deterministic parts. It reads nothing
// until a split is opened.
//
// Implementations are safe for concurrent use: several splits may be open
// and read at once, each reader by one goroutine.
type Source interface {
	// Schema is the schema of every batch any of the source's readers returns.
	Schema() *arrow.Schema
	// Splits lists every split of the input, unsharded, in Index order.
	Splits() []Split
	// Open returns a reader of one split's rows.
	Open(ctx context.Context, s Split) (Reader, error)
	// Close releases what the source holds. Readers must be closed first.
	Close() error
}

// A Reader reads one split's rows as record batches.
//
// Ownership: each batch Read returns belongs to the caller, who must Release
// it. Read returns io.EOF (and a nil batch) after the last batch. A reader is
// used by one goroutine at a time.
type Reader interface {
	Read(ctx context.Context) (arrow.RecordBatch, error)
	Close() error
}

// A Sink writes each split's output as files and commits them atomically.
//
// Output file names depend only on the split (and a sequence number when a
// split's output is rolled over into several files), never on timing. A
// committed split is recorded in the sink's manifest together with its
// files and the split's Fingerprint; files not yet committed live under
// temporary names, so an interrupted run leaves no partial file under a
// final name.
//
// Safe for concurrent use: parts of different splits may be written at once.
type Sink interface {
	// Committed reports the splits whose output is already committed, by
	// Index, as read from the manifest when the sink was opened. It fails
	// when the manifest's fingerprint of a split differs from s's (the input
	// changed since that output was written).
	Committed(ctx context.Context, splits []Split) (map[int]bool, error)
	// Create starts the output of one split. Nothing written through the
	// part is visible under a final name until Commit returns.
	Create(ctx context.Context, s Split, schema *arrow.Schema) (Part, error)
	// Close finishes the sink (manifest flushed). Parts must be committed or
	// aborted first.
	Close(ctx context.Context) error
}

// A Part is the output of one split being written.
//
// Ownership: Write does not Release rec; it Retains whatever it keeps past
// the call. A part is used by one goroutine at a time.
type Part interface {
	Write(ctx context.Context, rec arrow.RecordBatch) error
	// Commit makes the part's files visible under their final names and
	// records the split as committed; it returns the final file paths.
	// A part with no rows still commits (an empty split is done, too).
	Commit(ctx context.Context) ([]string, error)
	// Abort removes the part's temporary files. Safe after a failed Commit.
	Abort(ctx context.Context) error
}
