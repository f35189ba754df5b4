package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var rewriteHelp = flag.Bool("rewrite-help", false, "rewrite testdata/help/*.golden from the commands' --help")

// TestHelpGolden compares every command's --help with
// testdata/help/<command path>.golden (go test -rewrite-help rewrites them),
// so that a change to a command's interface is a visible diff.
func TestHelpGolden(t *testing.T) {
	paths := append([][]string{nil}, commandPaths()...)
	for _, p := range paths {
		name := strings.Join(append([]string{"wasinfer"}, p...), "_")
		t.Run(name, func(t *testing.T) {
			code, out, errs := runCLI(t, append(p, "--help")...)
			if code != exitOK || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			golden := filepath.Join("testdata", "help", name+".golden")
			if *rewriteHelp {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./cmd/wasinfer -run TestHelpGolden -rewrite-help)", err)
			}
			if out != string(want) {
				t.Errorf("--help changed (go test ./cmd/wasinfer -run TestHelpGolden -rewrite-help to accept):\n%s", out)
			}
		})
	}
}
