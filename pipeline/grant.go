package pipeline

import (
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/wasinfer/wasinfer/host"
	"github.com/wasinfer/wasinfer/manifest"
)

// checkGrant checks a UDF stage's grant: env names that are set, existing
// directories, absolute mount points used once.
func (s *Spec) checkGrant(ps *problems, i int) {
	g := s.Stages[i].Grant
	p := stagePath(i) + ".grant"
	for j, name := range g.Env {
		ep := fmt.Sprintf("%s.env[%d]", p, j)
		switch {
		case name == "" || strings.ContainsAny(name, "=\x00"):
			s.problem(ps, ep, "want an environment variable name (not empty, no '='), got %q", name)
		default:
			if _, ok := os.LookupEnv(name); !ok {
				s.problem(ps, ep, "environment variable %s is not set in the environment of the run (set it, or remove it from grant.env)", name)
			}
		}
	}
	mounts := map[string]int{}
	for j, f := range g.Files {
		fp := fmt.Sprintf("%s.files[%d]", p, j)
		if f.Path == "" {
			s.problem(ps, fp+".path", "want the host directory to mount")
		} else if full, err := s.ResolvePath(f.Path); err != nil {
			s.problem(ps, fp+".path", "%v", err)
		} else if st, err := os.Stat(full); err != nil {
			if os.IsNotExist(err) {
				s.problem(ps, fp+".path", "%s does not exist", full)
			} else {
				s.problem(ps, fp+".path", "cannot read %s: %v", full, err)
			}
		} else if !st.IsDir() {
			s.problem(ps, fp+".path", "%s is not a directory (grant.files mounts directories)", full)
		}
		switch {
		case f.Mount == "":
			s.problem(ps, fp+".mount", "want where the module sees the directory, an absolute path such as /lookup")
		case !path.IsAbs(f.Mount):
			s.problem(ps, fp+".mount", "want an absolute path such as /%s, got %q", f.Mount, f.Mount)
		default:
			m := path.Clean(f.Mount)
			if k, dup := mounts[m]; dup {
				s.problem(ps, fp+".mount", "%s is already the mount of %s.files[%d]: each directory needs its own mount point", m, p, k)
			}
			mounts[m] = j
		}
	}
}

// grantOptions are the host options of a stage's grant.
func (s *Spec) grantOptions(g *Grant) ([]host.Option, error) {
	if g == nil {
		return nil, nil
	}
	var opts []host.Option
	if g.Clock {
		opts = append(opts, host.WithClock())
	}
	if len(g.Env) > 0 {
		env := make(map[string]string, len(g.Env))
		for _, name := range g.Env {
			env[name] = os.Getenv(name)
		}
		opts = append(opts, host.WithEnv(env))
	}
	for _, f := range g.Files {
		full, err := s.ResolvePath(f.Path)
		if err != nil {
			return nil, err
		}
		opts = append(opts, host.WithReadOnlyDir(full, f.Mount))
	}
	return opts, nil
}

// checkCapabilities checks that the stage grants every capability its
// module's manifest declares.
func checkCapabilities(man *manifest.Manifest, g *Grant) error {
	var missing []string
	for _, c := range man.Capabilities {
		switch c {
		case manifest.CapClock:
			if g == nil || !g.Clock {
				missing = append(missing, "clock (grant it with grant: {clock: true})")
			}
		case manifest.CapEnv:
			if g == nil || len(g.Env) == 0 {
				missing = append(missing, "env (grant it with grant: {env: [NAME, ...]})")
			}
		case manifest.CapFiles:
			if g == nil || len(g.Files) == 0 {
				missing = append(missing, "files (grant it with grant: {files: [{path: DIR, mount: /dir}]})")
			}
		case manifest.CapNetwork:
			missing = append(missing, "network (which no pipeline can grant: WASI preview 1 has no sockets)")
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("module %s declares capabilities the stage does not grant: %s", man.Name, strings.Join(missing, "; "))
}
