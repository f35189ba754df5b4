package gpu

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ORTVersion is the ONNX Runtime release `make deps` fetches (from the npm
// package onnxruntime-node) and the per-user cache path is named after.
const ORTVersion = "1.30.0"

// EnvLibrary is the environment variable that names the ONNX Runtime shared
// library when no option does.
const EnvLibrary = "WASINFER_ORT_LIB"

// CacheDir returns the per-user cache directory of wasinfer:
// ${XDG_CACHE_HOME:-$HOME/.cache}/wasinfer.
func CacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "wasinfer")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		home = os.TempDir()
	}
	return filepath.Join(home, ".cache", "wasinfer")
}

// CachedLibraryPath returns where `make deps` puts the ONNX Runtime library:
// CacheDir()/onnxruntime/<ORTVersion>/libonnxruntime.so.1.
func CachedLibraryPath() string {
	return filepath.Join(CacheDir(), "onnxruntime", ORTVersion, "libonnxruntime.so.1")
}

// FetchCommand returns the shell command that fetches the ONNX Runtime
// library into CachedLibraryPath without running any npm install script.
func FetchCommand() string {
	dst := filepath.Dir(CachedLibraryPath())
	return fmt.Sprintf("d=$(mktemp -d) && (cd \"$d\" && npm pack --ignore-scripts onnxruntime-node@%s) && mkdir -p %q && "+
		"tar -xzf \"$d/onnxruntime-node-%s.tgz\" -C %q --strip-components=5 package/bin/napi-v6/linux/x64/libonnxruntime.so.1 && rm -rf \"$d\"",
		ORTVersion, dst, ORTVersion, dst)
}

// FindLibrary returns the path of the ONNX Runtime shared library: explicit
// when it is not empty (a --ort-lib flag or WithLibrary), else
// $WASINFER_ORT_LIB when set, else CachedLibraryPath(). The first of these
// that is given must exist: an explicit path that does not is an error, not
// a reason to look further.
//
// # Errors
//
// Wraps [ErrLibrary]; the message says where it looked and which command
// fetches the library.
func FindLibrary(explicit string) (string, error) {
	check := func(path, from string) (string, error) {
		st, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("%w: %s names %s, which does not exist (%v); %s", ErrLibrary, from, path, shortErr(err), fetchHint())
		}
		if st.IsDir() {
			return "", fmt.Errorf("%w: %s names %s, which is a directory; name the file libonnxruntime.so.1 in it", ErrLibrary, from, path)
		}
		return path, nil
	}
	if explicit != "" {
		return check(explicit, "the library option (--ort-lib)")
	}
	if env := os.Getenv(EnvLibrary); env != "" {
		return check(env, "$"+EnvLibrary)
	}
	cached := CachedLibraryPath()
	if _, err := os.Stat(cached); err != nil {
		return "", fmt.Errorf("%w: not found: no --ort-lib option, $%s is not set, and %s does not exist; %s",
			ErrLibrary, EnvLibrary, cached, fetchHint())
	}
	return cached, nil
}

func fetchHint() string {
	return "fetch ONNX Runtime " + ORTVersion + " with `make deps`, or run: " + FetchCommand()
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}
