package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// MaxSpecBytes is the largest pipeline file Load reads.
const MaxSpecBytes = 4 << 20

// Load reads, decodes and checks the pipeline file at path, then applies
// the overrides (each "target.key=value", see Override) and checks again.
// Relative paths in the spec are resolved against the file's directory;
// $VAR, ${VAR} and a leading ~/ expand in every path.
//
// # Errors
//
// All problems found (syntax, unknown keys, wrong types, bad values,
// missing files, inconsistent settings) are returned at once as an *Error,
// each with its file, line and column.
func Load(path string, overrides ...string) (*Spec, error) {
	data, err := readSpec(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, overrides...)
}

func readSpec(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("pipeline file %s does not exist", path)
		}
		return nil, fmt.Errorf("opening pipeline file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading pipeline file: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a pipeline file (want a .yaml file)", path)
	}
	if st.Size() > MaxSpecBytes {
		return nil, fmt.Errorf("pipeline file %s is %d bytes; the limit is %d (a pipeline is a short YAML file: keep data out of it)", path, st.Size(), MaxSpecBytes)
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil && st.Size() > 0 {
		return nil, fmt.Errorf("reading pipeline file: %w", err)
	}
	return data, nil
}

// Parse is Load for a spec already in memory; file names it in errors and
// its directory anchors relative paths.
func Parse(file string, data []byte, overrides ...string) (*Spec, error) {
	ps := &problems{file: file}
	s := &Spec{file: file, dir: filepath.Dir(file)}
	d := newDecoder(ps)
	d.readFile = s.readConfigFile
	s.pos = d
	n := parseYAML(ps, data)
	if n == nil {
		return nil, ps.err()
	}
	d.decode(n, reflect.ValueOf(s).Elem(), "")
	if d.failed[""] {
		return nil, ps.err() // nothing decoded: no point in checking
	}
	s.defaultNames()
	for _, o := range overrides {
		s.override(ps, o)
	}
	s.check(ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// File is the spec's file name as given to Load.
func (s *Spec) File() string { return s.file }

// Dir is the directory relative paths are resolved against.
func (s *Spec) Dir() string { return s.dir }

// defaultNames names unnamed stages after their module or model file.
func (s *Spec) defaultNames() {
	for i := range s.Stages {
		st := &s.Stages[i]
		if st.Name != "" {
			continue
		}
		ref := st.UDF
		if ref == "" {
			ref = st.Model
		}
		base := ref
		if j := strings.LastIndexAny(base, "/\\"); j >= 0 {
			base = base[j+1:]
		}
		if j := strings.IndexAny(base, "@:"); j > 0 && strings.HasPrefix(ref, "oci://") {
			base = base[:j]
		}
		st.Name = sanitizeName(strings.TrimSuffix(strings.TrimSuffix(base, ".wasm"), ".onnx"))
		if st.Name == "" {
			st.Name = fmt.Sprintf("stage%d", i+1)
		}
	}
}

// sanitizeName makes a file name into a valid stage name.
func sanitizeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9') {
		b = append([]byte{'_'}, b...)
	}
	return string(b)
}

// where returns the place a setting was written, or the closest enclosing
// setting that was, for problems about values the file does not contain.
func (s *Spec) where(path string) (int, int) {
	if s.pos == nil {
		return 0, 0
	}
	for p := path; ; {
		if pl, ok := s.pos.keys[p]; ok {
			return pl.line, pl.col
		}
		if pl, ok := s.pos.values[p]; ok {
			return pl.line, pl.col
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return 0, 0
		}
		p = p[:i]
	}
}

// valueAt is where a setting's value was written (falling back as where).
func (s *Spec) valueAt(path string) (int, int) {
	if s.pos != nil {
		if pl, ok := s.pos.values[path]; ok {
			return pl.line, pl.col
		}
	}
	return s.where(path)
}

// problem reports a problem with the setting at path, unless that setting
// (or one that holds it) already failed to decode: one mistake, one problem.
func (s *Spec) problem(ps *problems, path, format string, args ...any) {
	for p := path; s.pos != nil; {
		if s.pos.failed[p] {
			return
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	line, col := s.valueAt(path)
	ps.add(line, col, path, format, args...)
}

// MaxConfigFileBytes bounds a file a config value reads (!file, !lines).
const MaxConfigFileBytes = 16 << 20

func (s *Spec) readConfigFile(name string) ([]byte, error) {
	full, err := s.ResolvePath(name)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(full)
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxConfigFileBytes {
		return nil, fmt.Errorf("%s is %d bytes; a config file may hold at most %d", full, st.Size(), MaxConfigFileBytes)
	}
	return os.ReadFile(full)
}

// ResolvePath expands $VAR, ${VAR}, ${VAR:-default} (default when VAR is
// unset or empty) and a leading ~/ in p, and makes it relative to the
// spec's directory unless it is absolute. It fails on an unset variable
// without a default.
func (s *Spec) ResolvePath(p string) (string, error) {
	var missing []string
	out := os.Expand(p, func(name string) string {
		name, def, hasDef := strings.Cut(name, ":-")
		v, ok := os.LookupEnv(name)
		if hasDef && v == "" {
			return def
		}
		if !ok {
			missing = append(missing, "$"+name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%s is not set in the environment (set it, or write the path out)", strings.Join(missing, ", "))
	}
	if out == "~" || strings.HasPrefix(out, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("expanding ~: %w", err)
		}
		out = filepath.Join(home, out[1:])
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(s.dir, out)
	}
	return out, nil
}
