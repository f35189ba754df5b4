// Package dataset reads and writes the data sets wasinfer runs over, as
// streams of Apache Arrow record batches.
//
// A [Source] is a data set cut into deterministic [Split]s (files, Parquet
// row groups, runs of image files); each split is read through a [Reader]
// whose Read ends with io.EOF. A [Sink] writes each split's output as files
// under a directory and commits them atomically (temporary name, then
// rename, then a manifest entry), so a rerun skips what is committed and
// every input row is written exactly once.
package dataset
