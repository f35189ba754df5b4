package oci

import "errors"

// Sentinel errors; every error of this package wraps one of them or the
// error of the registry, file system or network it reports.
var (
	// ErrReference: a reference does not parse.
	ErrReference = errors.New("oci: bad reference")
	// ErrNotFound: the tag, digest or repository does not exist.
	ErrNotFound = errors.New("oci: not found")
	// ErrDigestMismatch: bytes received (from a registry, a layout or the
	// cache) do not have the digest that names them.
	ErrDigestMismatch = errors.New("oci: digest mismatch")
	// ErrNotModule: the artifact is not a Wasm module artifact.
	ErrNotModule = errors.New("oci: not a wasm module artifact")
	// ErrTooLarge: a manifest or layer is above its size limit.
	ErrTooLarge = errors.New("oci: too large")
	// ErrRegistry: the registry could not be reached or refused a request.
	ErrRegistry = errors.New("oci: registry")
)
