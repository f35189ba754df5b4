package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/urfave/cli/v3"
)

// commandPaths lists every command of the CLI, as argument lists.
func commandPaths() [][]string {
	var out [][]string
	var walk func(prefix []string, cmds []*cli.Command)
	walk = func(prefix []string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Name == "help" || c.Hidden {
				continue
			}
			p := append(append([]string(nil), prefix...), c.Name)
			out = append(out, p)
			walk(p, c.Commands)
		}
	}
	logger := discardLogger()
	var tops []*cli.Command
	tops = append(tops, udfCommand(logger))
	tops = append(tops, build(topCommands, logger)...)
	walk(nil, tops)
	return out
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestHelpHasExamples: every command that does something says how, with
// at least one example, in its --help.
func TestHelpHasExamples(t *testing.T) {
	for _, p := range commandPaths() {
		code, out, _ := runCLI(t, append(p, "--help")...)
		if code != exitOK {
			t.Fatalf("%v --help: exit %d", p, code)
		}
		if strings.Contains(out, "COMMANDS:") || p[len(p)-1] == "version" || p[len(p)-1] == "schema" && strings.Contains(out, "wasinfer schema") {
			continue // a group, or a command whose whole use is one line
		}
		if !strings.Contains(out, "wasinfer "+strings.Join(p, " ")) || !strings.Contains(strings.ToLower(out), "example") {
			t.Errorf("wasinfer %s --help has no example:\n%s", strings.Join(p, " "), out)
		}
	}
}

func TestUnknownCommandAndFlag(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, "wasinfer: unknown command \"nope\" (wasinfer --help lists the commands)\n"},
		{[]string{"run", "--bogus", "x.yaml"}, "wasinfer: run: flag provided but not defined: -bogus (see wasinfer run --help)\n"},
		{[]string{"udf", "test", "--rows", "many", "m.wasm"}, "wasinfer: udf test: invalid value \"many\" for flag -rows: strconv.ParseInt: parsing \"many\": invalid syntax (see wasinfer udf test --help)\n"},
	}
	for _, c := range cases {
		code, out, errs := runCLI(t, c.args...)
		if code != exitUsage || out != "" || errs != c.want {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s\nwant exit 2, stderr:\n%s", c.args, code, out, errs, c.want)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	if code != exitOK || out != "wasinfer dev (UDF ABI v1)\n" {
		t.Fatalf("exit %d: %q", code, out)
	}
}

func TestCompletion(t *testing.T) {
	code, out, errs := runCLI(t, "completion", "bash")
	if code != exitOK || !strings.Contains(out, "complete") {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, errs, out)
	}
}
