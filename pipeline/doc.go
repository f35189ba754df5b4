// Package pipeline reads pipeline files — one YAML file per job — and opens
// the job they describe: the source, the stages and the sinks, wired into a
// scheduler.Pipeline.
//
// # The file
//
//	source:                      # dataset.SourceSpec
//	  format: images             # parquet, csv, jsonl, ipc, images, binary, text
//	  paths: [scans/]            # files, directories, globs; relative to this file
//	  batch_size: 16
//	stages:                      # in order; each is a udf: or a model:
//	  - name: det_pre
//	    udf: ../udfs/ocr_det_pre/ocr_det_pre.wasm     # or oci://registry/repo:tag@sha256:…
//	    sha256: 5f1c…                                 # optional pin, checked before running
//	    config: {limit_side: 960}                     # passed to the module's init as JSON
//	    concurrency: 2                                # instances in the pool
//	    memory_limit: 256MiB
//	    timeout: 30s
//	  - name: det
//	    model: ${MODELS}/ch_PP-OCRv4_det_infer.onnx
//	    actors: 1
//	    device: cpu                                   # cpu, cuda, cuda:N
//	    inputs: {x: image}                            # model input -> column
//	    outputs: {sigmoid_0.tmp_0: prob}              # model output -> column
//	    keep: [path]
//	    on_error: {retries: 2, max_errored_rows: 10, bisect: true}
//	sink:                        # dataset.SinkSpec
//	  format: parquet
//	  path: out/
//	dead_letter: {format: jsonl, path: dead/}
//	run:
//	  ordered: true
//	  memory_budget: 2GiB
//	  metrics: 127.0.0.1:9464
//
// Every setting is documented in the JSON Schema (JSONSchema, `wasinfer
// schema`), which editors use for completion.
//
// # Errors
//
// Load reports every problem of a file at once — syntax, unknown keys (with
// a suggestion), wrong types, bad values, missing files, digest mismatches,
// settings that contradict each other — each as a Problem with its file,
// line and column. Open reports every stage that fails to load the same
// way, and Spec.Locate places a run's error at the stage it happened in.
//
// # Paths
//
// Relative paths are relative to the pipeline file's directory; $VAR,
// ${VAR}, ${VAR:-default} and a leading ~/ expand, and an unset variable
// without a default is a problem, not an empty string.
//
// # Files in config
//
// A UDF has no file system unless its stage grants one (see Grants), so
// what it needs usually travels in its config. Two YAML
// tags read files when the pipeline is loaded (paths as above, UTF-8, at
// most MaxConfigFileBytes):
//
//	config:
//	  vocabulary: !lines vocab.txt              # the file's lines, as a list of strings
//	  dictionary: [!lines keys.txt, " "]        # a list item: its lines are spliced in
//	  template: !file prompt.txt                # the file's text, as one string
//
// # Grants
//
// A UDF stage's grant: block lets its module use what the sandbox denies
// by default (host.WithClock, host.WithEnv, host.WithReadOnlyDir):
//
//	grant:
//	  clock: true                 # real wall and monotonic clocks (sleep stays a no-op)
//	  env: [HOME, MY_TOKEN]       # these variables, values from the run's environment
//	  files:
//	    - path: data/lookup       # a directory, relative like any path
//	      mount: /lookup          # where the module sees it, read-only
//
// A module whose manifest declares a capability (files, env, clock) the
// stage does not grant is refused when the job opens, with the grant to
// add; network cannot be granted. A mounted directory is read-only, and a
// symbolic link inside it that resolves outside it is refused.
package pipeline
