//go:build cgo

package gpu

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
)

// The optimized-model cache (WithOptimizedModelCache): PATH holds the graph
// ONNX Runtime optimized, PATH.key what it was made from. A key names the
// model's sha256, the ONNX Runtime version, the optimization level and the
// kinds of device, since an optimized graph may hold device-specific
// operators, and the CPU.

// cacheKey returns the key of an optimized model.
func cacheKey(modelPath, ortVersion string, level GraphOptimization, devices []Device) (string, error) {
	f, err := os.Open(modelPath)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrModel, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%w: reading %s: %w", ErrModel, modelPath, err)
	}
	kinds := []string{}
	for _, d := range devices {
		k := "cpu"
		if d.CUDA {
			k = "cuda"
		}
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	return fmt.Sprintf("wasinfer optimized model v1\nmodel_sha256=%s\nonnxruntime=%s\nlevel=%s\ndevices=%s\ncpu=%s\n",
		hex.EncodeToString(h.Sum(nil)), ortVersion, level, strings.Join(kinds, ","), cpuIdentity()), nil
}

// cpuIdentity names the processor: an optimized graph may use a blocked
// layout (NCHWc) sized for its vector width, so a cache made on another CPU
// is not reused. It hashes the model name and flags of /proc/cpuinfo's
// first processor, with GOARCH.
func cpuIdentity() string {
	h := sha256.New()
	h.Write([]byte(runtime.GOARCH))
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if line == "" {
				break // the end of the first processor's block
			}
			if k, _, ok := strings.Cut(line, ":"); ok {
				switch strings.TrimSpace(k) {
				case "model name", "flags", "vendor_id", "cpu family", "model":
					h.Write([]byte(line))
				}
			}
		}
	}
	return runtime.GOARCH + "-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// cacheHit reports whether path holds an optimized model made for key.
func cacheHit(path, key string) bool {
	got, err := os.ReadFile(path + ".key")
	if err != nil || string(got) != key {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Size() > 0
}

// cacheTemp is where a session writes a new optimized model before
// commitCache moves it in place.
func cacheTemp(path string) string { return fmt.Sprintf("%s.tmp%d", path, os.Getpid()) }

// commitCache moves the optimized model written to cacheTemp(path) to path
// and writes its key, each by rename so a reader never sees half a file.
func commitCache(path, key string) error {
	tmp := cacheTemp(path)
	if _, err := os.Stat(tmp); err != nil {
		return fmt.Errorf("ONNX Runtime wrote no optimized model: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	keyTmp := tmp + ".key"
	if err := os.WriteFile(keyTmp, []byte(key), 0o644); err != nil {
		return err
	}
	return os.Rename(keyTmp, path+".key")
}
