// Package manifest is the description a shared wasinfer UDF module carries:
// what it is (name, version, license, language), what it reads and writes
// (input and output columns), how it is configured (a JSON Schema subset and
// an example), what it may do (capabilities; none by default), what it costs
// (resource hints), how to check it (test vectors), and which inputs it
// refuses on purpose (rejects). `wasinfer udf vet` (package vet) checks a
// module against its manifest.
//
// # Where a manifest lives
//
// Embedded in the module, as a WebAssembly custom section named
// [SectionName] ("wasinfer.manifest") holding the manifest's JSON, followed
// by a section [DigestSectionName] ("wasinfer.manifest.sha256") holding the
// lowercase hex SHA-256 of those JSON bytes. The digest section makes an
// accidental change of the manifest (a flipped byte, a truncated copy) an
// error of [Extract] instead of a silently different manifest; it is not a
// signature (anyone can recompute it: package sign authenticates modules).
// Custom sections do not change what a module does: the host ignores them.
//
// Or beside the module, as a sidecar file named like the module with
// ".wasm" replaced by [SidecarSuffix] ("normalize.wasm" →
// "normalize.manifest.json"), for modules built without one. [Find] looks
// for the embedded section first, then the sidecar.
//
// # The code digest
//
// code_sha256, when set, is the SHA-256 of the module with its manifest and
// digest sections removed ([CodeDigest]); [Pack] sets it. A sidecar for a
// module without sections declares the digest of the module file itself.
// [Manifest.VerifyCode] compares it, so a flipped byte in the code is
// reported as a digest mismatch before the module runs.
//
// # The format
//
// A manifest is a JSON object; [Parse] refuses unknown fields, duplicate
// keys and values of the wrong type, naming the field and its line and
// column. Fields (see [Manifest] for each one's rules):
//
//	{
//	  "name": "softmax", "version": "1.0.0", "license": "Apache-2.0", "abi": "v1",
//	  "language": "rust", "description": "softmax over each row of a float32 list",
//	  "inputs":  [{"name": "logits", "type": "list<float32>", "nullable": true}],
//	  "outputs": [{"name": "probs",  "type": "list<float32>", "nullable": true}],
//	  "config": {"schema": {"type": "object", "properties": {...}}, "example": {...}},
//	  "capabilities": [],
//	  "resources": {"memory_bytes": 2097152, "ns_per_row": 2000},
//	  "vectors": [{"input": "vectors/01-in.arrow", "output": "vectors/01-out.arrow",
//	               "config": {...}, "tolerance": {"abs": 1e-6}}],
//	  "rejects": [{"class": "extreme", "column": "logits", "message": "not finite"}],
//	  "code_sha256": "…"
//	}
//
// Column types are written in the grammar of [ParseType], alternatives
// separated by "|". A column's config_key names the configuration member
// that renames it ([Column.NameUnder]); an output may be optional (present
// only under some configurations), and an output named "*" stands for the
// columns a module adds whose names come from its configuration. Vector files are
// Arrow IPC files named relative to the manifest's directory, or inline
// "data:application/vnd.apache.arrow.file;base64,…" URIs; [Pack] inlines
// them, so that an embedded manifest is self-contained.
//
// # Concurrency and cost
//
// Everything here is a pure function of its arguments and safe for
// concurrent use. Extract and Embed walk the section headers once (O(number
// of sections)) and copy at most the module once; Parse is O(size of the
// JSON).
package manifest
