package oci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// source is what Resolve reads: a remote repository or a layout.
type source interface {
	content.ReadOnlyGraphStorage
	content.Resolver
}

// target is what Push writes: a remote repository or a layout.
type target interface {
	source
	content.Pusher
	content.Tagger
}

// userAgent is sent to registries.
const userAgent = "wasinfer"

func (c *config) repository(r Reference) (*remote.Repository, error) {
	repo, err := remote.NewRepository(r.Registry + "/" + r.Repository)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrReference, r, err)
	}
	repo.PlainHTTP = c.plainHTTP
	repo.MaxMetadataBytes = maxManifestBytes
	repo.ReferrerListMaxPages = 16
	repo.TagListMaxPages = 16
	var store credentials.Store
	if c.dockerConfig != "" {
		store, err = credentials.NewStore(c.dockerConfig, credentials.StoreOptions{})
	} else {
		store, err = credentials.NewStoreFromDocker(credentials.StoreOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("oci: reading registry credentials (Docker config): %w", err)
	}
	client := &auth.Client{
		Client:     retry.DefaultClient,
		Cache:      auth.NewCache(),
		Credential: credentials.Credential(store),
		Header:     http.Header{"User-Agent": {userAgent}},
	}
	repo.Client = client
	return repo, nil
}

// openSource opens r for reading; a layout must exist.
func (c *config) openSource(ctx context.Context, r Reference) (source, error) {
	if !r.IsLayout() {
		return c.repository(r)
	}
	fi, err := os.Stat(r.Layout)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: OCI layout directory %s does not exist", ErrNotFound, r.Layout)
		}
		return nil, fmt.Errorf("oci: opening OCI layout: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a directory (an OCI layout is a directory with oci-layout and index.json)", ErrNotFound, r.Layout)
	}
	s, err := oci.NewFromFS(ctx, os.DirFS(r.Layout))
	if err != nil {
		return nil, fmt.Errorf("oci: opening OCI layout %s: %w", r.Layout, err)
	}
	return s, nil
}

// openTarget opens r for writing; a layout is created when missing.
func (c *config) openTarget(ctx context.Context, r Reference) (target, error) {
	if !r.IsLayout() {
		return c.repository(r)
	}
	s, err := oci.NewWithContext(ctx, r.Layout)
	if err != nil {
		return nil, fmt.Errorf("oci: opening OCI layout %s: %w", r.Layout, err)
	}
	return s, nil
}

// where names the place r points at in messages.
func where(r Reference) string {
	if r.IsLayout() {
		return "OCI layout " + r.Layout
	}
	return r.Registry + "/" + r.Repository
}

// explain wraps an error of a registry or layout with what was being done
// and, where it can tell, what to do about it.
func (c *config) explain(r Reference, doing string, err error) error {
	if err == nil {
		return nil
	}
	var resp *errcode.ErrorResponse
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("oci: %s: %w", doing, err)
	case errors.Is(err, errdef.ErrNotFound):
		return fmt.Errorf("%w: %s", ErrNotFound, doing)
	case errors.Is(err, auth.ErrBasicCredentialNotFound):
		return fmt.Errorf("%w: %s: %s asks for credentials and the Docker config has none for it: log in with `docker login %s`",
			ErrRegistry, doing, r.Registry, r.Registry)
	case errors.As(err, &resp) && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden):
		return fmt.Errorf("%w: %s: %s refused access (HTTP %d): log in with `docker login %s` (credentials come from the Docker config)",
			ErrRegistry, doing, r.Registry, resp.StatusCode, r.Registry)
	case errors.As(err, &resp) && resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %s", ErrNotFound, doing)
	case errors.As(err, &resp):
		return fmt.Errorf("%w: %s: %s answered HTTP %d: %s", ErrRegistry, doing, r.Registry, resp.StatusCode, resp.Errors.Error())
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Errorf("%w: %s: %s speaks plain HTTP, not HTTPS: pass --plain-http (the WithPlainHTTP option) if you trust the network to it",
			ErrRegistry, doing, r.Registry)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: %s: nothing listens at %s (is the registry running, and is the address right?)", ErrRegistry, doing, r.Registry)
	}
	var nerr net.Error
	if errors.As(err, &nerr) {
		return fmt.Errorf("%w: %s: reaching %s: %w", ErrRegistry, doing, r.Registry, err)
	}
	return fmt.Errorf("oci: %s: %w", doing, err)
}

// fetchVerified fetches desc's content, at most limit bytes, and checks its
// size and digest before anyone sees it.
func (c *config) fetchVerified(ctx context.Context, src source, r Reference, desc ocispec.Descriptor, what string, limit int64) ([]byte, error) {
	if desc.Size > limit {
		return nil, fmt.Errorf("%w: %s %s of %s is %d bytes, above the limit of %d", ErrTooLarge, what, short(desc.Digest.String()), r, desc.Size, limit)
	}
	rc, err := src.Fetch(ctx, desc)
	if err != nil {
		return nil, c.explain(r, "fetching "+what+" "+short(desc.Digest.String()), err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, desc.Size+1))
	if err != nil {
		return nil, c.explain(r, "fetching "+what+" "+short(desc.Digest.String()), err)
	}
	if int64(len(data)) != desc.Size {
		return nil, fmt.Errorf("%w: %s %s from %s: got %s bytes, the descriptor says %d (truncated or altered in the registry or on the way; nothing was cached)",
			ErrDigestMismatch, what, short(desc.Digest.String()), where(r), sizeWord(len(data), desc.Size), desc.Size)
	}
	if got := digest.FromBytes(data); got != desc.Digest {
		return nil, fmt.Errorf("%w: %s %s from %s: the bytes received have digest %s (corrupted or tampered with in the registry or on the way; nothing was cached)",
			ErrDigestMismatch, what, short(desc.Digest.String()), where(r), short(got.String()))
	}
	return data, nil
}

func sizeWord(n int, size int64) string {
	if int64(n) > size {
		return "more than " + fmt.Sprint(size)
	}
	return fmt.Sprint(n)
}

// pushBlob pushes b unless the target has it.
func (c *config) pushBlob(ctx context.Context, t target, r Reference, b blob, what string) error {
	ok, err := t.Exists(ctx, b.desc)
	if err != nil {
		return c.explain(r, "checking for "+what, err)
	}
	if ok {
		return nil
	}
	if err := t.Push(ctx, b.desc, bytes.NewReader(b.data)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return c.explain(r, "pushing "+what, err)
	}
	return nil
}

// pushManifest pushes a manifest, tagged when tag is not empty.
func (c *config) pushManifest(ctx context.Context, t target, r Reference, m blob, tag, what string) error {
	if tag != "" {
		if rp, ok := t.(registry.ReferencePusher); ok {
			return c.explain(r, "pushing "+what, rp.PushReference(ctx, m.desc, bytes.NewReader(m.data), tag))
		}
	}
	if err := t.Push(ctx, m.desc, bytes.NewReader(m.data)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return c.explain(r, "pushing "+what, err)
	}
	if tag != "" {
		return c.explain(r, "tagging "+what+" as "+tag, t.Tag(ctx, m.desc, tag))
	}
	return nil
}
