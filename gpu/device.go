package gpu

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Device is where an actor's session runs: the CPU, or CUDA GPU ID (as CUDA
// numbers the visible GPUs).
type Device struct {
	CUDA bool // false: the CPU
	ID   int  // the CUDA device ordinal; 0 for the CPU
}

// CPU is the CPU device.
var CPU = Device{}

// CUDA returns CUDA GPU id.
func CUDA(id int) Device { return Device{CUDA: true, ID: id} }

// String returns "cpu" or "cuda:N".
func (d Device) String() string {
	if d.CUDA {
		return "cuda:" + strconv.Itoa(d.ID)
	}
	return "cpu"
}

// deviceSpec is a parsed WithDevice value: the CPU, any GPU ("cuda": the
// pool assigns them), or one GPU ("cuda:N").
type deviceSpec struct {
	cuda bool
	id   int // -1: assigned per actor
}

func parseDevice(s string) (deviceSpec, error) {
	switch t := strings.ToLower(strings.TrimSpace(s)); {
	case t == "" || t == "cpu":
		return deviceSpec{id: 0}, nil
	case t == "cuda" || t == "gpu":
		return deviceSpec{cuda: true, id: -1}, nil
	case strings.HasPrefix(t, "cuda:"):
		n, err := strconv.Atoi(t[len("cuda:"):])
		if err != nil || n < 0 {
			return deviceSpec{}, fmt.Errorf("%w: %q: want cpu, cuda or cuda:N with N a GPU number (0, 1, ...)", ErrDevice, s)
		}
		return deviceSpec{cuda: true, id: n}, nil
	}
	return deviceSpec{}, fmt.Errorf("%w: %q: want cpu, cuda or cuda:N", ErrDevice, s)
}

func (d deviceSpec) String() string {
	switch {
	case !d.cuda:
		return "cpu"
	case d.id < 0:
		return "cuda"
	}
	return "cuda:" + strconv.Itoa(d.id)
}

// CountGPUs returns the number of NVIDIA GPUs this process may use, without
// a CUDA SDK: the entries of /proc/driver/nvidia/gpus (the driver's own
// list), or else the lines of `nvidia-smi -L`; then, when
// CUDA_VISIBLE_DEVICES is set, the number of devices it names (at most the
// number present). It returns 0 on a machine without an NVIDIA driver.
func CountGPUs() int {
	n := 0
	if ents, err := filepath.Glob("/proc/driver/nvidia/gpus/*"); err == nil && len(ents) > 0 {
		n = len(ents)
	} else if smi, err := exec.LookPath("nvidia-smi"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, smi, "-L").Output(); err == nil {
			for _, l := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(strings.TrimSpace(l), "GPU ") {
					n++
				}
			}
		}
	}
	if v, ok := os.LookupEnv("CUDA_VISIBLE_DEVICES"); ok {
		n = min(n, visibleCount(v))
	}
	return n
}

// visibleCount counts the devices a CUDA_VISIBLE_DEVICES value names: CUDA
// stops at the first invalid entry (such as -1), and "" hides every GPU.
func visibleCount(v string) int {
	n := 0
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			break
		}
		if i, err := strconv.Atoi(e); err == nil && i < 0 {
			break
		}
		n++
	}
	return n
}

// assignDevices decides every actor's device before anything is created:
// actor i of a "cuda" pool gets GPU floor(i × perActor), so perActor 1
// gives each actor its own GPU and 0.5 puts two actors on each; a
// "cuda:N" pool puts every actor on GPU N. A pool that needs more GPUs than
// gpus is an error unless fallback, which puts the actors without a GPU on
// the CPU.
func assignDevices(spec deviceSpec, actors int, perActor float64, gpus int, fallback bool) ([]Device, error) {
	devs := make([]Device, actors)
	if !spec.cuda {
		return devs, nil
	}
	if perActor <= 0 || perActor > 1 || math.IsNaN(perActor) {
		return nil, fmt.Errorf("%w: %v GPUs per actor: want more than 0 and at most 1 (an ONNX Runtime session runs on one GPU; 0.5 puts two actors on each GPU)", ErrOption, perActor)
	}
	if spec.id >= 0 {
		if spec.id >= gpus {
			if fallback {
				return devs, nil
			}
			return nil, fmt.Errorf("%w: cuda:%d requested, but %s; %s", ErrDevice, spec.id, gpuCount(gpus), noGPUHint())
		}
		if need := float64(actors) * perActor; need > 1+1e-9 {
			return nil, fmt.Errorf("%w: %d actors × %v GPUs per actor need %v GPUs, but cuda:%d is one GPU; use device cuda to spread them, or %v GPUs per actor",
				ErrDevice, actors, perActor, trimFloat(need), spec.id, trimFloat(1/float64(actors)))
		}
		for i := range devs {
			devs[i] = CUDA(spec.id)
		}
		return devs, nil
	}
	need := int(math.Ceil(float64(actors)*perActor - 1e-9))
	if need > gpus && !fallback {
		return nil, fmt.Errorf("%w: %d actors × %v GPUs per actor need %d GPUs, but %s; %s",
			ErrDevice, actors, perActor, need, gpuCount(gpus), noGPUHint())
	}
	for i := range devs {
		g := int(math.Floor(float64(i)*perActor + 1e-9))
		if g < gpus {
			devs[i] = CUDA(g)
		}
	}
	return devs, nil
}

func gpuCount(n int) string {
	switch n {
	case 0:
		return "this machine has no GPU this process may use (no /proc/driver/nvidia/gpus, no nvidia-smi, or CUDA_VISIBLE_DEVICES hides them)"
	case 1:
		return "this machine has 1 GPU"
	}
	return fmt.Sprintf("this machine has %d GPUs", n)
}

func noGPUHint() string {
	return "run fewer actors, fewer GPUs per actor, device cpu, or allow the CPU fallback (WithCPUFallback, --cpu-fallback)"
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'g', 4, 64) }
