// Command wasinfer runs batch-inference pipelines whose pre- and
// post-processing are WebAssembly UDFs. See the README for a tour.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(runProcess(os.Args, os.Stdout, os.Stderr))
}

// runProcess is the CLI as a process: SIGINT and SIGTERM cancel the
// command's context (a run stops cleanly, committing what is complete).
func runProcess(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, stdout, stderr)
}
