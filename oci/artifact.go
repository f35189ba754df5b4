package oci

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types of a module artifact. The module is a Wasm OCI artifact as
// the CNCF TAG Runtime's Wasm OCI artifact layout describes it: an OCI image
// manifest whose config has MediaTypeWasmConfig and whose layer is the
// module (MediaTypeWasm).
const (
	MediaTypeWasmConfig = "application/vnd.wasm.config.v0+json"
	MediaTypeWasm       = "application/wasm"
	// MediaTypeManifest is the layer holding a sidecar wasinfer manifest
	// (a module with an embedded manifest carries it inside its Wasm layer).
	MediaTypeManifest = "application/vnd.wasinfer.manifest.v1+json"
	// ArtifactTypeSignature is the artifact type of a signature referrer: a
	// manifest whose subject is the module's manifest and whose one layer
	// (MediaTypeDSSE) is a DSSE envelope (package sign).
	ArtifactTypeSignature = "application/vnd.wasinfer.signature.v1+json"
	MediaTypeDSSE         = "application/vnd.dsse.envelope.v1+json"
)

// Limits on what a registry sends.
const (
	maxManifestBytes  = 4 << 20 // an OCI manifest
	maxSidecarBytes   = 16 << 20
	maxSignatureBytes = 1 << 20
	maxSignatures     = 64
)

// wasmConfig is the config blob of the Wasm OCI artifact layout.
type wasmConfig struct {
	Architecture string   `json:"architecture"`
	OS           string   `json:"os"`
	LayerDigests []string `json:"layerDigests"`
}

// blob is a descriptor with its content.
type blob struct {
	desc ocispec.Descriptor
	data []byte
}

func newBlob(mediaType string, data []byte) blob {
	return blob{desc: ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}, data: data}
}

// moduleManifest builds the OCI manifest of a module and, when manifest is
// not nil, its sidecar manifest. It is deterministic: no timestamps, so the
// same module always has the same digest. title, when not empty, becomes the
// module layer's org.opencontainers.image.title.
func moduleManifest(wasm, manifest []byte, title string) (man blob, blobs []blob) {
	layer := newBlob(MediaTypeWasm, wasm)
	if title != "" {
		layer.desc.Annotations = map[string]string{ocispec.AnnotationTitle: title}
	}
	cfgJSON, _ := json.Marshal(wasmConfig{Architecture: "wasm", OS: "wasip1", LayerDigests: []string{layer.desc.Digest.String()}})
	cfg := newBlob(MediaTypeWasmConfig, cfgJSON)
	blobs = []blob{cfg, layer}
	layers := []ocispec.Descriptor{layer.desc}
	if manifest != nil {
		side := newBlob(MediaTypeManifest, manifest)
		blobs = append(blobs, side)
		layers = append(layers, side.desc)
	}
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: MediaTypeWasmConfig,
		Config:       cfg.desc,
		Layers:       layers,
	}
	data, _ := json.Marshal(m)
	man = newBlob(ocispec.MediaTypeImageManifest, data)
	man.desc.ArtifactType = MediaTypeWasmConfig
	return man, blobs
}

// signatureManifest builds the referrer manifest of a signature envelope
// whose subject is the module manifest.
func signatureManifest(subject ocispec.Descriptor, envelope []byte) (man blob, blobs []blob) {
	env := newBlob(MediaTypeDSSE, envelope)
	// The config is "{}" typed ArtifactTypeSignature rather than the OCI
	// empty descriptor: registries that derive a referrer's artifactType
	// from its config (as before OCI 1.1) then report the right type too.
	cfg := newBlob(ArtifactTypeSignature, []byte("{}"))
	subject = ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: ArtifactTypeSignature,
		Config:       cfg.desc,
		Layers:       []ocispec.Descriptor{env.desc},
		Subject:      &subject,
	}
	data, _ := json.Marshal(m)
	man = newBlob(ocispec.MediaTypeImageManifest, data)
	man.desc.ArtifactType = ArtifactTypeSignature
	return man, []blob{cfg, env}
}

// moduleLayers are the layers of a parsed module manifest.
type moduleLayers struct {
	wasm     ocispec.Descriptor
	manifest *ocispec.Descriptor
}

// parseModuleManifest checks that data (already digest-verified) is a Wasm
// module artifact and returns its layers. maxWasm bounds the module layer;
// ref names the artifact in errors.
func parseModuleManifest(data []byte, maxWasm int64, ref string) (moduleLayers, error) {
	var m ocispec.Manifest
	if err := decodeJSON(data, &m); err != nil {
		return moduleLayers{}, fmt.Errorf("%w: %s: its manifest is not valid JSON: %w", ErrNotModule, ref, err)
	}
	if m.SchemaVersion != 2 {
		return moduleLayers{}, fmt.Errorf("%w: %s: its manifest has schemaVersion %d, want 2", ErrNotModule, ref, m.SchemaVersion)
	}
	if m.MediaType != ocispec.MediaTypeImageManifest {
		return moduleLayers{}, fmt.Errorf("%w: %s: its manifest has mediaType %q, want %q (an image index or a Docker image is not a module)", ErrNotModule, ref, clip(m.MediaType), ocispec.MediaTypeImageManifest)
	}
	if m.Config.MediaType != MediaTypeWasmConfig {
		return moduleLayers{}, fmt.Errorf("%w: %s: its config has mediaType %q, want %q (push modules with wasinfer udf push)", ErrNotModule, ref, clip(m.Config.MediaType), MediaTypeWasmConfig)
	}
	var l moduleLayers
	found := false
	for i, d := range m.Layers {
		if err := checkDescriptor(d); err != nil {
			return moduleLayers{}, fmt.Errorf("%w: %s: layer %d: %w", ErrNotModule, ref, i, err)
		}
		switch d.MediaType {
		case MediaTypeWasm:
			if found {
				return moduleLayers{}, fmt.Errorf("%w: %s: it has more than one %s layer (a module artifact holds one module)", ErrNotModule, ref, MediaTypeWasm)
			}
			if d.Size > maxWasm {
				return moduleLayers{}, fmt.Errorf("%w: %s: the module layer is %d bytes, above the limit of %d (raise it with the max module size option)", ErrTooLarge, ref, d.Size, maxWasm)
			}
			l.wasm, found = d, true
		case MediaTypeManifest:
			if l.manifest != nil {
				return moduleLayers{}, fmt.Errorf("%w: %s: it has more than one %s layer", ErrNotModule, ref, MediaTypeManifest)
			}
			if d.Size > maxSidecarBytes {
				return moduleLayers{}, fmt.Errorf("%w: %s: the manifest layer is %d bytes, above the limit of %d", ErrTooLarge, ref, d.Size, maxSidecarBytes)
			}
			l.manifest = &m.Layers[i]
		}
	}
	if !found {
		return moduleLayers{}, fmt.Errorf("%w: %s: it has no %s layer", ErrNotModule, ref, MediaTypeWasm)
	}
	return l, nil
}

// parseSignatureManifest returns the envelope layer of a signature referrer.
func parseSignatureManifest(data []byte) (ocispec.Descriptor, error) {
	var m ocispec.Manifest
	if err := decodeJSON(data, &m); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("signature manifest is not valid JSON: %w", err)
	}
	if m.ArtifactType != ArtifactTypeSignature || len(m.Layers) != 1 || m.Layers[0].MediaType != MediaTypeDSSE {
		return ocispec.Descriptor{}, fmt.Errorf("signature manifest has artifactType %q and %d layers, want %q and one %s layer", clip(m.ArtifactType), len(m.Layers), ArtifactTypeSignature, MediaTypeDSSE)
	}
	d := m.Layers[0]
	if err := checkDescriptor(d); err != nil {
		return ocispec.Descriptor{}, err
	}
	if d.Size > maxSignatureBytes {
		return ocispec.Descriptor{}, fmt.Errorf("%w: the signature layer is %d bytes, above the limit of %d", ErrTooLarge, d.Size, maxSignatureBytes)
	}
	return d, nil
}

// checkDescriptor refuses a descriptor whose digest is not sha256 (the cache
// and the signatures speak sha256 only) or whose size is negative.
func checkDescriptor(d ocispec.Descriptor) error {
	if err := checkDigest(d.Digest.String()); err != nil {
		return fmt.Errorf("digest %q: %w", clip(d.Digest.String()), err)
	}
	if d.Size < 0 {
		return fmt.Errorf("size %d is negative", d.Size)
	}
	return nil
}

func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON value")
	}
	return nil
}
