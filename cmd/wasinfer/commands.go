package main

import (
	"log/slog"

	"github.com/urfave/cli/v3"
)

// A commandFunc builds one command of the CLI. Each command lives in its own
// file and registers itself from an init function, so that commands can be
// added without editing a shared list.
type commandFunc func(logger *slog.Logger) *cli.Command

var (
	topCommands []commandFunc // wasinfer <command>
	udfCommands []commandFunc // wasinfer udf <command>
)

// registerCommand adds a top-level command. Call it from init.
func registerCommand(f commandFunc) { topCommands = append(topCommands, f) }

// registerUDFCommand adds a `wasinfer udf` subcommand. Call it from init.
func registerUDFCommand(f commandFunc) { udfCommands = append(udfCommands, f) }

func build(fs []commandFunc, logger *slog.Logger) []*cli.Command {
	cmds := make([]*cli.Command, 0, len(fs))
	for _, f := range fs {
		cmds = append(cmds, f(logger))
	}
	return cmds
}
