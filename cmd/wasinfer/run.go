package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

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
	}
	err := cmd.Run(ctx, args)
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
