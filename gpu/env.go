//go:build cgo

package gpu

import (
	"fmt"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// ONNX Runtime's environment is process-global in onnxruntime_go
// (InitializeEnvironment once, one shared library). It is created by the
// first Load that finds the library and lives until the process exits: a
// pool's Close leaves it, because another pool may be running or start
// later, and unloading the library under a running session would crash.
var ortEnv struct {
	mu      sync.Mutex
	path    string // the library loaded; "" until one is
	version string
}

// initEnv loads the library at path and creates the environment, once per
// process. A later call with another path is an error: one process, one
// ONNX Runtime. A failed load leaves nothing behind, so a later call may
// try another path.
func initEnv(path string) (version string, err error) {
	ortEnv.mu.Lock()
	defer ortEnv.mu.Unlock()
	if ortEnv.path != "" {
		if ortEnv.path != path {
			return "", fmt.Errorf("%w: this process already loaded %s; it cannot load %s too (one ONNX Runtime per process: give every model stage the same library)",
				ErrLibrary, ortEnv.path, path)
		}
		return ortEnv.version, nil
	}
	if ort.IsInitialized() {
		// Someone else in the process initialized onnxruntime_go directly.
		ortEnv.path, ortEnv.version = path, ort.GetVersion()
		return ortEnv.version, nil
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return "", fmt.Errorf("%w: loading %s: %w; it must be libonnxruntime.so.1 of ONNX Runtime %s or later for this platform: %s",
			ErrLibrary, path, err, minORT, fetchHint())
	}
	_ = ort.DisableTelemetry()
	ortEnv.path, ortEnv.version = path, ort.GetVersion()
	return ortEnv.version, nil
}

// minORT is the oldest ONNX Runtime whose C API onnxruntime_go v1.27
// accepts (it asks for API version 24).
const minORT = "1.24"

// LoadedLibrary returns the path and version of the ONNX Runtime library
// this process loaded, or "", "" before the first Load.
func LoadedLibrary() (path, version string) {
	ortEnv.mu.Lock()
	defer ortEnv.mu.Unlock()
	return ortEnv.path, ortEnv.version
}
