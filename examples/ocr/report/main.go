// Command report scores an OCR example run: it reads the Parquet files the
// pipeline wrote under OUT and prints, per text line of the bundled images,
// the recognized text beside the truth, then the character error rate of
// the clean and the noisy images.
//
//	go run ./examples/ocr/report [-truth examples/ocr/data/truth.jsonl] [-short] OUT
//
// -short prints one row per image (its first line) instead of one per line.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/examples/ocr"
)

func main() {
	truth := flag.String("truth", "examples/ocr/data/truth.jsonl", "the ground truth")
	short := flag.Bool("short", false, "one row per image")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: go run ./examples/ocr/report [-truth FILE] [-short] OUT")
		os.Exit(2)
	}
	if err := run(*truth, flag.Arg(0), *short); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(truthPath, out string, short bool) error {
	truth, err := ocr.ReadTruth(truthPath)
	if err != nil {
		return err
	}
	res, err := ocr.ReadResults(context.Background(), out, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	rep := ocr.Evaluate(truth, res)
	if short {
		return rep.WriteSummary(os.Stdout)
	}
	return rep.WriteTable(os.Stdout)
}
