package host

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"
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
	for i, m := range c.mounts {
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
		root, err := filepath.Abs(m.host)
		if err == nil {
			root, err = filepath.EvalSymlinks(root)
		}
		if err != nil {
			return fmt.Errorf("read-only dir: %w", err)
		}
		c.mounts[i].root = root
	}
	return nil
}

// confinedFS is a read-only directory whose paths must resolve inside it:
// wazero's DirFS opens paths with the host's open(2), which follows a
// symbolic link also out of the directory.
type confinedFS struct {
	experimentalsys.FS
	root string // absolute, links resolved
}

func newConfinedFS(root string) experimentalsys.FS {
	return confinedFS{FS: &sysfs.ReadFS{FS: sysfs.DirFS(root)}, root: root}
}

// escapes reports whether p, relative to the root, resolves outside it. A
// path that does not resolve (missing, a dangling link) is left to the
// file system, which reports it.
func (f confinedFS) escapes(p string) bool {
	resolved, err := filepath.EvalSymlinks(filepath.Join(f.root, p))
	if err != nil {
		return false
	}
	return resolved != f.root && !strings.HasPrefix(resolved, f.root+string(filepath.Separator))
}

func (f confinedFS) OpenFile(p string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	if f.escapes(p) {
		return nil, experimentalsys.EACCES
	}
	return f.FS.OpenFile(p, flag, perm)
}

func (f confinedFS) Stat(p string) (sys.Stat_t, experimentalsys.Errno) {
	if f.escapes(p) {
		return sys.Stat_t{}, experimentalsys.EACCES
	}
	return f.FS.Stat(p)
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
			fsc = fsc.(sysfs.FSConfig).WithSysFSMount(newConfinedFS(m.root), path.Clean(m.guest))
		}
		mc = mc.WithFSConfig(fsc)
	}
	return mc
}
