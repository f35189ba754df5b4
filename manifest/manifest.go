package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// ABIVersion is the only value of the abi field this package accepts.
const ABIVersion = "v1"

// Manifest describes one UDF module. Parse fills it from JSON; Validate
// checks every field. The zero value is not valid.
type Manifest struct {
	// Name identifies the module: a lowercase letter, then up to 63
	// lowercase letters, digits, "_" or "-".
	Name string `json:"name"`
	// Version is a semantic version (semver.org 2.0), without a "v":
	// "1.2.0", "0.3.1-rc.1".
	Version string `json:"version"`
	// Description says what the module does, in one line.
	Description string `json:"description"`
	// License is an SPDX license expression: "Apache-2.0", "MIT OR Apache-2.0".
	License string `json:"license"`
	// ABI is the wasinfer ABI the module targets: "v1".
	ABI string `json:"abi"`
	// Language is the source language: one of Languages.
	Language string `json:"language"`
	// Source names the module's source, informally: a path in its
	// repository or a URL. Optional.
	Source string `json:"source,omitempty"`
	// Inputs are the columns the module requires. Other columns may be
	// present; what the module does with them is its description's business.
	Inputs []Column `json:"inputs"`
	// Outputs are the columns the module produces (or passes through and
	// guarantees). An output may contain other columns too.
	Outputs []Column `json:"outputs"`
	// Config describes the module's configuration; nil when it takes none.
	Config *Config `json:"config,omitempty"`
	// Capabilities the module needs beyond the default sandbox: a subset of
	// files, env, clock, network, sorted, no repeats. Default none.
	Capabilities []Capability `json:"capabilities"`
	// Resources are hints of what one instance needs.
	Resources Resources `json:"resources"`
	// Vectors are test inputs with their expected outputs.
	Vectors []Vector `json:"vectors,omitempty"`
	// Rejects lists the classes of valid-schema input that the module
	// refuses on purpose, with an error status and a message.
	Rejects []Reject `json:"rejects,omitempty"`
	// CodeSHA256 is the lowercase hex SHA-256 of the module without its
	// manifest sections (CodeDigest). Optional; Pack sets it.
	CodeSHA256 string `json:"code_sha256,omitempty"`
}

// Column is a required input or a produced output column.
type Column struct {
	// Name is the column's default name. In outputs, "*" stands for every
	// column the module adds beyond the named ones (columns whose number
	// and names come from the configuration): each must be of Type.
	Name string `json:"name"`
	// ConfigKey names the configuration member that renames the column,
	// when one does (a string property of config.schema). Optional.
	ConfigKey string `json:"config_key,omitempty"`
	// Type is the column's Arrow type in the grammar of ParseType, or
	// alternatives separated by "|" (ParseTypes).
	Type string `json:"type"`
	// Nullable: for an input, the module accepts null rows in the column
	// (the vetting sweep sends them); for an output, the column may hold
	// nulls.
	Nullable bool `json:"nullable"`
	// Optional, for an output: the column is present only under some
	// configurations (its description says which).
	Optional bool `json:"optional,omitempty"`
	// Description says what the column holds. Optional.
	Description string `json:"description,omitempty"`
}

// Types parses the column's type alternatives.
func (c Column) Types() ([]*Type, error) { return ParseTypes(c.Type) }

// NameUnder is the column's name under a configuration (JSON text, may be
// empty): the string at ConfigKey when the configuration has one, else
// Name.
func (c Column) NameUnder(config []byte) string {
	if c.ConfigKey == "" || len(bytes.TrimSpace(config)) == 0 {
		return c.Name
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(config, &obj) != nil {
		return c.Name
	}
	var s string
	if raw, ok := obj[c.ConfigKey]; ok && json.Unmarshal(raw, &s) == nil && s != "" {
		return s
	}
	return c.Name
}

// Config describes a module's configuration.
type Config struct {
	// Schema is a JSON Schema subset (see Schema) the configuration object
	// must satisfy.
	Schema *Schema `json:"schema"`
	// Example is a configuration that satisfies Schema; the vetting sweep
	// runs with it. Optional.
	Example json.RawMessage `json:"example,omitempty"`
}

// Capability is something a module may need beyond the default sandbox.
type Capability string

// The capabilities (see package vet for how imports map to them).
const (
	CapFiles   Capability = "files"
	CapEnv     Capability = "env"
	CapClock   Capability = "clock"
	CapNetwork Capability = "network"
)

// Capabilities lists every capability, sorted.
var Capabilities = []Capability{CapClock, CapEnv, CapFiles, CapNetwork}

// Languages are the values of the language field.
var Languages = []string{"assemblyscript", "c", "cpp", "go", "other", "rust", "wat", "zig"}

// Resources are hints of what one instance of the module needs; vetting
// checks them (package vet).
type Resources struct {
	// MemoryBytes bounds the peak linear memory of one instance over the
	// vetting run, in bytes. Required, > 0.
	MemoryBytes int64 `json:"memory_bytes"`
	// NsPerRow is the typical time per row of a batch, in nanoseconds,
	// host copies included. Required, > 0.
	NsPerRow int64 `json:"ns_per_row"`
}

// Vector is a test vector: an input batch, the configuration, and the
// expected output or error.
type Vector struct {
	// Name identifies the vector in reports. Optional; default "vector N".
	Name string `json:"name,omitempty"`
	// Input is an Arrow IPC file: a path relative to the manifest's
	// directory (no "..", not absolute) or a data URI (DataURIPrefix).
	Input string `json:"input"`
	// Output is the expected output, as Input. Empty when Error is set.
	Output string `json:"output,omitempty"`
	// Config is the configuration to load the module with. Optional.
	Config json.RawMessage `json:"config,omitempty"`
	// Tolerance allows float differences. Optional: nil means bit-exact.
	Tolerance *Tolerance `json:"tolerance,omitempty"`
	// Error, when set, says that the module must refuse the input with an
	// error status whose message contains this text.
	Error string `json:"error,omitempty"`
}

// Tolerance bounds the difference of two floats a and b (expected):
// |a - b| <= Abs + Rel*|b|. NaN matches NaN; infinities match only
// themselves.
type Tolerance struct {
	Abs float64 `json:"abs,omitempty"`
	Rel float64 `json:"rel,omitempty"`
}

// Reject declares a class of input that the module refuses with an error
// status. The vetting sweep accepts an error for a batch of that class
// only if its message contains Message.
type Reject struct {
	// Class is one of InputClasses.
	Class string `json:"class"`
	// Column restricts the rejection to batches in which this input column
	// carries the class's values. Optional.
	Column string `json:"column,omitempty"`
	// Message is text the error message contains. Required.
	Message string `json:"message"`
	// Description says why. Optional.
	Description string `json:"description,omitempty"`
}

// Input classes of the vetting sweep (package vet generates one or more
// batches of each from the declared inputs).
const (
	ClassEmpty   = "empty"   // 0 rows
	ClassOneRow  = "one_row" // 1 row of typical values
	ClassRandom  = "random"  // typical rows of random values, no nulls
	ClassNulls   = "nulls"   // random values with nulls in the nullable columns
	ClassExtreme = "extreme" // minimum, maximum, 0, NaN, ±Inf, -0, subnormals
	ClassLong    = "long"    // long strings and lists, large tensor dimensions
	ClassLarge   = "large"   // many rows
)

// InputClasses lists the sweep's classes in the order it runs them.
var InputClasses = []string{ClassEmpty, ClassOneRow, ClassRandom, ClassNulls, ClassExtreme, ClassLong, ClassLarge}

// DataURIPrefix starts an inline Arrow IPC file in a vector.
const DataURIPrefix = "data:application/vnd.apache.arrow.file;base64,"

var (
	nameRE   = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
	semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)
	spdxIDRE = regexp.MustCompile(`^(LicenseRef-)?[A-Za-z0-9][A-Za-z0-9.\-]*\+?$`)
	hexRE    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Validate checks every field of the manifest and returns a
// *ValidationError listing every problem found, each naming its field
// (inputs[0].type), or nil.
func (m *Manifest) Validate() error {
	v := &validator{}
	v.check(m.Name != "", "name", "missing (want a lowercase identifier such as %q)", "image_resize")
	if m.Name != "" && !nameRE.MatchString(m.Name) {
		v.add("name", "%q is not a lowercase letter followed by up to 63 lowercase letters, digits, '_' or '-'", m.Name)
	}
	switch {
	case m.Version == "":
		v.add("version", "missing (want a semantic version such as \"1.0.0\")")
	case !semverRE.MatchString(m.Version):
		v.add("version", "%q is not a semantic version (MAJOR.MINOR.PATCH, e.g. \"1.0.0\", no leading \"v\")", m.Version)
	}
	v.check(strings.TrimSpace(m.Description) != "", "description", "missing (say in one line what the module does)")
	if m.License == "" {
		v.add("license", "missing (want an SPDX license expression such as \"Apache-2.0\")")
	} else if err := checkSPDX(m.License); err != nil {
		v.add("license", "%q: %v", m.License, err)
	}
	switch m.ABI {
	case ABIVersion:
	case "":
		v.add("abi", "missing (want %q)", ABIVersion)
	default:
		v.add("abi", "%q: this wasinfer supports ABI %s only", m.ABI, ABIVersion)
	}
	if !slices.Contains(Languages, m.Language) {
		v.add("language", "%q: want one of %s", m.Language, strings.Join(Languages, ", "))
	}
	v.columns("inputs", m.Inputs)
	v.columns("outputs", m.Outputs)
	for _, cols := range []struct {
		field string
		cols  []Column
	}{{"inputs", m.Inputs}, {"outputs", m.Outputs}} {
		for i, c := range cols.cols {
			if c.ConfigKey == "" {
				continue
			}
			f := fmt.Sprintf("%s[%d].config_key", cols.field, i)
			switch {
			case m.Config == nil || m.Config.Schema == nil:
				v.add(f, "%q, but the manifest declares no config", c.ConfigKey)
			case m.Config.Schema.Properties[c.ConfigKey] == nil:
				v.add(f, "%q is not a property of config.schema", c.ConfigKey)
			case m.Config.Schema.Properties[c.ConfigKey].Type != "string":
				v.add(f, "%q is a %s in config.schema; a column name is a string", c.ConfigKey, m.Config.Schema.Properties[c.ConfigKey].Type)
			}
		}
	}
	v.check(len(m.Outputs) > 0, "outputs", "empty: declare at least one produced column")
	v.capabilities(m.Capabilities)
	v.check(m.Resources.MemoryBytes > 0, "resources.memory_bytes", "%d: want the peak memory of one instance in bytes, > 0", m.Resources.MemoryBytes)
	v.check(m.Resources.MemoryBytes <= 4<<30, "resources.memory_bytes", "%d: above the 4 GiB a wasm32 memory can have", m.Resources.MemoryBytes)
	v.check(m.Resources.NsPerRow > 0, "resources.ns_per_row", "%d: want the typical time per row in nanoseconds, > 0", m.Resources.NsPerRow)
	schemaOK := false
	if m.Config != nil {
		before := len(v.problems)
		if m.Config.Schema == nil {
			v.add("config.schema", "missing (describe the configuration object, or leave out config)")
		} else {
			m.Config.Schema.validate(v, "config.schema", 0)
			if m.Config.Schema.Type != "object" {
				v.add("config.schema.type", "%q: a configuration is a JSON object: want \"object\"", m.Config.Schema.Type)
			}
			schemaOK = len(v.problems) == before
			if len(m.Config.Example) > 0 && schemaOK {
				if err := m.Config.Schema.Check(m.Config.Example); err != nil {
					v.add("config.example", "%v", err)
				}
			}
		}
	}
	for i, vec := range m.Vectors {
		f := fmt.Sprintf("vectors[%d]", i)
		v.ref(f+".input", vec.Input, true)
		if vec.Error != "" {
			v.check(vec.Output == "", f+".output", "set together with error: a vector expects an output or an error, not both")
			v.check(vec.Tolerance == nil, f+".tolerance", "set together with error: there is no output to compare")
		} else {
			v.ref(f+".output", vec.Output, true)
		}
		if vec.Tolerance != nil {
			t := vec.Tolerance
			v.check(t.Abs >= 0 && t.Rel >= 0 && t.Abs+t.Rel > 0 && t.Abs+t.Rel < 1e300, f+".tolerance", "abs %g, rel %g: want non-negative numbers, not both 0 (leave out tolerance for bit-exact)", t.Abs, t.Rel)
		}
		if len(vec.Config) > 0 {
			if m.Config == nil {
				v.add(f+".config", "set, but the manifest declares no config")
			} else if schemaOK {
				if err := m.Config.Schema.Check(vec.Config); err != nil {
					v.add(f+".config", "%v", err)
				}
			}
		}
	}
	inputs := map[string]bool{}
	for _, c := range m.Inputs {
		inputs[c.Name] = true
	}
	for i, r := range m.Rejects {
		f := fmt.Sprintf("rejects[%d]", i)
		if !slices.Contains(InputClasses, r.Class) {
			v.add(f+".class", "%q: want one of %s", r.Class, strings.Join(InputClasses, ", "))
		}
		if r.Column != "" && !inputs[r.Column] {
			v.add(f+".column", "%q is not one of the inputs", r.Column)
		}
		v.check(strings.TrimSpace(r.Message) != "", f+".message", "missing: the text the module's error message contains")
	}
	if m.CodeSHA256 != "" && !hexRE.MatchString(m.CodeSHA256) {
		v.add("code_sha256", "%q is not 64 lowercase hex digits", abbreviate(m.CodeSHA256, 80))
	}
	return v.err()
}

// VerifyCode checks the module against CodeSHA256; it returns nil when
// CodeSHA256 is empty.
//
// # Errors
//
// ErrCodeDigest wrapped with both digests; the errors of CodeDigest.
func (m *Manifest) VerifyCode(wasm []byte) error {
	if m.CodeSHA256 == "" {
		return nil
	}
	got, err := CodeDigest(wasm)
	if err != nil {
		return err
	}
	if got != m.CodeSHA256 {
		return fmt.Errorf("%w: the module's code has sha256 %s, the manifest declares %s: the module was modified after its manifest was made; rebuild it or fetch it again", ErrCodeDigest, got, m.CodeSHA256)
	}
	return nil
}

// ValidationError lists the problems Validate found.
type ValidationError struct {
	Problems []FieldError
}

// FieldError is one problem of one field.
type FieldError struct {
	Field string // the field's path: "inputs[0].type"
	Msg   string
}

func (e FieldError) Error() string { return "manifest: " + e.Field + ": " + e.Msg }

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "\n")
}

type validator struct {
	problems []FieldError
}

func (v *validator) add(field, format string, args ...any) {
	v.problems = append(v.problems, FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) check(ok bool, field, format string, args ...any) {
	if !ok {
		v.add(field, format, args...)
	}
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

func (v *validator) columns(field string, cols []Column) {
	seen := map[string]bool{}
	for i, c := range cols {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case c.Name == "":
			v.add(f+".name", "missing")
		case c.Name == "*" && field == "inputs":
			v.add(f+".name", "\"*\" (any other column) is for outputs only")
		case c.Optional && field == "inputs":
			v.add(f+".optional", "inputs are required columns; leave out an input the module can do without")
		case seen[c.Name]:
			v.add(f+".name", "%q appears twice in %s", c.Name, field)
		}
		seen[c.Name] = true
		if c.Type == "" {
			v.add(f+".type", "missing (e.g. \"tensor<uint8>[H,W,3]\", \"list<float32>\", \"utf8\")")
		} else if _, err := ParseTypes(c.Type); err != nil {
			v.add(f+".type", "%v", err)
		}
	}
}

func (v *validator) capabilities(caps []Capability) {
	for i, c := range caps {
		f := fmt.Sprintf("capabilities[%d]", i)
		if !slices.Contains(Capabilities, c) {
			v.add(f, "%q: want one of clock, env, files, network", c)
			continue
		}
		if i > 0 && caps[i-1] >= c {
			v.add(f, "%q: capabilities must be sorted and listed once", c)
		}
	}
}

// ref checks a vector file reference.
func (v *validator) ref(field, ref string, required bool) {
	switch {
	case ref == "":
		if required {
			v.add(field, "missing (an Arrow IPC file path relative to the manifest, or a data URI)")
		}
	case strings.HasPrefix(ref, "data:"):
		if !strings.HasPrefix(ref, DataURIPrefix) {
			v.add(field, "data URI %q: want %q followed by base64", abbreviate(ref, 60), DataURIPrefix)
		}
	case path.IsAbs(ref) || strings.Contains(ref, "\\") || slices.Contains(strings.Split(ref, "/"), ".."):
		v.add(field, "%q: want a path inside the manifest's directory (relative, no \"..\", \"/\" separators)", ref)
	}
}

// checkSPDX checks the syntax of an SPDX license expression (SPDX spec
// annex D): license ids joined by AND, OR, WITH and parentheses. It does
// not check ids against the SPDX list.
func checkSPDX(expr string) error {
	toks := strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(expr))
	i := 0
	var parseOr func(depth int) error
	parseAtom := func(depth int) error {
		if i >= len(toks) {
			return fmt.Errorf("expression ends early")
		}
		t := toks[i]
		if t == "(" {
			i++
			if err := parseOr(depth + 1); err != nil {
				return err
			}
			if i >= len(toks) || toks[i] != ")" {
				return fmt.Errorf("missing \")\"")
			}
			i++
			return nil
		}
		if !spdxIDRE.MatchString(t) || t == "AND" || t == "OR" || t == "WITH" {
			return fmt.Errorf("%q is not a license identifier", t)
		}
		i++
		if i < len(toks) && toks[i] == "WITH" {
			i++
			if i >= len(toks) || !spdxIDRE.MatchString(toks[i]) {
				return fmt.Errorf("WITH needs an exception identifier")
			}
			i++
		}
		return nil
	}
	parseOr = func(depth int) error {
		if depth > 16 {
			return fmt.Errorf("nested too deeply")
		}
		for {
			if err := parseAtom(depth); err != nil {
				return err
			}
			if i < len(toks) && (toks[i] == "AND" || toks[i] == "OR") {
				i++
				continue
			}
			return nil
		}
	}
	if err := parseOr(0); err != nil {
		return err
	}
	if i < len(toks) {
		return fmt.Errorf("unexpected %q", toks[i])
	}
	return nil
}
