package gpu

import (
	"fmt"
	"slices"
	"testing"
)

func TestAssignDevices(t *testing.T) {
	cuda, cuda1, cpu := deviceSpec{cuda: true, id: -1}, deviceSpec{cuda: true, id: 1}, deviceSpec{}
	cases := []struct {
		spec     deviceSpec
		actors   int
		perActor float64
		gpus     int
		fallback bool
		want     []Device
	}{
		{cpu, 3, 1, 0, false, []Device{CPU, CPU, CPU}},
		{cuda, 2, 1, 2, false, []Device{CUDA(0), CUDA(1)}},
		{cuda, 4, 0.5, 2, false, []Device{CUDA(0), CUDA(0), CUDA(1), CUDA(1)}},
		{cuda, 3, 0.5, 2, false, []Device{CUDA(0), CUDA(0), CUDA(1)}},
		{cuda, 3, 1.0 / 3, 1, false, []Device{CUDA(0), CUDA(0), CUDA(0)}},
		{cuda1, 2, 0.5, 2, false, []Device{CUDA(1), CUDA(1)}},
		{cuda, 3, 1, 2, true, []Device{CUDA(0), CUDA(1), CPU}},
		{cuda1, 1, 1, 0, true, []Device{CPU}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%d×%v/%dgpus/fallback=%v", c.spec, c.actors, c.perActor, c.gpus, c.fallback), func(t *testing.T) {
			got, err := assignDevices(c.spec, c.actors, c.perActor, c.gpus, c.fallback)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestAssignDevicesErrors(t *testing.T) {
	cases := []struct {
		spec     deviceSpec
		actors   int
		perActor float64
		gpus     int
		want     string
	}{
		{deviceSpec{cuda: true, id: -1}, 3, 1, 2, "gpu: device: 3 actors × 1 GPUs per actor need 3 GPUs, but this machine has 2 GPUs; run fewer actors, fewer GPUs per actor, device cpu, or allow the CPU fallback (WithCPUFallback, --cpu-fallback)"},
		{deviceSpec{cuda: true, id: -1}, 1, 1, 0, "gpu: device: 1 actors × 1 GPUs per actor need 1 GPUs, but this machine has no GPU this process may use (no /proc/driver/nvidia/gpus, no nvidia-smi, or CUDA_VISIBLE_DEVICES hides them); run fewer actors, fewer GPUs per actor, device cpu, or allow the CPU fallback (WithCPUFallback, --cpu-fallback)"},
		{deviceSpec{cuda: true, id: 2}, 1, 1, 2, "gpu: device: cuda:2 requested, but this machine has 2 GPUs; run fewer actors, fewer GPUs per actor, device cpu, or allow the CPU fallback (WithCPUFallback, --cpu-fallback)"},
		{deviceSpec{cuda: true, id: 0}, 2, 1, 1, "gpu: device: 2 actors × 1 GPUs per actor need 2 GPUs, but cuda:0 is one GPU; use device cuda to spread them, or 0.5 GPUs per actor"},
		{deviceSpec{cuda: true, id: -1}, 1, 2, 4, "gpu: option: 2 GPUs per actor: want more than 0 and at most 1 (an ONNX Runtime session runs on one GPU; 0.5 puts two actors on each GPU)"},
		{deviceSpec{cuda: true, id: -1}, 1, 0, 4, "gpu: option: 0 GPUs per actor: want more than 0 and at most 1 (an ONNX Runtime session runs on one GPU; 0.5 puts two actors on each GPU)"},
	}
	for _, c := range cases {
		t.Run(c.want[:40], func(t *testing.T) {
			_, err := assignDevices(c.spec, c.actors, c.perActor, c.gpus, false)
			if err == nil || err.Error() != c.want {
				t.Fatalf("error:\n got %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestParseDevice(t *testing.T) {
	for in, want := range map[string]string{"": "cpu", "cpu": "cpu", "CUDA": "cuda", "gpu": "cuda", "cuda:3": "cuda:3", "\tcuda:0\n": "cuda:0"} {
		d, err := parseDevice(in)
		if err != nil || d.String() != want {
			t.Errorf("parseDevice(%q) = %v, %v; want %s", in, d, err, want)
		}
	}
	for in, want := range map[string]string{
		"cuda:-1": `gpu: device: "cuda:-1": want cpu, cuda or cuda:N with N a GPU number (0, 1, ...)`,
		"cuda:x":  `gpu: device: "cuda:x": want cpu, cuda or cuda:N with N a GPU number (0, 1, ...)`,
		"rocm":    `gpu: device: "rocm": want cpu, cuda or cuda:N`,
	} {
		if _, err := parseDevice(in); err == nil || err.Error() != want {
			t.Errorf("parseDevice(%q): %v; want %s", in, err, want)
		}
	}
}

func TestVisibleDevices(t *testing.T) {
	for v, want := range map[string]int{"": 0, "0": 1, "0,1,2": 3, "1,-1,2": 1, "-1": 0, "GPU-8f6a,GPU-77c1": 2} {
		if got := visibleCount(v); got != want {
			t.Errorf("visibleCount(%q) = %d, want %d", v, got, want)
		}
	}
	t.Setenv("CUDA_VISIBLE_DEVICES", "")
	if n := CountGPUs(); n != 0 {
		t.Fatalf("CUDA_VISIBLE_DEVICES=\"\" hides every GPU; CountGPUs() = %d", n)
	}
}

func TestCUDAProviderOptions(t *testing.T) {
	on := true
	got := CUDAOptions{MemoryLimit: 2 << 30, ConvAlgoSearch: "heuristic", ConvUseMaxWorkspace: &on, Extra: map[string]string{"arena_extend_strategy": "kSameAsRequested"}}.providerOptions(3)
	want := map[string]string{"device_id": "3", "gpu_mem_limit": "2147483648", "cudnn_conv_algo_search": "HEURISTIC", "cudnn_conv_use_max_workspace": "1", "arena_extend_strategy": "kSameAsRequested"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}
