package host

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"
)

// checkGrants validates the capability grants (WithEnv, WithReadOnlyDir)
// at Load.
func (c *config) checkGrants() error {
	for k := range c.env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return fmt.Errorf("environment variable name %q: want a non-empty name without '=' or NUL", k)
		}
		if strings.ContainsRune(c.env[k], 0) {
			return fmt.Errorf("environment variable %s: the value contains NUL", k)
		}
	}
	seen := map[string]bool{}
	for _, m := range c.mounts {
		if !path.IsAbs(m.guest) {
			return fmt.Errorf("read-only dir %s: guest path %q is not absolute", m.host, m.guest)
		}
		g := path.Clean(m.guest)
		if seen[g] {
			return fmt.Errorf("read-only dir %s: guest path %s is mounted twice", m.host, g)
		}
		seen[g] = true
		fi, err := os.Stat(m.host)
		if err != nil {
			return fmt.Errorf("read-only dir: %w", err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("read-only dir %s: not a directory", m.host)
		}
	}
	return nil
}

// grant adds the granted capabilities to an instance's module config;
// without grants it returns mc as it is (the default sandbox).
func (c *config) grant(mc wazero.ModuleConfig) wazero.ModuleConfig {
	if c.clock {
		mc = mc.WithSysWalltime().WithSysNanotime() // not WithSysNanosleep: see WithClock
	}
	if len(c.env) > 0 {
		keys := make([]string, 0, len(c.env))
		for k := range c.env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			mc = mc.WithEnv(k, c.env[k])
		}
	}
	if len(c.mounts) > 0 {
		fsc := wazero.NewFSConfig()
		for _, m := range c.mounts {
			fsc = fsc.WithReadOnlyDirMount(m.host, path.Clean(m.guest))
		}
		mc = mc.WithFSConfig(fsc)
	}
	return mc
}
