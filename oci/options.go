package oci

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/wasinfer/wasinfer/abi"
)

// Option configures Push, AttachSignature and Resolve.
type Option func(*config)

type config struct {
	plainHTTP    bool
	cacheDir     string
	dockerConfig string
	maxWasm      int64
	refresh      bool
	logger       *slog.Logger
}

func defaults() config {
	return config{
		maxWasm: abi.DefaultMaxModuleBytes,
		logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func options(opts []Option) config {
	c := defaults()
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithPlainHTTP talks to the registry over plain HTTP instead of HTTPS.
// Default false. Use it only for a registry on loopback or a network you
// trust: nothing is then encrypted or authenticated (pulled bytes are still
// checked against their digests).
func WithPlainHTTP(plain bool) Option { return func(c *config) { c.plainHTTP = plain } }

// WithCacheDir sets the module cache directory. Default
// ${XDG_CACHE_HOME:-$HOME/.cache}/wasinfer/modules (DefaultCacheDir).
func WithCacheDir(dir string) Option { return func(c *config) { c.cacheDir = dir } }

// WithDockerConfig reads registry credentials from this Docker config file
// (config.json: "auths" entries and credential helpers). Default
// $DOCKER_CONFIG/config.json, else ~/.docker/config.json; a missing file
// means no credentials.
func WithDockerConfig(path string) Option { return func(c *config) { c.dockerConfig = path } }

// WithMaxModuleBytes refuses a module layer larger than n bytes before
// fetching it. Default 64 MiB (abi.DefaultMaxModuleBytes), the host's limit.
func WithMaxModuleBytes(n int64) Option { return func(c *config) { c.maxWasm = n } }

// WithRefresh makes Resolve ask the source for the manifest and signatures
// even when the reference is pinned and cached (blobs still come from the
// cache when their digests match). Default false: a pinned, cached module
// resolves without the network.
func WithRefresh(refresh bool) Option { return func(c *config) { c.refresh = refresh } }

// WithLogger receives warnings (a corrupt cache entry removed, a signature
// referrer skipped). Default: discarded.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// DefaultCacheDir returns ${XDG_CACHE_HOME:-$HOME/.cache}/wasinfer/modules.
func DefaultCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("oci: no cache directory (set XDG_CACHE_HOME or HOME): %w", err)
	}
	return filepath.Join(base, "wasinfer", "modules"), nil
}

func (c *config) cache() (*cache, error) {
	dir := c.cacheDir
	if dir == "" {
		var err error
		if dir, err = DefaultCacheDir(); err != nil {
			return nil, err
		}
	}
	if dir == "" {
		return nil, errors.New("oci: empty cache directory")
	}
	return &cache{dir: dir, logger: c.logger}, nil
}
