package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v3"

	"github.com/wasinfer/wasinfer/vet"
)

// wasinfer udf vet MODULE [--manifest FILE] [--json]: machine-checked
// vetting (package vet).

func init() { registerUDFCommand(udfVetCommand) }

func udfVetCommand(logger *slog.Logger) *cli.Command {
	return &cli.Command{
		Name:      "vet",
		Usage:     "check that a module is what its manifest says: admission, manifest, capabilities, vectors, determinism, robustness, resources",
		ArgsUsage: "MODULE.wasm",
		Description: "Runs every check of a vetted module and prints one line per check (PASS, FAIL or\n" +
			"SKIP) with its details; exits 1 unless all pass. The manifest is the one embedded in\n" +
			"the module, else the sidecar NAME.manifest.json beside it, else --manifest FILE\n" +
			"(its vector files are read relative to the file). The robustness sweep is seeded\n" +
			"(--seed), so a report is reproducible; --sweep small is quicker.\n\n" +
			"Examples:\n" +
			"  wasinfer udf vet udfs/softmax/softmax.wasm\n" +
			"  wasinfer udf vet mine.wasm --manifest mine.manifest.json --json",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "manifest", Usage: "vet against this manifest (JSON) instead of the module's own"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
			&cli.StringFlag{Name: "sweep", Value: "full", Usage: "size of the robustness sweep: full or small"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the sweep's random values"},
			&cli.FloatFlag{Name: "time-factor", Value: vet.DefaultTimeFactor, Usage: "the measured time per row may be this many times the declared ns_per_row"},
			&cli.DurationFlag{Name: "timeout", Value: vet.DefaultTimeout, Usage: "deadline of each call into the module"},
			&cli.BoolFlag{Name: "times", Usage: "show how long each check took"},
			&cli.BoolFlag{Name: "guest-log", Usage: "log the module's stdout and stderr"},
		},
		Action: func(ctx context.Context, c *cli.Command) error {
			return udfVet(ctx, c, logger)
		},
	}
}

func udfVet(ctx context.Context, c *cli.Command, logger *slog.Logger) error {
	path, err := moduleArg(c)
	if err != nil {
		return err
	}
	opts := []vet.Option{vet.WithPath(path), vet.WithSeed(c.Uint64("seed")), vet.WithTimeout(c.Duration("timeout"))}
	switch c.String("sweep") {
	case "full":
		opts = append(opts, vet.WithSweep(vet.SweepFull))
	case "small":
		opts = append(opts, vet.WithSweep(vet.SweepSmall))
	default:
		return usageError{fmt.Errorf("%s: --sweep %q: want full or small", commandName(c), c.String("sweep"))}
	}
	f := c.Float("time-factor")
	if !(f >= 1) {
		return usageError{fmt.Errorf("%s: --time-factor %g: want at least 1", commandName(c), f)}
	}
	opts = append(opts, vet.WithTimeFactor(f))
	if c.Duration("timeout") <= 0 {
		return usageError{fmt.Errorf("%s: --timeout %s: want a positive duration", commandName(c), c.Duration("timeout"))}
	}
	if c.Bool("guest-log") {
		opts = append(opts, vet.WithLogger(logger))
	}
	if m := c.String("manifest"); m != "" {
		data, err := os.ReadFile(m)
		if err != nil {
			return fmt.Errorf("reading manifest: %w", err)
		}
		opts = append(opts, vet.WithManifest(data, m), vet.WithVectorDir(os.DirFS(filepath.Dir(m))))
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading udf module: %w", err)
	}
	r, err := vet.Module(ctx, wasm, opts...)
	if err != nil {
		return fmt.Errorf("vetting %s: %w", path, err)
	}
	w := c.Root().Writer
	if c.Bool("json") {
		err = r.WriteJSON(w)
	} else {
		err = r.WriteText(w, vet.TextOptions{Durations: c.Bool("times")})
	}
	if err != nil {
		return err
	}
	if !r.Passed {
		failed := 0
		for _, ch := range r.Checks {
			if ch.Status != vet.Pass {
				failed++
			}
		}
		return fmt.Errorf("%s: not vetted: %d of %d checks did not pass", path, failed, len(r.Checks))
	}
	return nil
}
