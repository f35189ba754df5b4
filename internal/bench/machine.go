package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where a report was measured.
type Machine struct {
	CPUModel    string `json:"cpu_model"`
	Cores       int    `json:"cores"` // runtime.NumCPU: the CPUs this process may use
	MemoryBytes int64  `json:"memory_bytes"`
	GoVersion   string `json:"go_version"`
	Kernel      string `json:"kernel"`
	OS          string `json:"os"`
	Arch        string `json:"arch"`
	// LoadStart and LoadEnd are the 1-minute load averages when the run
	// began and ended (0 where the platform has none).
	LoadStart float64 `json:"load_average_start"`
	LoadEnd   float64 `json:"load_average_end"`
}

func currentMachine() Machine {
	m := Machine{
		CPUModel:  cpuModel(),
		Cores:     runtime.NumCPU(),
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		LoadStart: loadAverage(),
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.MemoryBytes = procKB("/proc/meminfo", "MemTotal:") * 1024
	return m
}

// String is "AMD EPYC 7B13, 2 cores, 23.4 GiB RAM, linux/amd64 6.1.0, go1.26.8".
func (m Machine) String() string {
	model := m.CPUModel
	if model == "" {
		model = "unknown CPU"
	}
	return fmt.Sprintf("%s, %d cores, %.1f GiB RAM, %s/%s %s, %s", model, m.Cores, float64(m.MemoryBytes)/(1<<30),
		m.OS, m.Arch, m.Kernel, m.GoVersion)
}

// Shared reports whether other work was running: a load average above
// half the cores at the start or the end.
func (m Machine) Shared() bool {
	return m.LoadStart > float64(m.Cores)/2 || m.LoadEnd > float64(m.Cores)/2
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// procKB reads a "Key: N kB" line of a /proc file; 0 when absent.
func procKB(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// peakRSS is this process's peak resident set (VmHWM), in bytes; 0 where
// the platform does not report it.
func peakRSS() int64 { return procKB("/proc/self/status", "VmHWM:") * 1024 }
