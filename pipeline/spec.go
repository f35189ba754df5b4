package pipeline

// Spec is a whole job: where the data comes from, the stages it goes
// through in order, and where the results go. It is written as YAML (see
// Load); every field's YAML name is its tag.
type Spec struct {
	Source SourceSpec `yaml:"source" doc:"Where the input rows come from."`
	Stages []Stage    `yaml:"stages" doc:"The stages every batch goes through, in order."`
	Sink   SinkSpec   `yaml:"sink" doc:"Where the output rows go."`
	// DeadLetter receives the rows that failed within a stage's error
	// budget (on_error), from every stage, with the stage's name, the error
	// and the attempt count.
	DeadLetter *SinkSpec `yaml:"dead_letter" doc:"Where rows that fail within a stage's error budget go (with stage, error and attempts); required when any stage sets a budget, or when the source allows bad rows."`
	Run        Run       `yaml:"run" doc:"How the job runs: ordering, memory, progress, metrics."`

	// file and dir are the spec file and the directory relative paths in it
	// are resolved against; set by Load.
	file, dir string
	pos       *decoder
}

// Stage is one map_batches step: a Wasm UDF (udf) or an ONNX model (model).
type Stage struct {
	Name string `yaml:"name" doc:"Names the stage in progress, errors and --set overrides; unique. Default: the module or model file name without its extension."`

	UDF    string `yaml:"udf" doc:"The UDF module: a .wasm path (relative to this file; $VAR and ~ expand) or an oci://registry/repo:tag@sha256:... reference."`
	Model  string `yaml:"model" doc:"The ONNX model: a .onnx path (relative to this file; $VAR and ~ expand)."`
	SHA256 string `yaml:"sha256" doc:"The module's or model's expected sha256 (hex); the run refuses a file that does not match."`

	BatchSize int `yaml:"batch_size" doc:"Rows per batch this stage receives; the executor re-chunks between stages. Default: the source's batch size."`

	// UDF settings.
	Concurrency int      `yaml:"concurrency" doc:"UDF: instances in the pool (batches run at once). Default: the number of CPUs."`
	MemoryLimit ByteSize `yaml:"memory_limit" doc:"UDF: linear memory limit per instance, e.g. 256MiB. Default: 512MiB."`
	Timeout     Duration `yaml:"timeout" doc:"UDF: deadline per batch, e.g. 30s. Default: 1m."`
	Config      any      `yaml:"config" doc:"UDF: configuration passed to the module's init, as JSON (write it as YAML here)."`
	Grant       *Grant   `yaml:"grant" doc:"UDF: what the module may use beyond the sandbox (clock, environment variables, read-only directories). Default: nothing."`

	// Model settings.
	Actors      int               `yaml:"actors" doc:"Model: actors in the pool, each with its own session. Default: 1."`
	Device      string            `yaml:"device" doc:"Model: cpu, cuda (GPUs assigned by num_gpus) or cuda:N. Default: cpu."`
	NumGPUs     int               `yaml:"num_gpus" doc:"Model: GPUs per actor (0 or 1). Default: 1 when device is cuda, else 0."`
	CPUFallback bool              `yaml:"cpu_fallback" doc:"Model: run on the CPU when the requested GPU is not available, instead of failing. Default: false."`
	Threads     int               `yaml:"threads" doc:"Model: intra-op threads per actor. Default: CPUs divided among actors."`
	Inputs      map[string]string `yaml:"inputs" doc:"Model: model input name -> column that feeds it. Default: the column of the same name."`
	Outputs     map[string]string `yaml:"outputs" doc:"Model: model output name -> column it becomes. Default: the output's own name."`
	Keep        []string          `yaml:"keep" doc:"Model: input columns passed through to the output. Default: every input column not fed to the model."`

	// Failure policy.
	OnError OnError `yaml:"on_error" doc:"What to do when a batch fails."`

	// CPUs is the resource request per worker, for the scheduler's check.
	CPUs float64 `yaml:"cpus" doc:"CPUs each worker of this stage uses, for the resource check. Default: 1 for UDFs, threads for models."`
}

// Grant is what a UDF stage lets its module use beyond the default sandbox
// (no files, environment or real clock). A module whose manifest declares a
// capability must be granted it; network cannot be granted (WASI preview 1
// has no sockets).
type Grant struct {
	Clock bool        `yaml:"clock" doc:"The real wall and monotonic clocks instead of fake ones (sleep stays a no-op). Default: false."`
	Env   []string    `yaml:"env" doc:"Environment variables the module sees, by name; the values come from the environment of the run, and a name that is not set there is an error. Default: none."`
	Files []GrantFile `yaml:"files" doc:"Host directories mounted read-only in the module's filesystem. Default: none."`
}

// GrantFile is one read-only directory mount.
type GrantFile struct {
	Path  string `yaml:"path" doc:"The host directory (relative to this file; $VAR and ~ expand). Read-only; a symbolic link inside it that resolves outside it is refused."`
	Mount string `yaml:"mount" doc:"Where the module sees it: an absolute path such as /lookup."`
}

// OnError is a stage's failure policy. By default the first failure stops
// the run.
type OnError struct {
	Retries           *int    `yaml:"retries" doc:"Retries of a batch whose worker was replaced (trap, timeout, crash). Default: 2."`
	MaxErroredRows    int64   `yaml:"max_errored_rows" doc:"Rows that may fail (and go to dead_letter) before the run stops. Default: 0."`
	MaxErroredBatches int64   `yaml:"max_errored_batches" doc:"Batches that may fail before the run stops. Default: 0."`
	MaxErrorRate      float64 `yaml:"max_error_rate" doc:"Fraction of rows (0..1) that may fail before the run stops. Default: 0."`
	Bisect            bool    `yaml:"bisect" doc:"Split a failing batch to find the rows that fail, so that their neighbours go on. Default: false."`
}

// Run holds job-wide settings.
type Run struct {
	Ordered       bool     `yaml:"ordered" doc:"Keep output rows in input order. Default: false."`
	MemoryBudget  ByteSize `yaml:"memory_budget" doc:"Bytes of Arrow data in flight across all stages, e.g. 2GiB. Default: 1GiB."`
	QueueDepth    int      `yaml:"queue_depth" doc:"Batches queued between two stages. Default: 2 x the next stage's workers."`
	Progress      string   `yaml:"progress" doc:"auto (bars on a terminal, lines otherwise), bars, lines or none. Default: auto."`
	Metrics       string   `yaml:"metrics" doc:"Serve Prometheus metrics on this address, e.g. 127.0.0.1:9464. Default: off."`
	Watchdog      Duration `yaml:"watchdog" doc:"Report a stage that makes no progress for this long, e.g. 5m; 0 turns it off. Default: 5m."`
	WatchdogFail  bool     `yaml:"watchdog_fail" doc:"Stop the run when the watchdog fires, instead of only reporting. Default: false."`
	RequireSigned string   `yaml:"require_signed" doc:"A trust policy file: every UDF module must carry a signature by a key it trusts."`
	PlainHTTP     bool     `yaml:"plain_http" doc:"Fetch oci:// modules over plain HTTP (a registry on loopback without TLS). Default: false."`
	CacheDir      string   `yaml:"cache_dir" doc:"Compilation cache directory for UDF modules. Default: the user cache directory."`
}
