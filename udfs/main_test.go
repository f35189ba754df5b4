package udfs

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasinfer/wasinfer/manifest"
)

// raceEnabled is set by race_test.go when the race detector is on.
var raceEnabled bool

// TestMain precompiles the library's Go modules first when the race
// detector is on (see internal/precompile): the tests then find their
// compiled code in the host's on-disk cache. Without it they still pass,
// only slower.
func TestMain(m *testing.M) {
	flag.Parse()
	if raceEnabled {
		precompileGoModules()
	}
	os.Exit(m.Run())
}

func precompileGoModules() {
	var mods []string
	entries, _ := os.ReadDir(".")
	for _, e := range entries {
		m, err := manifest.ParseFile(filepath.Join(e.Name(), "manifest.json"))
		if err == nil && m.Language == "go" {
			if abs, err := filepath.Abs(filepath.Join(e.Name(), e.Name()+".wasm")); err == nil {
				mods = append(mods, abs)
			}
		}
	}
	if len(mods) == 0 {
		return
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintf(os.Stderr, "udfs: not precompiling %v: %v (the tests compile them, slowly)\n", mods, err)
		return
	}
	cmd := exec.Command(goTool, "test", "-count=1", "-run", "^TestPrecompile$", "./internal/precompile")
	cmd.Env = append(os.Environ(), "WASINFER_PRECOMPILE="+strings.Join(mods, " "))
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "udfs: precompiling %v without the race detector: %v (the tests compile them, slowly)\n", mods, err)
	}
}
