package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v3"

	"github.com/wasinfer/wasinfer/gpu"
)

func init() { registerCommand(modelCommand) }

func modelCommand(*slog.Logger) *cli.Command {
	return &cli.Command{
		Name:  "model",
		Usage: "work with ONNX models",
		Commands: []*cli.Command{
			{
				Name:      "inspect",
				Usage:     "print a model's inputs and outputs (names, element types, shapes), opsets, producer and size",
				ArgsUsage: "MODEL.onnx",
				Description: "Reads the model file itself (ONNX Runtime is not needed) and runs the admission\n" +
					"check a model stage runs: a readable ModelProto, external data inside the model's directory.\n\n" +
					"Examples:\n" +
					"  wasinfer model inspect examples/digits/train/digits.onnx\n" +
					"  wasinfer model inspect det.onnx --json | jq '.inputs'",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "json", Usage: "print the description as JSON"},
				},
				Action: modelInspect,
			},
		},
	}
}

func modelInspect(_ context.Context, c *cli.Command) error {
	if c.Args().Len() != 1 {
		return usageError{fmt.Errorf("%s: want exactly one MODEL.onnx argument, got %d", commandName(c), c.Args().Len())}
	}
	m, err := gpu.Inspect(c.Args().First())
	if err != nil {
		return err
	}
	w := c.Root().Writer
	if c.Bool("json") {
		return writeModelJSON(w, m)
	}
	return writeModelText(w, m)
}

// modelJSON is `wasinfer model inspect --json`'s output: ModelInfo with each
// value's type spelled out.
type modelJSON struct {
	*gpu.ModelInfo
	Opset   int64       `json:"opset"`
	Inputs  []valueJSON `json:"inputs"`
	Outputs []valueJSON `json:"outputs"`
}

type valueJSON struct {
	Name  string   `json:"name"`
	Kind  string   `json:"kind"`
	Elem  string   `json:"elem_type,omitempty"`
	Shape []string `json:"shape"` // a number, a symbol's name, or "?"; null when the rank is unknown
	Type  string   `json:"type"`
}

func values(vs []gpu.ValueInfo) []valueJSON {
	out := make([]valueJSON, len(vs))
	for i, v := range vs {
		out[i] = valueJSON{Name: v.Name, Kind: string(v.Kind), Type: v.Type()}
		if v.Kind == gpu.KindTensor || v.Kind == gpu.KindSparseTensor {
			out[i].Elem = v.Elem.String()
		}
		if v.Shape != nil {
			out[i].Shape = make([]string, len(v.Shape))
			for k, d := range v.Shape {
				out[i].Shape[k] = d.String()
			}
		}
	}
	return out
}

func writeModelJSON(w io.Writer, m *gpu.ModelInfo) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(modelJSON{ModelInfo: m, Opset: m.Opset(), Inputs: values(m.Inputs), Outputs: values(m.Outputs)})
}

func writeModelText(w io.Writer, m *gpu.ModelInfo) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "model:\t%s\n", m.Path)
	fmt.Fprintf(tw, "size:\t%d bytes\n", m.Size)
	fmt.Fprintf(tw, "ir version:\t%d\n", m.IRVersion)
	var ops []string
	for _, o := range m.Opsets {
		d := o.Domain
		if d == "" {
			d = "ai.onnx"
		}
		ops = append(ops, fmt.Sprintf("%s %d", d, o.Version))
	}
	fmt.Fprintf(tw, "opsets:\t%s\n", strings.Join(ops, ", "))
	if m.Producer != "" || m.ProducerVersion != "" {
		fmt.Fprintf(tw, "producer:\t%s\n", strings.TrimSpace(m.Producer+" "+m.ProducerVersion))
	}
	if m.GraphName != "" {
		fmt.Fprintf(tw, "graph:\t%s\n", m.GraphName)
	}
	if m.Doc != "" {
		fmt.Fprintf(tw, "doc:\t%s\n", firstLineOf(m.Doc))
	}
	fmt.Fprintf(tw, "initializers:\t%d\n", m.Initializers)
	if len(m.ExternalData) > 0 {
		fmt.Fprintf(tw, "external data:\t%s\n", strings.Join(m.ExternalData, ", "))
	}
	for _, k := range slices.Sorted(maps.Keys(m.Metadata)) {
		fmt.Fprintf(tw, "metadata %s:\t%s\n", k, firstLineOf(m.Metadata[k]))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, part := range []struct {
		title string
		vs    []gpu.ValueInfo
	}{{"inputs", m.Inputs}, {"outputs", m.Outputs}} {
		fmt.Fprintf(w, "%s:\n", part.title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, v := range part.vs {
			fmt.Fprintf(tw, "  %s\t%s\n", v.Name, v.Type())
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
