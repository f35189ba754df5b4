package oci_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wasinfer/wasinfer/oci"
)

// A module pushed to an OCI image layout directory and resolved back by its
// pinned reference. The same bytes always give the same digest.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "oci-example-")
	defer os.RemoveAll(dir)
	wasm := []byte("\x00asm\x01\x00\x00\x00") // the smallest module

	p, err := oci.Push(ctx, "oci-layout:"+filepath.Join(dir, "layout")+":1.0.0", oci.Artifact{Wasm: wasm})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Digest)
	m, err := oci.Resolve(ctx, p.Ref.String(), oci.WithCacheDir(filepath.Join(dir, "cache")))
	if err != nil {
		panic(err)
	}
	fmt.Println(m.WasmDigest, len(m.Wasm), "bytes")
	// Output:
	// sha256:1f459cb9e7decd4a80c8cd1119ecebd8a0e21b05c9a225c1c2bbb8e34f4b7c49
	// sha256:93a44bbb96c751218e4c00d479e4c14358122a389acca16205b1e4d0dc5f9476 8 bytes
}
