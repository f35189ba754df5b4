//go:build cgo

package gpu

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// A few entries of ONNX Runtime's OrtApi table that onnxruntime_go v1.27
// does not wrap: the execution-provider device API (ONNX Runtime 1.22+), by
// which a plugin execution provider (a library exporting CreateEpFactories,
// such as the CUDA provider of scripts/fetch-cuda-ort.sh) is appended to a
// session. OrtApi is append-only, so an entry's index never changes; these
// are offsetof(OrtApi, entry) / sizeof(void*) in onnxruntime_c_api.h
// (ORT_API_VERSION 24, the header onnxruntime_go v1.27.0 ships).
// TestEpDeviceAPI checks them against the real library.
enum {
	ortGetErrorMessage = 2,
	ortCreateEnv = 3,
	ortReleaseStatus = 93,
	ortHasSessionConfigEntry = 237,
	ortGetEpDevices = 303,
	ortAppendExecutionProviderV2 = 304,
	ortHardwareDeviceType = 307,
	ortEpDeviceEpName = 312,
	ortEpDeviceDevice = 316,
};

typedef struct {
	const void *(*GetApi)(uint32_t version);
	const char *(*GetVersionString)(void);
} wasinferApiBase;

static void *const *wasinfer_api; // the OrtApi table
static void *wasinfer_env;        // ONNX Runtime's (singleton) OrtEnv

typedef const char *(*getErrorMessageFn)(const void *);
typedef void (*releaseStatusFn)(void *);

// wasinfer_status turns an OrtStatus into a malloc'd message (NULL: ok).
static char *wasinfer_status(void *st) {
	if (!st) return NULL;
	char *msg = strdup(((getErrorMessageFn)wasinfer_api[ortGetErrorMessage])(st));
	((releaseStatusFn)wasinfer_api[ortReleaseStatus])(st);
	return msg;
}

// wasinfer_ep_init finds the OrtApi of the library onnxruntime_go loaded
// (lib) and the environment. It returns a malloc'd error message, or NULL.
static char *wasinfer_ep_init(const char *lib) {
	if (wasinfer_api) return NULL;
	void *h = dlopen(lib, RTLD_NOW | RTLD_NOLOAD);
	if (!h) return strdup(dlerror());
	const wasinferApiBase *(*base)(void) = (const wasinferApiBase *(*)(void))dlsym(h, "OrtGetApiBase");
	if (!base) return strdup("no OrtGetApiBase in the library");
	void *const *api = (void *const *)base()->GetApi(24);
	if (!api) return strdup("the library does not serve ONNX Runtime C API version 24");
	void *env = NULL;
	void *st = ((void *(*)(int, const char *, void **))api[ortCreateEnv])(3, "wasinfer", &env);
	wasinfer_api = api;
	if (st) {
		char *msg = wasinfer_status(st);
		wasinfer_api = NULL;
		return msg;
	}
	wasinfer_env = env;
	return NULL;
}

static char *wasinfer_ep_devices(const void *const **devs, size_t *n) {
	return wasinfer_status(((void *(*)(const void *, const void *const **, size_t *))wasinfer_api[ortGetEpDevices])(wasinfer_env, devs, n));
}

static const char *wasinfer_ep_name(const void *dev) {
	return ((const char *(*)(const void *))wasinfer_api[ortEpDeviceEpName])(dev);
}

static int wasinfer_ep_hw_type(const void *dev) {
	const void *hw = ((const void *(*)(const void *))wasinfer_api[ortEpDeviceDevice])(dev);
	return hw ? ((int (*)(const void *))wasinfer_api[ortHardwareDeviceType])(hw) : -1;
}

static char *wasinfer_append_v2(void *so, const void *dev, const char *const *keys, const char *const *vals, size_t n) {
	return wasinfer_status(((void *(*)(void *, void *, const void *const *, size_t, const char *const *, const char *const *, size_t))
		wasinfer_api[ortAppendExecutionProviderV2])(so, wasinfer_env, &dev, 1, keys, vals, n));
}

static char *wasinfer_has_config(void *so, const char *key, int *out) {
	return wasinfer_status(((void *(*)(const void *, const char *, int *))wasinfer_api[ortHasSessionConfigEntry])(so, key, out));
}

static const void *wasinfer_dev_at(const void *const *devs, size_t i) { return devs[i]; }
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"
)

// epDevice is one OrtEpDevice: an execution provider on one device.
type epDevice struct {
	name string // the execution provider, e.g. CUDAExecutionProvider
	gpu  bool   // its hardware device is a GPU
	ptr  unsafe.Pointer
}

var epAPI struct {
	mu      sync.Mutex
	ready   bool
	plugins map[string]bool // provider libraries registered
}

func cError(msg *C.char) error {
	if msg == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(msg))
	return errors.New(strings.TrimSpace(C.GoString(msg)))
}

// initEpAPI makes the device API usable; initEnv must have loaded lib.
func initEpAPI(lib string) error {
	epAPI.mu.Lock()
	defer epAPI.mu.Unlock()
	if epAPI.ready {
		return nil
	}
	cl := C.CString(lib)
	defer C.free(unsafe.Pointer(cl))
	msg := C.wasinfer_ep_init(cl)
	if err := cError(msg); err != nil { //nolint:gocritic // positions of cgo-rewritten code confuse it
		return fmt.Errorf("reaching ONNX Runtime's execution-provider device API in %s: %w", lib, err)
	}
	epAPI.ready = true
	return nil
}

// epDevices lists the execution-provider devices ONNX Runtime knows.
func epDevices() ([]epDevice, error) {
	var devs *unsafe.Pointer
	var n C.size_t
	msg := C.wasinfer_ep_devices(&devs, &n) //nolint:gocritic // positions of cgo-rewritten code confuse it
	if err := cError(msg); err != nil {     //nolint:gocritic // likewise
		return nil, fmt.Errorf("listing execution-provider devices: %w", err)
	}
	out := make([]epDevice, int(n))
	for i := range out {
		d := C.wasinfer_dev_at(devs, C.size_t(i))
		out[i] = epDevice{name: C.GoString(C.wasinfer_ep_name(d)), gpu: C.wasinfer_ep_hw_type(d) == 1, ptr: d}
	}
	return out, nil
}

// sessionOptionsPtr returns the OrtSessionOptions behind onnxruntime_go's
// SessionOptions, whose only field it is (onnxruntime_go v1.27.0;
// TestEpDeviceAPI checks it).
func sessionOptionsPtr(so *ort.SessionOptions) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(so))
}

// appendEpDevice appends the provider of dev to so, with options.
func appendEpDevice(so *ort.SessionOptions, dev epDevice, options map[string]string) error {
	keys := make([]*C.char, 0, len(options)+1)
	vals := make([]*C.char, 0, len(options)+1)
	for k, v := range options {
		keys = append(keys, C.CString(k))
		vals = append(vals, C.CString(v))
	}
	defer func() {
		for i := range keys {
			C.free(unsafe.Pointer(keys[i]))
			C.free(unsafe.Pointer(vals[i]))
		}
	}()
	// C arrays: Go memory holding C pointers may not be passed as such.
	n := len(keys)
	ck := (**C.char)(C.malloc(C.size_t(max(n, 1)) * C.size_t(unsafe.Sizeof(uintptr(0)))))
	cv := (**C.char)(C.malloc(C.size_t(max(n, 1)) * C.size_t(unsafe.Sizeof(uintptr(0)))))
	defer C.free(unsafe.Pointer(ck))
	defer C.free(unsafe.Pointer(cv))
	copy(unsafe.Slice(ck, max(n, 1)), keys)
	copy(unsafe.Slice(cv, max(n, 1)), vals)
	msg := C.wasinfer_append_v2(sessionOptionsPtr(so), dev.ptr, ck, cv, C.size_t(n))
	return cError(msg)
}

// hasConfigEntry asks ONNX Runtime, through the pointer sessionOptionsPtr
// found, whether so has a config entry (TestEpDeviceAPI).
func hasConfigEntry(so *ort.SessionOptions, key string) (bool, error) {
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	var out C.int
	msg := C.wasinfer_has_config(sessionOptionsPtr(so), ck, &out)
	return out != 0, cError(msg)
}

// cudaPluginName is the file of the CUDA provider when it is built as a
// plugin execution provider (ONNX Runtime 1.29 from scripts/fetch-cuda-ort.sh):
// it sits beside the ONNX Runtime library.
const cudaPluginName = "libonnxruntime_providers_cuda.so"

// appendCUDAPlugin appends the CUDA plugin execution provider for GPU id:
// it registers the provider library beside lib once per process, then
// appends the id-th CUDA device ONNX Runtime lists.
func appendCUDAPlugin(so *ort.SessionOptions, lib string, id int, options map[string]string) error {
	plugin := filepath.Join(filepath.Dir(lib), cudaPluginName)
	if _, err := os.Stat(plugin); err != nil {
		return fmt.Errorf("%s has no CUDA provider built in, and there is no %s beside it", lib, cudaPluginName)
	}
	if err := initEpAPI(lib); err != nil {
		return err
	}
	epAPI.mu.Lock()
	registered := epAPI.plugins[plugin]
	if !registered {
		if err := ort.RegisterExecutionProviderLibrary("wasinfer-cuda", plugin); err != nil {
			epAPI.mu.Unlock()
			return fmt.Errorf("registering the CUDA provider %s: %w (it needs CUDA 13 and cuDNN 9 libraries on the library path: libcudart.so.13, libcublas.so.13, libcublasLt.so.13, libcurand.so.10, libcudnn.so.9)", plugin, err)
		}
		if epAPI.plugins == nil {
			epAPI.plugins = map[string]bool{}
		}
		epAPI.plugins[plugin] = true
	}
	epAPI.mu.Unlock()
	devs, err := epDevices()
	if err != nil {
		return err
	}
	var cuda []epDevice
	var names []string
	for _, d := range devs {
		names = append(names, d.name)
		if strings.Contains(strings.ToUpper(d.name), "CUDA") {
			cuda = append(cuda, d)
		}
	}
	if id >= len(cuda) {
		return fmt.Errorf("the CUDA provider lists %d GPUs, so cuda:%d does not exist for it (execution-provider devices: %s)", len(cuda), id, strings.Join(names, ", "))
	}
	delete(options, "device_id") // the OrtEpDevice is the device
	return appendEpDevice(so, cuda[id], options)
}
