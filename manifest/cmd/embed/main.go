// Command embed puts a manifest into a UDF module (manifest.Pack): it
// validates the manifest source, inlines its test vectors, sets
// code_sha256, and writes the module with the wasinfer.manifest and
// wasinfer.manifest.sha256 custom sections, replacing any it had.
//
//	go run ./manifest/cmd/embed -manifest udfs/softmax/manifest.json -o udfs/softmax/softmax.wasm build/softmax.wasm
//
// Vector paths in the manifest are relative to the manifest's directory.
// The output is written atomically (a temporary file, then a rename) and
// depends only on the inputs, so builds are reproducible. Exit status 0 on
// success, 1 on failure, 2 on a usage error.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/wasinfer/wasinfer/manifest"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fl := flag.NewFlagSet("embed", flag.ContinueOnError)
	fl.SetOutput(stderr)
	src := fl.String("manifest", "", "the manifest source (JSON); required")
	out := fl.String("o", "", "the module to write; required")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: embed -manifest MANIFEST.json -o OUT.wasm IN.wasm")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *src == "" || *out == "" || fl.NArg() != 1 {
		fl.Usage()
		return 2
	}
	if err := embed(fl.Arg(0), *src, *out); err != nil {
		fmt.Fprintf(stderr, "embed: %v\n", err)
		return 1
	}
	return 0
}

func embed(in, src, out string) error {
	wasm, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("reading module: %w", err)
	}
	source, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("reading manifest: %w", err)
	}
	packed, _, err := manifest.Pack(wasm, source, os.DirFS(filepath.Dir(src)))
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".embed-*.wasm")
	if err != nil {
		return fmt.Errorf("creating output: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(packed); err != nil {
		tmp.Close()
		return fmt.Errorf("writing output: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("writing output: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}
