package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/wasinfer/wasinfer/internal/bench"
)

func init() {
	registerCommand(benchCommand)
	registerCommand(benchChildCommand)
}

func benchCommand(*slog.Logger) *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "measure wasinfer against its limits and its peers, side by side, and write BENCHMARKS.md",
		Description: "Runs every comparison in this process (start-up and peak RSS in fresh child processes),\n" +
			"each side measured alternately with the other so that a busy machine's drift hits both, and\n" +
			"reports the median and spread of each ratio against its target. Run it inside a wasinfer\n" +
			"checkout (it runs the committed guests, model and data). Nothing fails on a figure: a missed\n" +
			"target is reported as missed. The exit status is 1 only when a measurement could not run.\n\n" +
			"Keys: " + strings.Join(bench.Keys(), ", ") + ".\n\n" +
			"Examples:\n" +
			"  wasinfer bench --quick                       # seconds: every benchmark runs once or twice\n" +
			"  wasinfer bench --out BENCHMARKS.md --json .cache/bench/bench.json\n" +
			"  wasinfer bench --only pipeline_vs_bare_ort --cpuprofile cpu.out\n" +
			"  wasinfer bench --from .cache/bench/bench.json --out BENCHMARKS.md   # re-render, keeping the notes",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quick", Usage: "a few repetitions on small inputs (seconds): checks that everything runs; not figures to quote"},
			&cli.StringFlag{Name: "json", Usage: "write the report as JSON to `FILE` (- for stdout; stable keys, schema " + bench.Schema + ")"},
			&cli.StringFlag{Name: "out", Usage: "write the report as Markdown to `FILE` (BENCHMARKS.md), keeping its notes section"},
			&cli.StringSliceFlag{Name: "only", Usage: "run only the benchmark of `KEY` (repeatable, or comma-separated)"},
			&cli.StringFlag{Name: "cpuprofile", Usage: "afterwards, profile the end-to-end pipeline and write the CPU profile to `FILE`"},
			&cli.DurationFlag{Name: "profile-time", Value: 10 * time.Second, Usage: "how long --cpuprofile runs the pipeline"},
			&cli.StringFlag{Name: "ort-lib", Usage: "the ONNX Runtime shared library (default: $WASINFER_ORT_LIB, then the cache `make deps` fills)"},
			&cli.StringFlag{Name: "root", Usage: "the wasinfer checkout `DIR` (default: found from the working directory)"},
			&cli.StringFlag{Name: "from", Usage: "measure nothing: render the report in `FILE` (a --json report) again, e.g. after editing BENCHMARKS.md's notes"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress lines on stderr"},
		},
		Action: runBench,
	}
}

func runBench(ctx context.Context, c *cli.Command) error {
	if c.Args().Len() != 0 {
		return usageError{fmt.Errorf("%s: takes no arguments, got %q", commandName(c), c.Args().Slice())}
	}
	var only []string
	for _, k := range c.StringSlice("only") {
		for _, part := range strings.Split(k, ",") {
			if part = strings.TrimSpace(part); part != "" {
				only = append(only, part)
			}
		}
	}
	for _, k := range only {
		if !slices.Contains(bench.Keys(), k) {
			return usageError{fmt.Errorf("%s: --only %q: no such key (keys: %s)", commandName(c), k, strings.Join(bench.Keys(), ", "))}
		}
	}
	if c.Duration("profile-time") <= 0 {
		return usageError{fmt.Errorf("%s: --profile-time %s: want a positive duration", commandName(c), c.Duration("profile-time"))}
	}
	opts := []bench.Option{
		bench.WithQuick(c.Bool("quick")), bench.WithOnly(only...), bench.WithCommand(benchCommandLine(c)),
		bench.WithORTLibrary(c.String("ort-lib")), bench.WithRoot(c.String("root")),
	}
	if !c.Bool("quiet") {
		opts = append(opts, bench.WithProgress(c.Root().ErrWriter))
	}
	if p := c.String("cpuprofile"); p != "" {
		opts = append(opts, bench.WithCPUProfile(p, c.Duration("profile-time")))
	}
	var rep *bench.Report
	if from := c.String("from"); from != "" {
		for _, f := range []string{"quick", "only", "cpuprofile"} {
			if c.IsSet(f) {
				return usageError{fmt.Errorf("%s: --from renders a report without measuring: it takes no --%s", commandName(c), f)}
			}
		}
		f, err := os.Open(from)
		if err != nil {
			return err
		}
		rep, err = bench.ReadReport(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", from, err)
		}
	} else {
		var err error
		if rep, err = bench.Run(ctx, opts...); err != nil {
			return err
		}
	}
	out := c.Root().Writer
	jsonPath := c.String("json")
	if jsonPath == "-" {
		if err := rep.WriteJSON(out); err != nil {
			return err
		}
	} else if err := rep.WriteText(out); err != nil {
		return err
	}
	if jsonPath != "" && jsonPath != "-" {
		if err := writeFileWith(jsonPath, rep.WriteJSON); err != nil {
			return err
		}
	}
	if md := c.String("out"); md != "" {
		previous, err := os.ReadFile(md)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("reading the notes of the previous %s: %w", md, err)
		}
		root := c.String("root")
		if root == "" {
			root = "."
		}
		if err := writeFileWith(md, func(w io.Writer) error { return rep.WriteMarkdown(w, previous, root) }); err != nil {
			return err
		}
	}
	if failed := rep.Failed(); len(failed) > 0 {
		return fmt.Errorf("bench: %d measurement(s) failed: %s (see the report)", len(failed), strings.Join(failed, ", "))
	}
	return nil
}

// writeFileWith writes a file through a temporary one in its directory,
// so that a failed run never leaves half a report.
func writeFileWith(path string, write func(io.Writer) error) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating the directory of %s: %w", path, err)
		}
	}
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// benchCommandLine is the command as typed, for the report: the program
// as it was called when that is a relative path (bin/wasinfer), then the
// flags that were set, in a fixed order.
func benchCommandLine(c *cli.Command) string {
	prog := "wasinfer"
	if len(os.Args) > 0 && !filepath.IsAbs(os.Args[0]) && filepath.Base(os.Args[0]) == "wasinfer" {
		prog = os.Args[0]
	}
	parts := []string{prog, "bench"}
	for _, name := range []string{"quick", "only", "out", "json", "cpuprofile", "profile-time", "root", "ort-lib"} {
		if !c.IsSet(name) {
			continue
		}
		switch name {
		case "quick":
			parts = append(parts, "--quick")
		case "only":
			for _, v := range c.StringSlice(name) {
				parts = append(parts, "--only", v)
			}
		case "profile-time":
			parts = append(parts, "--profile-time", c.Duration(name).String())
		default:
			parts = append(parts, "--"+name, c.String(name))
		}
	}
	return strings.Join(parts, " ")
}

// benchChildCommand is the hidden command bench starts in a fresh process
// for start-up and peak-RSS measurements (bench.ChildCommand).
func benchChildCommand(*slog.Logger) *cli.Command {
	return &cli.Command{
		Name:      bench.ChildCommand,
		Hidden:    true,
		Usage:     "one child measurement of wasinfer bench (internal)",
		ArgsUsage: "MODE PIPELINE.yaml ORT_LIBRARY",
		Action: func(ctx context.Context, c *cli.Command) error {
			return bench.Child(ctx, c.Args().Slice(), c.Root().Writer)
		},
	}
}
