// Package oci stores wasinfer UDF modules in OCI registries and OCI image
// layout directories, and fetches them back through a local
// content-addressed cache, checking every byte against its digest before
// anything else sees it. It uses oras-go v2.
//
//	p, err := oci.Push(ctx, "oci://registry.example/udfs/normalize:1.0.0", oci.Artifact{Wasm: wasm, Signature: env})
//	// p.Ref.String() == "oci://registry.example/udfs/normalize:1.0.0@sha256:…": put that in the pipeline spec
//	m, err := oci.Resolve(ctx, p.Ref.String())
//	// m.Wasm hashes to m.WasmDigest, which the manifest pinned by the reference names
//	// m.Manifest is the sidecar; else manifest.Extract(m.Wasm) gives the embedded one.
//	v, err := policy.VerifyAny(m.Wasm, man, m.Signatures, sign.WithName(manifestName)) // package sign
//
// # References
//
//	oci://HOST[:PORT]/REPO:TAG
//	oci://HOST[:PORT]/REPO@sha256:HEX
//	oci://HOST[:PORT]/REPO:TAG@sha256:HEX
//	oci-layout:DIR:TAG              (also @sha256:HEX)
//
// When a reference has a digest, the digest decides: the manifest is
// fetched by digest and must hash to it, and the tag is only used to explain
// a pin that matches nothing ("its tag 1.0.0 is at sha256:…"). A pinned
// reference therefore always means the same bytes, however its tag moves.
//
// # The artifact
//
// A module is a Wasm OCI artifact (the CNCF TAG Runtime layout, as
// wasmtime, wkg and others read it): an OCI image manifest with artifactType
// and config media type MediaTypeWasmConfig, a config
// {"architecture":"wasm","os":"wasip1","layerDigests":[…]}, and the module
// as one MediaTypeWasm layer. A sidecar manifest travels as a second layer
// (MediaTypeManifest), so the digest of the artifact pins it too; an
// embedded manifest is inside the module. The manifest has no timestamp:
// the same module always has the same digest.
//
// A signature is a separate artifact that refers to the module (OCI 1.1
// referrers): artifactType ArtifactTypeSignature, a config "{}" of that
// media type (so registries that take a referrer's type from its config
// agree), one
// MediaTypeDSSE layer holding the envelope, and the module's manifest as
// subject. Signatures can be added later (AttachSignature) by anyone who may
// push, without changing the module's digest. On registries without the
// referrers API, oras-go maintains the referrers tag schema
// (a "sha256-<hex>" tag holding an index of referrers) instead; an OCI
// layout records referrers in its index.json.
//
// # The cache
//
// Blobs are cached under DIR/sha256/<hex> (DIR defaults to
// ${XDG_CACHE_HOME:-$HOME/.cache}/wasinfer/modules), written atomically
// (temporary file and rename); every read re-checks the digest, and a
// corrupt entry is removed and fetched again. A pinned reference whose
// manifest, layers and signatures are cached resolves without the network;
// its signatures are those seen when it was last fetched (WithRefresh asks
// again).
//
// # Transport
//
// HTTPS by default; plain HTTP only with WithPlainHTTP (for a registry on
// loopback, or a network you trust). Credentials come from the Docker
// config (config.json "auths" and credential helpers), as `docker login`
// or `oras login` write them.
//
// # Concurrency
//
// Push, AttachSignature and Resolve are safe for concurrent use; the cache
// may be shared by several processes.
package oci
