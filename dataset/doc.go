// Package dataset reads and writes the data sets wasinfer runs over, as
// streams of Apache Arrow record batches.
//
// A [Source] is a data set cut into deterministic [Split]s (files, Parquet
// row groups, runs of image files); each split is read through a [Reader]
// whose Read ends with io.EOF. A [Sink] writes each split's output as files
// under a directory and commits them atomically (temporary name, then
// rename, then a manifest entry), so a rerun skips what is committed and
// every input row is written exactly once.
//
// # Sources
//
//	format   open with      splits                                      rows known
//	parquet  OpenParquet    one per row group (per file when it has one)  yes
//	ipc      OpenIPC        file: one per record batch; stream: per file  no
//	csv      OpenCSV        one per file                                  no
//	jsonl    OpenJSONL      one per file                                  no
//	images   OpenImages     runs of WithFilesPerSplit files               yes
//	binary   OpenBinary     runs of WithFilesPerSplit files               yes
//	text     OpenText       lines: per file; whole files: runs of files   no; yes
//
// Inputs are files, directories (recursive; names starting with "." or "_"
// skipped) and glob patterns, sorted byte-wise ([ExpandPaths]). Split.Index
// is global over the unsharded list; [Shard] picks shard i of n. A split's
// Fingerprint is the size and modification time of the file(s) behind it.
// [WithLimit] keeps only the splits that hold the first N rows (counting
// rows by reading, only as far as needed, where they are not known).
//
// Ownership: every batch a Reader or [StreamReader] returns belongs to the
// caller, who releases it. A batch never spans two splits. Readers of
// different splits may run at once; one reader is used by one goroutine.
//
// Bad rows: a CSV or JSON lines row that does not parse, a text line that
// is not UTF-8, an image that does not decode or has the wrong size is a
// [*RowError] naming the file, the line and the column. With
// [WithAllowBadRows] it is skipped instead and reported as a [Rejected]
// through the reader's Rejected method ([Rejecter]), for the dead-letter
// output.
//
// # Sinks
//
// [OpenSink] (parquet, csv, jsonl, ipc) returns a [*DirSink]; see its doc
// for the commit protocol and the file names (part-000042-000.parquet,
// manifests under _wasinfer/, one per shard). [Writer] writes a plain
// stream of batches through a sink as one split.
//
// # What each format can hold
//
// Every format round-trips the canonical corpus (internal/corpus) except
// (TestCorpusRoundTrip checks both what works and what fails):
//
//   - Arrow IPC, file and stream: everything.
//   - Parquet (pqarrow, arrow-go v18.8.0): no null rows in fixed_size_list
//     or tensor columns (pqarrow refuses them; the sink names the column
//     and the row); a batch with rows but no columns writes a file of 0
//     rows. Tensor columns are stored as their fixed_size_list storage with
//     the extension type in the field metadata and the Arrow schema stored
//     (tensor/doc.go), or, with [WithTensorLayout]([TensorLayoutBinary])
//     (pipeline files: parquet: {tensor_layout: binary}), as one
//     FIXED_LEN_BYTE_ARRAY value per row, about 8× faster to read back and
//     able to hold null rows, but seen by other readers as
//     fixed_size_binary. What pqarrow alone would lose, the sink and source
//     keep: the sink stores the batches' Arrow schema (key
//     wasinfer:arrow_schema), so list element names and nested field
//     metadata come back, and top-level duration (written as int64),
//     date64, time32[s], timestamp[s] and dictionaries of non-binary
//     values come back as written; null list and map slots that own child
//     values (which pqarrow refuses) are written empty; floating-point
//     columns are written without dictionary encoding, which would merge
//     NaNs of different bits. Nested durations cannot be written, and
//     nested date64, [s] units and non-binary dictionaries read back as
//     Parquet's types.
//   - JSON lines: NaN sign and payload bits (JSON has one "NaN"); types
//     come back only given the schema (WithSchema).
//   - CSV: flat columns only (the sink refuses list, struct, map,
//     fixed_size_list and tensor columns); NaN bits as for JSON; a row of
//     no columns; types come back only given the schema. Nulls are empty
//     unquoted fields, the empty string is "".
//
// # Specs
//
// [SourceSpec] and [SinkSpec] are the plain structs (json and yaml tags,
// snake_case) that pipeline specs embed, checked by Validate (errors name
// the field: [*SpecError]) and opened by [OpenSource], [OpenStream] and
// [OpenSinkSpec]; [ParseSourceURL] and [ParseSinkURL] read "parquet:data/"
// style names.
package dataset
