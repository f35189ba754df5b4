package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"

	"github.com/urfave/cli/v3"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// usageError marks errors in how the command was called (exit 2).
type usageError struct{ error }

// order is where the top-level commands appear in --help; unlisted ones
// come after, in registration order.
var order = []string{"run", "validate", "peek", "udf", "model", "bench", "schema", "version"}

// finish makes every command of the tree report usage errors (a flag that
// does not exist, a bad flag value) as usage errors, exit 2, without
// printing its whole help; and puts the top-level commands in order.
func finish(root *cli.Command) {
	rank := func(c *cli.Command) int {
		for i, n := range order {
			if c.Name == n {
				return i
			}
		}
		return len(order)
	}
	sort.SliceStable(root.Commands, func(i, j int) bool { return rank(root.Commands[i]) < rank(root.Commands[j]) })
	var walk func(c *cli.Command)
	walk = func(c *cli.Command) {
		c.OnUsageError = func(_ context.Context, c *cli.Command, err error, _ bool) error {
			return usageError{fmt.Errorf("%s: %w (see %s --help)", commandName(c), err, c.FullName())}
		}
		for _, sub := range c.Commands {
			walk(sub)
		}
	}
	walk(root)
	root.OnUsageError = func(_ context.Context, _ *cli.Command, err error, _ bool) error {
		return usageError{fmt.Errorf("%w (see wasinfer --help)", err)}
	}
}

// run is the whole CLI; main only wires the process to it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cmd := &cli.Command{
		Name:      "wasinfer",
		Usage:     "batch inference with WebAssembly pre- and post-processing",
		Version:   version,
		Writer:    stdout,
		ErrWriter: stderr,
		OnUsageError: func(_ context.Context, _ *cli.Command, err error, _ bool) error {
			return usageError{err}
		},
		Commands: append([]*cli.Command{
			udfCommand(logger),
			{
				Name:  "version",
				Usage: "print the version and the UDF ABI version",
				Action: func(_ context.Context, c *cli.Command) error {
					fmt.Fprintf(stdout, "wasinfer %s (UDF ABI v1)\n", version)
					return nil
				},
			},
		}, build(topCommands, logger)...),
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		// `wasinfer completion bash|zsh|fish|pwsh` prints a completion script.
		EnableShellCompletion: true,
	}
	var unknown string
	cmd.CommandNotFound = func(_ context.Context, _ *cli.Command, name string) { unknown = name }
	finish(cmd)
	err := cmd.Run(ctx, args)
	if err == nil && unknown != "" {
		err = usageError{fmt.Errorf("unknown command %q (wasinfer --help lists the commands)", unknown)}
	}
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "wasinfer: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFail
}
