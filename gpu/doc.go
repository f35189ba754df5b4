// Package gpu runs ONNX models as wasinfer model stages: a [Pool] of actors,
// each a goroutine that owns one ONNX Runtime session pinned to a device
// (the CPU, or CUDA GPU N), fed Arrow record batches one at a time. It is the
// counterpart of Ray Data's stateful class under ActorPoolStrategy(size=N)
// with num_gpus per actor: the model is loaded once per actor, and a pool of
// N actors is one stage.
//
//	p, err := gpu.Load(ctx, "digits.onnx",
//		gpu.WithActors(2),
//		gpu.WithInputs(map[string]string{"input": "pixels"}))
//	if err != nil { ... }
//	defer p.Close(ctx)
//	out, err := p.Transform(ctx, seq, batch) // out is the caller's to Release
//
// [Pool] implements scheduler.Stage and scheduler.Concurrent.
//
// # ONNX Runtime
//
// Sessions run through github.com/yalue/onnxruntime_go, which loads the
// ONNX Runtime shared library at run time. The library is found ([FindLibrary])
// from, in order: WithLibrary (the CLI's --ort-lib), $WASINFER_ORT_LIB, and
// the per-user cache ${XDG_CACHE_HOME:-$HOME/.cache}/wasinfer/onnxruntime/1.30.0/libonnxruntime.so.1,
// which `make deps` fills from the npm package onnxruntime-node 1.30.0
// (npm pack and tar, no install scripts). It is loaded once per process and
// stays loaded; every stage of the process uses the same library. A
// pipeline without a model stage never loads it.
//
// Only the files that call ONNX Runtime use cgo (build tag cgo). In a build
// without cgo the package still compiles: [Inspect] works (it reads the
// model file itself), and [Load] returns [ErrNoCgo].
//
// # CUDA
//
// WithDevice("cuda") spreads the actors over the GPUs (actor i on GPU
// floor(i × WithGPUsPerActor)); "cuda:N" puts them all on GPU N. GPUs are
// counted without a CUDA SDK (/proc/driver/nvidia/gpus, else nvidia-smi -L,
// limited by CUDA_VISIBLE_DEVICES), and a pool that needs more than there
// are is refused before any session exists. A CUDA actor appends ONNX
// Runtime's CUDA execution provider with device_id and WithCUDAOptions
// (memory limit, cuDNN settings): built into the library (ONNX Runtime's own
// CUDA builds), or else as a plugin execution provider,
// libonnxruntime_providers_cuda.so beside the library, registered once per
// process and appended through SessionOptionsAppendExecutionProvider_V2
// (ep.go). It runs on the CPU instead only with WithCPUFallback.
//
// The npm build of ONNX Runtime that `make deps` fetches is CPU-only.
// scripts/fetch-cuda-ort.sh fetches a CUDA 13 build (ONNX Runtime 1.29.0 and
// its CUDA plugin provider, from the npm packages com.github.asus4.onnxruntime
// and com.github.asus4.onnxruntime.linux-x64-gpu 0.4.9, about 230 MB) into
// ${XDG_CACHE_HOME:-$HOME/.cache}/wasinfer/onnxruntime-cuda/1.29.0/ and
// prints the WASINFER_ORT_LIB to set; CUDA 13 (libcudart.so.13,
// libcublas.so.13, libcublasLt.so.13, libcurand.so.10) and cuDNN 9
// (libcudnn.so.9) must be on the library path.
//
// # Threads
//
// Each session gets WithIntraOpThreads threads, by default max(1, CPUs /
// actors) where CPUs is WithCPUs (default runtime.NumCPU()), so that the
// actors of a stage never keep more cores busy than it was given; the
// scheduler gives a model stage the cores its Wasm pools leave
// ([Pool.Resources] tells it what one actor occupies). Inter-op threads
// default to 1 (graphs run sequentially). Idle worker threads do not spin
// (WithSpinning turns spinning on).
//
// # Start-up
//
// Load creates every actor's session in parallel and warms each with one
// run on zeros (batch 1, 1 for each symbolic dimension, or WithWarmupShape)
// before it returns, so no batch meets a cold actor; [Pool.Startup] reports
// the time taken, per actor too. WithOptimizedModelCache keeps the
// optimized graph on disk for the next start.
//
// # Binding columns to model inputs
//
// Each model input reads the column of its name, or the one WithInputs maps
// it to. The batch dimension (a model input's first) is the row count; a
// model that fixes it (to 1, say) runs a batch in pieces of that many rows.
// A column feeds an input of shape [batch, d1, ..., dk] when its elements
// have the input's type and its rows have the shape [d1, ..., dk]:
//
//   - a primitive column (one value per row) feeds a [batch] input;
//   - an arrow.fixed_shape_tensor column (package tensor) whose shape is
//     [d1, ..., dk], or a fixed_size_list column of d1×...×dk values, feeds
//     any rank; without nulls, its value buffer is handed to ONNX Runtime as
//     it is (no copy, any slice offset);
//   - a list or large_list column feeds a [batch, len] input whose len is
//     symbolic, when every row of the batch has the same length (a
//     sequence length that changes from batch to batch);
//   - string and large_string columns, and fixed_size_list<utf8>, feed
//     string inputs (copied: ONNX Runtime owns its strings);
//   - bool columns are bit-packed in Arrow and a byte per element in ONNX,
//     so they are copied once; a bfloat16 input takes a float32 column
//     (rounded to nearest even while copying).
//
// Symbolic dimensions other than the batch (image height, sequence length)
// take their size from the column; two inputs that name the same dimension
// must agree. Anything else is an error that names the model input, the
// column, what the model wants and what the column has.
//
// # Outputs
//
// Every output (or those WithOutputs selects) becomes a column after the
// kept input columns: a primitive column for a [batch] output, else an
// arrow.fixed_shape_tensor column of the output's per-row shape (strings:
// fixed_size_list<utf8>). bfloat16 outputs become float32 (exactly). An
// output whose shape the model and the inputs fix is written by ONNX
// Runtime straight into the Arrow buffer; others are copied once. An output
// whose first dimension is not the batch is an error. Input columns that no
// model input reads pass through (WithKeep changes which). An empty batch
// gives empty columns; when the model and the column types do not fix an
// output's shape, the model runs once on a row of zeros to learn it.
//
// An output's type includes its shape, so a model whose output shape
// follows a dynamic input dimension (an image size) gives batches of
// different schemas when that dimension changes between batches: resize in
// a UDF stage before the model when one output schema is needed.
//
// # Admission
//
// Before anything runs, Load reads the model file ([Inspect]): it must be a
// readable ONNX ModelProto with a graph; its inputs and outputs must be
// tensors of types a stage can bind, and the mapping options must name real
// inputs and outputs; external-data files must be relative paths inside the
// model's directory (no "..", no absolute path, no symbolic link out of
// it). [Pool.Check] binds a schema without running.
//
// # Failures
//
// Errors are *ModelError values that name the stage, the batch and the
// actor. A panic in an actor becomes a KindCrash error (Transient: the actor
// was restarted, with a fresh session), the batch can be retried; a crash
// inside ONNX Runtime's C code cannot be caught and ends the process. When
// a Transform's context ends during a run, the run is stopped through ONNX
// Runtime's terminate flag.
//
// Known: ONNX Runtime 1.30 overflows its stack while creating its
// environment when the process has a command-line argument of about 30 KB
// or more (it reads the command line; an environment variable of that size
// is fine), which ends the process with SIGSEGV. Put long values in files
// (a pipeline's config reads them with !file and !lines), not in --set.
//
// # Ownership and concurrency
//
// A Pool is safe for concurrent use; at most Concurrency() calls run at
// once, the others wait for a free actor. Transform neither retains nor
// releases its input beyond the call; the output batch belongs to the
// caller, and holds the kept input columns (retained) and new output
// columns (allocated with WithAllocator, or Go memory for outputs ONNX
// Runtime allocated). Close waits for the calls in flight, then stops the
// actors and destroys their sessions.
package gpu
