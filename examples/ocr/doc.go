// Package ocr is the batch OCR example (README.md): pipeline.yaml runs
// PaddleOCR v4 text detection and recognition over the bundled images in
// data/, and this package reads what the pipeline wrote and scores it
// against data/truth.jsonl: Evaluate, Report.CER (the character error
// rate) and Report.WriteTable. The test (ocr_test.go) runs the pipeline
// and asserts the rate; `go run ./examples/ocr/report OUT` prints the
// table for a run's output directory; gen/ renders the images.
package ocr
