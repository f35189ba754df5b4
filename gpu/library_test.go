package gpu

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The lookup order: option, $WASINFER_ORT_LIB, the per-user cache; the
// first one given must exist.
func TestFindLibrary(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv(EnvLibrary, "")
	cached := filepath.Join(cache, "wasinfer", "onnxruntime", ORTVersion, "libonnxruntime.so.1")
	if CachedLibraryPath() != cached {
		t.Fatalf("cache path %s, want %s", CachedLibraryPath(), cached)
	}
	_, err := FindLibrary("")
	want := "gpu: ONNX Runtime library: not found: no --ort-lib option, $WASINFER_ORT_LIB is not set, and " + cached +
		" does not exist; fetch ONNX Runtime 1.30.0 with `make deps`, or run: " + FetchCommand()
	if err == nil || err.Error() != want || !errors.Is(err, ErrLibrary) {
		t.Fatalf("error:\n got %v\nwant %s", err, want)
	}

	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cached, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := FindLibrary(""); err != nil || got != cached {
		t.Fatalf("cache: %s, %v", got, err)
	}
	env := filepath.Join(t.TempDir(), "env.so")
	if err := os.WriteFile(env, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvLibrary, env)
	if got, err := FindLibrary(""); err != nil || got != env {
		t.Fatalf("env: %s, %v", got, err)
	}
	opt := filepath.Join(t.TempDir(), "opt.so")
	if err := os.WriteFile(opt, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := FindLibrary(opt); err != nil || got != opt {
		t.Fatalf("option: %s, %v", got, err)
	}

	// A named library that does not exist is an error, not a reason to look on.
	t.Setenv(EnvLibrary, "/nonexistent/libonnxruntime.so.1")
	_, err = FindLibrary("")
	want = "gpu: ONNX Runtime library: $WASINFER_ORT_LIB names /nonexistent/libonnxruntime.so.1, which does not exist (no such file or directory); fetch ONNX Runtime 1.30.0 with `make deps`, or run: " + FetchCommand()
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n got %v\nwant %s", err, want)
	}
	_, err = FindLibrary(filepath.Dir(opt))
	want = "gpu: ONNX Runtime library: the library option (--ort-lib) names " + filepath.Dir(opt) + ", which is a directory; name the file libonnxruntime.so.1 in it"
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n got %v\nwant %s", err, want)
	}
}
