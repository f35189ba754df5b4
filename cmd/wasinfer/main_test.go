package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wasinfer/wasinfer/internal/bench"
)

// asCLIEnv makes this test binary run as the wasinfer CLI (see TestMain).
const asCLIEnv = "WASINFER_TEST_AS_CLI"

// TestMain lets this test binary stand in for the wasinfer binary: with
// asCLIEnv set (tests that run the CLI as a process: a signal, the README
// tutorial) or bench.ChildEnv set (`wasinfer bench` starting itself again
// for a child measurement) it runs the CLI, not the tests. So those tests
// exercise this very build, without a separate go build.
func TestMain(m *testing.M) {
	if os.Getenv(asCLIEnv) != "" || os.Getenv(bench.ChildEnv) != "" {
		os.Exit(runProcess(os.Args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// cliDir returns a directory holding an executable named wasinfer that is
// this test binary run as the CLI; put it first on PATH and set asCLIEnv=1
// in the environment of what runs it (cliEnv).
func cliDir(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(self, filepath.Join(dir, "wasinfer")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// cliEnv is the environment for a process that runs the CLI from cliDir.
func cliEnv(dir string) []string {
	return append(os.Environ(), asCLIEnv+"=1", "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}
