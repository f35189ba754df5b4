package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
)

var (
	stageName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
	hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)
	cudaDev   = regexp.MustCompile(`^cuda(:[0-9]+)?$`)
)

// check runs every static check of a decoded spec: what can be known
// without opening the data or running a module.
func (s *Spec) check(ps *problems) {
	s.checkSource(ps)
	if len(s.Stages) == 0 {
		s.problem(ps, "stages", "a pipeline needs at least one stage (a udf: or model: entry)")
	}
	names := map[string]int{}
	for i := range s.Stages {
		s.checkStage(ps, i)
		name := s.Stages[i].Name
		if j, dup := names[name]; dup {
			s.problem(ps, stagePath(i)+".name", "stage name %q is already used by stages[%d]: names must be unique (they are used by --set and in errors)", name, j)
		}
		names[name] = i
	}
	s.checkSink(ps)
	if s.DeadLetter != nil {
		s.checkSinkSpec(ps, "dead_letter", s.DeadLetter)
		if s.DeadLetter.Path != "" && s.DeadLetter.Path == s.Sink.Path {
			s.problem(ps, "dead_letter.path", "the dead-letter output must not share the sink's directory %q", s.Sink.Path)
		}
	} else if s.Source.AllowBadRows {
		s.problem(ps, "source.allow_bad_rows", "bad source rows are allowed but the pipeline has no dead_letter output to put them in (add dead_letter: {format: jsonl, path: dead/})")
	}
	s.checkRun(ps)
}

func (s *Spec) checkStage(ps *problems, i int) {
	st := &s.Stages[i]
	p := stagePath(i)
	if !stageName.MatchString(st.Name) {
		s.problem(ps, p+".name", "stage name %q: use letters, digits, _ and - (starting with a letter or _)", st.Name)
	}
	switch {
	case st.UDF == "" && st.Model == "":
		s.problem(ps, p, "stage %q has neither udf: nor model: (set one: a .wasm module or a .onnx model)", st.Name)
		return
	case st.UDF != "" && st.Model != "":
		s.problem(ps, p+".model", "stage %q has both udf: and model: (a stage is one or the other: split it in two)", st.Name)
		return
	}
	if st.SHA256 != "" && !hexDigest.MatchString(strings.TrimPrefix(st.SHA256, "sha256:")) {
		s.problem(ps, p+".sha256", "want 64 lowercase hex digits (optionally after sha256:), got %q", st.SHA256)
	}
	if st.BatchSize < 0 {
		s.problem(ps, p+".batch_size", "want a positive number of rows (or leave it out for the source's), got %d", st.BatchSize)
	}
	if st.CPUs < 0 {
		s.problem(ps, p+".cpus", "want a non-negative number of CPUs, got %v", st.CPUs)
	}
	if st.UDF != "" {
		s.checkUDFStage(ps, i)
	} else {
		s.checkModelStage(ps, i)
	}
	s.checkOnError(ps, i)
}

// only lists the settings that belong to one kind of stage.
var (
	modelOnly = []string{"actors", "device", "num_gpus", "cpu_fallback", "threads", "inputs", "outputs", "keep"}
	udfOnly   = []string{"concurrency", "memory_limit", "timeout", "config", "grant"}
)

func (s *Spec) wrongKind(ps *problems, i int, keys []string, kind, other string) {
	for _, k := range keys {
		path := stagePath(i) + "." + k
		if _, set := s.pos.keys[path]; set {
			s.problem(ps, path, "%s is a %s setting, and stage %q is a %s stage", k, other, s.Stages[i].Name, kind)
		}
	}
}

func (s *Spec) checkUDFStage(ps *problems, i int) {
	st := &s.Stages[i]
	p := stagePath(i)
	s.wrongKind(ps, i, modelOnly, "udf", "model")
	if st.Concurrency < 0 {
		s.problem(ps, p+".concurrency", "want a positive number of instances, got %d", st.Concurrency)
	}
	if st.MemoryLimit != 0 && (st.MemoryLimit < 64<<10 || st.MemoryLimit > 4<<30) {
		s.problem(ps, p+".memory_limit", "want between 64KiB and 4GiB (the wasm32 limit), got %s", st.MemoryLimit)
	}
	if st.Timeout < 0 {
		s.problem(ps, p+".timeout", "want a positive duration, got %s", st.Timeout.D())
	}
	if st.Grant != nil {
		s.checkGrant(ps, i)
	}
	if strings.HasPrefix(st.UDF, "oci://") || strings.HasPrefix(st.UDF, "oci-layout:") {
		return // resolved (and its digest checked) when the run starts
	}
	s.checkFile(ps, p+".udf", st.UDF, ".wasm", st.SHA256, p+".sha256")
}

func (s *Spec) checkModelStage(ps *problems, i int) {
	st := &s.Stages[i]
	p := stagePath(i)
	s.wrongKind(ps, i, udfOnly, "model", "udf")
	if st.Actors < 0 {
		s.problem(ps, p+".actors", "want a positive number of actors, got %d", st.Actors)
	}
	if st.Threads < 0 {
		s.problem(ps, p+".threads", "want a positive number of threads, got %d", st.Threads)
	}
	if st.Device != "" && st.Device != "cpu" && !cudaDev.MatchString(st.Device) {
		s.problem(ps, p+".device", "want cpu, cuda or cuda:N, got %q", st.Device)
	}
	if st.NumGPUs < 0 || st.NumGPUs > 1 {
		s.problem(ps, p+".num_gpus", "want 0 or 1 GPUs per actor, got %d", st.NumGPUs)
	}
	if st.NumGPUs > 0 && (st.Device == "" || st.Device == "cpu") {
		if _, set := s.pos.keys[p+".device"]; set {
			s.problem(ps, p+".num_gpus", "num_gpus is %d but device is %q: set device: cuda, or num_gpus: 0", st.NumGPUs, st.Device)
		}
	}
	for in, col := range st.Inputs {
		if in == "" || col == "" {
			s.problem(ps, p+".inputs", "every entry maps a model input name to a column name; got %q: %q", in, col)
		}
	}
	for out, col := range st.Outputs {
		if out == "" || col == "" {
			s.problem(ps, p+".outputs", "every entry maps a model output name to a column name; got %q: %q", out, col)
		}
	}
	s.checkFile(ps, p+".model", st.Model, ".onnx", st.SHA256, p+".sha256")
}

func (s *Spec) checkOnError(ps *problems, i int) {
	e := &s.Stages[i].OnError
	p := stagePath(i) + ".on_error"
	if e.Retries != nil && *e.Retries < 0 {
		s.problem(ps, p+".retries", "want 0 or more retries, got %d", *e.Retries)
	}
	if e.MaxErroredRows < 0 {
		s.problem(ps, p+".max_errored_rows", "want 0 or more rows, got %d", e.MaxErroredRows)
	}
	if e.MaxErroredBatches < 0 {
		s.problem(ps, p+".max_errored_batches", "want 0 or more batches, got %d", e.MaxErroredBatches)
	}
	if e.MaxErrorRate < 0 || e.MaxErrorRate > 1 {
		s.problem(ps, p+".max_error_rate", "want a fraction between 0 and 1, got %v", e.MaxErrorRate)
	}
	budget := e.MaxErroredRows > 0 || e.MaxErroredBatches > 0 || e.MaxErrorRate > 0
	if budget && s.DeadLetter == nil {
		s.problem(ps, p, "an error budget is set but the pipeline has no dead_letter output: failed rows must go somewhere (add, at the top level, dead_letter: {format: jsonl, path: dead/})")
	}
}

func (s *Spec) checkRun(ps *problems) {
	r := &s.Run
	switch r.Progress {
	case "", "auto", "bars", "lines", "none":
	default:
		s.problem(ps, "run.progress", "want auto, bars, lines or none, got %q", r.Progress)
	}
	if r.MemoryBudget != 0 && r.MemoryBudget < 1<<20 {
		s.problem(ps, "run.memory_budget", "want at least 1MiB, got %s", r.MemoryBudget)
	}
	if r.QueueDepth < 0 {
		s.problem(ps, "run.queue_depth", "want a positive number of batches, got %d", r.QueueDepth)
	}
	if r.Watchdog < 0 {
		s.problem(ps, "run.watchdog", "want a positive duration or 0 (off), got %s", r.Watchdog.D())
	}
	if r.Metrics != "" {
		host, port, err := net.SplitHostPort(r.Metrics)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
			s.problem(ps, "run.metrics", "want host:port such as 127.0.0.1:9464, got %q", r.Metrics)
		} else if host == "" {
			s.problem(ps, "run.metrics", "name the interface, e.g. 127.0.0.1:%s (or 0.0.0.0:%s to serve every interface)", port, port)
		}
	}
	if r.RequireSigned != "" {
		s.checkFile(ps, "run.require_signed", r.RequireSigned, "", "", "")
	}
}

// checkFile checks that the file a setting names exists and is a regular
// file, with the given extension (a warning-level mismatch is a problem
// only when the file is not there), and, when digest is set, that its
// sha256 is digest.
func (s *Spec) checkFile(ps *problems, path, name, ext, digest, digestPath string) {
	full, err := s.ResolvePath(name)
	if err != nil {
		s.problem(ps, path, "%v", err)
		return
	}
	st, err := os.Stat(full)
	switch {
	case os.IsNotExist(err):
		hint := ""
		if ext != "" && !strings.HasSuffix(name, ext) {
			hint = fmt.Sprintf(" (want a %s file)", ext)
		}
		s.problem(ps, path, "%s does not exist%s", full, hint)
		return
	case err != nil:
		s.problem(ps, path, "cannot read %s: %v", full, err)
		return
	case st.IsDir():
		s.problem(ps, path, "%s is a directory; want a file", full)
		return
	}
	if digest == "" {
		return
	}
	got, err := fileSHA256(full)
	if err != nil {
		s.problem(ps, path, "reading %s: %v", full, err)
		return
	}
	if want := strings.TrimPrefix(digest, "sha256:"); hexDigest.MatchString(want) && got != want {
		s.problem(ps, digestPath, "%s has sha256 %s, not the pinned %s: the file changed (pin the new digest only if you trust the new file)", full, got, want)
	}
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
