package reliability

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var fullFlag = flag.Bool("reliability.full", false, "run the full reliability suite (also WASINFER_RELIABILITY=full)")

// full reports whether the full suite runs (more trials, samples and
// mutations); the fast part runs otherwise.
func full() bool {
	return *fullFlag || os.Getenv("WASINFER_RELIABILITY") == "full"
}

// pick returns fast in the fast part and long in the full one.
func pick[T any](fast, long T) T {
	if full() {
		return long
	}
	return fast
}

const (
	childEnv     = "WASINFER_RELIABILITY_CHILD" // the child function to run
	childArgEnv  = "WASINFER_RELIABILITY_ARG"   // its argument (JSON)
	cacheDirEnv  = "WASINFER_RELIABILITY_CACHE" // the compilation cache shared with children
	resultsEnv   = "WASINFER_RELIABILITY_RESULTS"
	resultsDirIn = "../.cache/reliability" // relative to the package directory
)

// children are the functions a child process can run: name -> func(arg)
// error. Registered in init functions of the test files.
var children = map[string]func(arg string) error{}

// cacheDir is the compilation cache of the host, shared by the test and its
// children so that no module is compiled twice.
var cacheDir string

func TestMain(m *testing.M) {
	flag.Parse()
	if name := os.Getenv(childEnv); name != "" {
		cacheDir = os.Getenv(cacheDirEnv)
		fn, ok := children[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "reliability child: no child %q\n", name)
			os.Exit(2)
		}
		if err := fn(os.Getenv(childArgEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "reliability child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "wasinfer-reliability-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cacheDir = dir
	start := time.Now()
	code := m.Run()
	os.RemoveAll(dir)
	if err := writeResults(time.Since(start), code); err != nil {
		fmt.Fprintln(os.Stderr, "reliability: writing results:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// child returns a command that runs the child function name with arg in a
// new process (this test binary).
func child(name string, arg any) *exec.Cmd {
	b, err := json.Marshal(arg)
	if err != nil {
		panic(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+name, childArgEnv+"="+string(b), cacheDirEnv+"="+cacheDir)
	return cmd
}

// A figure is one measured result of the suite.
type figure struct {
	Section string         `json:"section"`
	Case    string         `json:"case"`
	Figure  string         `json:"figure"`
	Command string         `json:"command"`
	Details map[string]any `json:"details,omitempty"`
}

var (
	resultsMu sync.Mutex
	results   []figure
)

// record adds a figure to the results file; command is the `go test -run`
// pattern that reproduces it.
func record(t testing.TB, section, name, text, run string, details map[string]any) {
	t.Helper()
	t.Logf("%s: %s: %s", section, name, text)
	resultsMu.Lock()
	defer resultsMu.Unlock()
	results = append(results, figure{
		Section: section, Case: name, Figure: text,
		Command: "go test ./reliability/ -run '" + run + "' -v" + pick("", " -reliability.full"),
		Details: details,
	})
}

func writeResults(wall time.Duration, code int) error {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	if len(results) == 0 {
		return nil // -run selected nothing that measures
	}
	dir := os.Getenv(resultsEnv)
	if dir == "" {
		dir = resultsDirIn
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mode := pick("fast", "full")
	sort.SliceStable(results, func(i, j int) bool { return results[i].Section < results[j].Section })
	doc := map[string]any{
		"mode":        mode,
		"passed":      code == 0,
		"wall":        wall.Round(time.Millisecond).String(),
		"go":          runtime.Version(),
		"cpus":        runtime.NumCPU(),
		"race":        raceEnabled,
		"finished_at": time.Now().UTC().Format(time.RFC3339),
		"figures":     results,
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results-"+mode+".json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# wasinfer reliability results (%s, %s, %d CPUs, race %t, passed %t, %s)\n\n", mode, runtime.Version(), runtime.NumCPU(), raceEnabled, code == 0, wall.Round(time.Second))
	fmt.Fprintln(&md, "| section | case | figure | command |")
	fmt.Fprintln(&md, "| --- | --- | --- | --- |")
	for _, f := range results {
		fmt.Fprintf(&md, "| %s | %s | %s | `%s` |\n", f.Section, f.Case, strings.ReplaceAll(f.Figure, "|", "\\|"), f.Command)
	}
	return os.WriteFile(filepath.Join(dir, "results-"+mode+".md"), []byte(md.String()), 0o644)
}
