package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/urfave/cli/v3"

	"github.com/wasinfer/wasinfer/pipeline"
	"github.com/wasinfer/wasinfer/scheduler"
)

func init() {
	registerCommand(runCommand)
	registerCommand(validateCommand)
	registerCommand(peekCommand)
	registerCommand(schemaCommand)
}

// specFlags are the flags every command that reads a pipeline file takes.
func specFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "set", Usage: "override a setting: `TARGET.KEY=VALUE` (TARGET: a stage name, source, sink or run; repeatable)"},
		&cli.StringFlag{Name: "ort-lib", Usage: "the ONNX Runtime shared library (default: $WASINFER_ORT_LIB, then the cache make deps fills)"},
	}
}

func specArg(c *cli.Command) (string, error) {
	if c.Args().Len() != 1 {
		return "", usageError{fmt.Errorf("%s: want exactly one PIPELINE.yaml argument, got %d", commandName(c), c.Args().Len())}
	}
	return c.Args().First(), nil
}

func loadSpec(c *cli.Command) (*pipeline.Spec, error) {
	path, err := specArg(c)
	if err != nil {
		return nil, err
	}
	return pipeline.Load(path, c.StringSlice("set")...)
}

func buildOptions(c *cli.Command, logger *slog.Logger) []pipeline.BuildOption {
	opts := []pipeline.BuildOption{pipeline.WithLogger(logger)}
	if lib := c.String("ort-lib"); lib != "" {
		opts = append(opts, pipeline.WithORTLibrary(lib))
	}
	return opts
}

// parseShard parses "I/N".
func parseShard(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, usageError{fmt.Errorf("--shard %q: want I/N with 0 <= I < N, e.g. --shard 0/4", s)}
	}
	return i, n, nil
}

func runCommand(logger *slog.Logger) *cli.Command {
	return &cli.Command{
		Name: "run",
		// --set values are YAML ({column: value, min: 90}): never split them.
		DisableSliceFlagSeparator: true,
		Usage:                     "run a pipeline: source → stages → sink, streamed, resumable",
		ArgsUsage:                 "PIPELINE.yaml",
		Description: "Runs the job the pipeline file describes. Output files are committed per split\n" +
			"(atomically, with a manifest), so a run that is interrupted (Ctrl-C, a crash) and\n" +
			"run again skips what was committed and writes every row exactly once.\n\n" +
			"Examples:\n" +
			"  wasinfer run examples/ocr/pipeline.yaml\n" +
			"  wasinfer run job.yaml --set classify.actors=2 --set run.ordered=true\n" +
			"  wasinfer run job.yaml --shard 3/8 --json > summary.json",
		Flags: append(specFlags(),
			&cli.BoolFlag{Name: "json", Usage: "print the summary as JSON on stdout"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress, no summary (errors still go to stderr)"},
			&cli.StringFlag{Name: "shard", Usage: "run shard `I/N` of the input (deterministic; shards write to one output directory)"},
			&cli.DurationFlag{Name: "progress-every", Value: 10 * time.Second, Usage: "how often progress lines are printed when stderr is not a terminal"},
		),
		Action: func(ctx context.Context, c *cli.Command) error {
			return runPipeline(ctx, c, logger)
		},
	}
}

func runPipeline(ctx context.Context, c *cli.Command, logger *slog.Logger) error {
	spec, err := loadSpec(c)
	if err != nil {
		return err
	}
	opts := buildOptions(c, logger)
	if sh := c.String("shard"); sh != "" {
		i, n, err := parseShard(sh)
		if err != nil {
			return err
		}
		opts = append(opts, pipeline.WithShard(i, n))
	}
	quiet, asJSON := c.Bool("quiet"), c.Bool("json")
	if !quiet {
		opts = append(opts, pipeline.WithProgress(c.Root().ErrWriter, c.Duration("progress-every")))
	}
	job, err := pipeline.Open(ctx, spec, pipeline.ModeRun, opts...)
	if err != nil {
		return err
	}
	defer job.Close(context.WithoutCancel(ctx))
	if !quiet {
		fmt.Fprintf(c.Root().ErrWriter, "wasinfer: %s: %s loaded in %s\n", spec.File(), plural(len(job.Stages), "stage"), job.Startup.Round(time.Millisecond))
	}
	sum, runErr := job.Pipeline.Run(ctx)
	if sum != nil && !quiet {
		if asJSON {
			if err := writeJSON(c.Root().Writer, runSummary{Summary: sum, Startup: job.Startup.Seconds(), OK: runErr == nil}); err != nil {
				return err
			}
		} else if err := sum.WriteText(c.Root().Writer); err != nil {
			return err
		}
	}
	return runErr
}

// runSummary is `wasinfer run --json`'s output.
type runSummary struct {
	*scheduler.Summary
	Startup float64 `json:"startup_seconds"`
	OK      bool    `json:"ok"`
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func validateCommand(logger *slog.Logger) *cli.Command {
	return &cli.Command{
		Name: "validate",
		// --set values are YAML ({column: value, min: 90}): never split them.
		DisableSliceFlagSeparator: true,
		Usage:                     "check a pipeline file without running it",
		ArgsUsage:                 "PIPELINE.yaml",
		Description: "Checks the file (keys, types, values, files, digests: every problem at once, each\n" +
			"with its line and column), then opens the source, loads every stage (UDF admission,\n" +
			"model inputs) and sends a few rows through the whole chain, so that a column a\n" +
			"stage needs and does not get, or a model input that does not match, is found now\n" +
			"and not an hour into the run. Nothing is written.\n\n" +
			"Examples:\n" +
			"  wasinfer validate job.yaml\n" +
			"  wasinfer validate job.yaml --static      # the file only: no data, no modules\n" +
			"  wasinfer validate job.yaml --json",
		Flags: append(specFlags(),
			&cli.BoolFlag{Name: "static", Usage: "check the file only; open no data and load no module"},
			&cli.IntFlag{Name: "rows", Value: 8, Usage: "rows sent through the stages in the dry run"},
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"},
		),
		Action: func(ctx context.Context, c *cli.Command) error {
			return validatePipeline(ctx, c, logger)
		},
	}
}

// validation is `wasinfer validate --json`'s output.
type validation struct {
	OK       bool                `json:"ok"`
	File     string              `json:"file"`
	Problems []pipeline.Problem  `json:"problems,omitempty"`
	Error    string              `json:"error,omitempty"`
	Stages   []validationStage   `json:"stages,omitempty"`
	Output   []map[string]string `json:"output_schema,omitempty"`
}

type validationStage struct {
	Name    string  `json:"name"`
	Kind    string  `json:"kind"`
	Startup float64 `json:"startup_seconds"`
}

func validatePipeline(ctx context.Context, c *cli.Command, logger *slog.Logger) error {
	path, err := specArg(c)
	if err != nil {
		return err
	}
	if c.Int("rows") < 1 {
		return usageError{fmt.Errorf("--rows %d: want at least 1", c.Int("rows"))}
	}
	asJSON := c.Bool("json")
	w := c.Root().Writer
	res := validation{File: path}
	report := func(err error) error {
		var pe *pipeline.Error
		switch {
		case err == nil:
			res.OK = true
		case errors.As(err, &pe):
			res.Problems = pe.Problems
		default:
			res.Error = err.Error()
		}
		if asJSON {
			if jerr := writeJSON(w, res); jerr != nil {
				return jerr
			}
		}
		return err
	}
	spec, err := pipeline.Load(path, c.StringSlice("set")...)
	if err != nil {
		return report(err)
	}
	if c.Bool("static") {
		if !asJSON {
			fmt.Fprintf(w, "%s: ok (static checks only: %s)\n", path, plural(len(spec.Stages), "stage"))
		}
		return report(nil)
	}
	job, err := pipeline.Open(ctx, spec, pipeline.ModePeek, append(buildOptions(c, logger), pipeline.WithoutMetrics())...)
	if err != nil {
		return report(err)
	}
	defer job.Close(context.WithoutCancel(ctx))
	for _, ls := range job.Stages {
		res.Stages = append(res.Stages, validationStage{Name: ls.Name, Kind: ls.Kind, Startup: ls.Startup.Seconds()})
	}
	rec, err := job.Pipeline.TakeBatch(ctx, int64(c.Int("rows")), len(job.Stages))
	if err != nil {
		return report(spec.Locate(err))
	}
	defer rec.Release()
	for _, f := range rec.Schema().Fields() {
		res.Output = append(res.Output, map[string]string{"name": f.Name, "type": typeName(f.Type)})
	}
	if !asJSON {
		fmt.Fprintf(w, "%s: ok: %s loaded in %s; the first %d rows went through every stage (%d rows out)\n",
			path, plural(len(job.Stages), "stage"), job.Startup.Round(time.Millisecond), c.Int("rows"), rec.NumRows())
		for _, ls := range job.Stages {
			fmt.Fprintf(w, "  %-20s %-5s loaded in %s\n", ls.Name, ls.Kind, ls.Startup.Round(time.Millisecond))
		}
		fmt.Fprintf(w, "output schema: %s\n", schemaLine(rec.Schema()))
	}
	return report(nil)
}

func schemaLine(s *arrow.Schema) string {
	parts := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		parts[i] = f.Name + " " + typeName(f.Type)
	}
	return strings.Join(parts, ", ")
}

func peekCommand(logger *slog.Logger) *cli.Command {
	return &cli.Command{
		Name: "peek",
		// --set values are YAML ({column: value, min: 90}): never split them.
		DisableSliceFlagSeparator: true,
		Usage:                     "run a pipeline on its first rows and show the batch after a stage (take_batch)",
		ArgsUsage:                 "PIPELINE.yaml",
		Description: "Reads the first --rows rows, sends them through the stages up to --after (default:\n" +
			"all of them) and prints the batch that comes out, or writes it with --output. Nothing\n" +
			"is written to the pipeline's sink. Use it to try a UDF before a long run.\n\n" +
			"Examples:\n" +
			"  wasinfer peek job.yaml\n" +
			"  wasinfer peek job.yaml --rows 4 --after det_pre\n" +
			"  wasinfer peek job.yaml --after source --format json\n" +
			"  wasinfer peek job.yaml --output first.parquet",
		Flags: append(specFlags(),
			&cli.IntFlag{Name: "rows", Aliases: []string{"n"}, Value: 10, Usage: "rows to read from the source"},
			&cli.StringFlag{Name: "after", Usage: "show the batch after this `STAGE` (a stage name, or source); default: the last stage"},
			&cli.StringFlag{Name: "format", Usage: "table (default on stdout), json, csv, parquet or arrow"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the batch to this `FILE` (format from --format or the extension)"},
		),
		Action: func(ctx context.Context, c *cli.Command) error {
			return peekPipeline(ctx, c, logger)
		},
	}
}

func peekPipeline(ctx context.Context, c *cli.Command, logger *slog.Logger) error {
	if c.Int("rows") < 1 {
		return usageError{fmt.Errorf("--rows %d: want at least 1", c.Int("rows"))}
	}
	format := c.String("format")
	switch format {
	case "", "table", "json", "csv", "parquet", "arrow":
	default:
		return usageError{fmt.Errorf("--format %q: want table, json, csv, parquet or arrow", format)}
	}
	if (format == "parquet" || format == "arrow") && c.String("output") == "" {
		return usageError{fmt.Errorf("--format %s writes a binary file: give --output FILE", format)}
	}
	spec, err := loadSpec(c)
	if err != nil {
		return err
	}
	upTo := len(spec.Stages)
	if after := c.String("after"); after != "" {
		if after == "source" {
			upTo = 0
		} else if i := spec.StageIndex(after); i >= 0 {
			upTo = i + 1
		} else {
			return usageError{fmt.Errorf("--after %q: no such stage (stages: %s; or source)", after, strings.Join(spec.StageNames(), ", "))}
		}
	}
	job, err := pipeline.Open(ctx, spec, pipeline.ModePeek, append(buildOptions(c, logger), pipeline.WithoutMetrics())...)
	if err != nil {
		return err
	}
	defer job.Close(context.WithoutCancel(ctx))
	rec, err := job.Pipeline.TakeBatch(ctx, int64(c.Int("rows")), upTo)
	if err != nil {
		return spec.Locate(err)
	}
	defer rec.Release()
	if out := c.String("output"); out != "" {
		if err := writeBatchFile(out, format, rec); err != nil {
			return err
		}
		fmt.Fprintf(c.Root().ErrWriter, "wasinfer: wrote %d rows to %s\n", rec.NumRows(), out)
		return nil
	}
	return writeBatch(c.Root().Writer, format, rec)
}

func schemaCommand(*slog.Logger) *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "print the JSON Schema of pipeline files (for editor completion)",
		Description: "Example (VS Code with the YAML extension): save it and add to the top of a pipeline file\n" +
			"  # yaml-language-server: $schema=./pipeline.schema.json\n\n" +
			"  wasinfer schema > pipeline.schema.json",
		Action: func(_ context.Context, c *cli.Command) error {
			return writeJSON(c.Root().Writer, pipeline.JSONSchema())
		},
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
