package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/tetratelabs/wazero"
	"github.com/urfave/cli/v3"

	"github.com/wasinfer/wasinfer/host"
)

func udfCommand(logger *slog.Logger) *cli.Command {
	return &cli.Command{
		Name:  "udf",
		Usage: "work with UDF modules",
		Commands: append([]*cli.Command{
			{
				Name:      "test",
				Usage:     "run one UDF module over a file's batches and print or write the result",
				ArgsUsage: "MODULE.wasm",
				Description: "Examples:\n" +
					"  wasinfer udf test normalize.wasm --input images.parquet\n" +
					"  wasinfer udf test filter.wasm --input rows.arrow --config '{\"min\": 10}' --output kept.parquet",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "input: a file, directory or glob (.parquet, .arrow, .feather, .arrows, .csv, .jsonl, images), or FORMAT:PATH; required"},
					&cli.StringFlag{Name: "config", Usage: "configuration passed to the UDF, as JSON"},
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the result here (.parquet, .arrow) instead of printing it"},
					&cli.IntFlag{Name: "batch-size", Value: 1024, Usage: "rows per batch"},
					&cli.IntFlag{Name: "rows", Value: 10, Usage: "rows to print"},
					&cli.DurationFlag{Name: "timeout", Value: time.Minute, Usage: "deadline per batch"},
				},
				Action: func(ctx context.Context, c *cli.Command) error {
					return udfTest(ctx, c, logger)
				},
			},
			{
				Name:      "inspect",
				Usage:     "print a module's ABI version, exports, imports, description, size and sha256",
				ArgsUsage: "MODULE.wasm",
				Description: "Prints what the host sees of a module, and whether it admits it (ABI version,\n" +
					"exports, allowed imports, size). The module is instantiated once, with no data.\n\n" +
					"Examples:\n" +
					"  wasinfer udf inspect udfs/softmax/softmax.wasm\n" +
					"  wasinfer udf inspect my_udf.wasm | grep admission",
				Action: func(ctx context.Context, c *cli.Command) error {
					return udfInspect(ctx, c, logger)
				},
			},
		}, build(udfCommands, logger)...),
	}
}

func moduleArg(c *cli.Command) (string, error) {
	if c.Args().Len() != 1 {
		return "", usageError{fmt.Errorf("%s: want exactly one MODULE.wasm argument, got %d", commandName(c), c.Args().Len())}
	}
	return c.Args().First(), nil
}

// commandName is the command's name without the program's, as in "udf test".
func commandName(c *cli.Command) string {
	return strings.TrimPrefix(c.FullName(), c.Root().Name+" ")
}

func udfTest(ctx context.Context, c *cli.Command, logger *slog.Logger) error {
	path, err := moduleArg(c)
	if err != nil {
		return err
	}
	if c.String("input") == "" {
		return usageError{fmt.Errorf("%s: --input FILE is required", commandName(c))}
	}
	if c.Int("batch-size") < 1 {
		return usageError{fmt.Errorf("--batch-size %d: want at least 1", c.Int("batch-size"))}
	}
	opts := []host.Option{host.WithPoolSize(1), host.WithLogger(logger), host.WithTimeout(c.Duration("timeout"))}
	if cfg := c.String("config"); cfg != "" {
		opts = append(opts, host.WithConfig([]byte(cfg)))
	}
	u, err := host.LoadFile(ctx, path, opts...)
	if err != nil {
		return err
	}
	defer u.Close(context.WithoutCancel(ctx))

	src, err := openInput(ctx, c.String("input"), c.Int("batch-size"))
	if err != nil {
		return err
	}
	defer src.Close()

	var sink batchSink
	if out := c.String("output"); out != "" {
		sink, err = createOutput(out)
	} else {
		sink = &tablePrinter{w: c.Root().Writer, limit: c.Int("rows")}
	}
	if err != nil {
		return err
	}
	start := time.Now()
	var rowsIn, rowsOut, batches int64
	for seq := int64(0); ; seq++ {
		rec, err := src.Read(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			_ = sink.Abort()
			return err
		}
		out, err := u.Transform(ctx, seq, rec)
		rowsIn += rec.NumRows()
		rec.Release()
		if err != nil {
			_ = sink.Abort()
			return err
		}
		rowsOut += out.NumRows()
		batches++
		err = sink.Write(out)
		out.Release()
		if err != nil {
			_ = sink.Abort()
			return err
		}
	}
	if err := sink.Close(); err != nil {
		return err
	}
	fmt.Fprintf(c.Root().ErrWriter, "wasinfer: %s: %d rows in, %d rows out, %d batches, %s\n",
		u.Name(), rowsIn, rowsOut, batches, time.Since(start).Round(time.Millisecond))
	return nil
}

func udfInspect(ctx context.Context, c *cli.Command, logger *slog.Logger) error {
	path, err := moduleArg(c)
	if err != nil {
		return err
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading udf module: %w", err)
	}
	w := c.Root().Writer
	sum := sha256.Sum256(wasm)
	fmt.Fprintf(w, "module:  %s\nsize:    %d bytes\nsha256:  %s\n", path, len(wasm), hex.EncodeToString(sum[:]))

	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	m, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return fmt.Errorf("compiling %s: %w", path, err)
	}
	fmt.Fprintln(w, "exports:")
	exports := m.ExportedFunctions()
	for _, name := range slices.Sorted(maps.Keys(exports)) {
		def := exports[name]
		fmt.Fprintf(w, "  %s %v -> %v\n", name, def.ParamTypes(), def.ResultTypes())
	}
	fmt.Fprintln(w, "imports:")
	for _, def := range m.ImportedFunctions() {
		mod, name, _ := def.Import()
		fmt.Fprintf(w, "  %s.%s\n", mod, name)
	}
	u, err := host.Load(ctx, wasm, host.WithPoolSize(1), host.WithLogger(logger), host.WithName(path))
	if err != nil {
		fmt.Fprintf(w, "admission: refused: %v\n", err)
		return err
	}
	defer u.Close(ctx)
	fmt.Fprintln(w, "admission: ok (ABI v1)")
	if d := u.Description(); d != nil {
		fmt.Fprintf(w, "description: %s\n", d)
	}
	return nil
}

// batchSink receives output batches; it does not take ownership of them.
type batchSink interface {
	Write(arrow.RecordBatch) error
	Close() error
	Abort() error
}
