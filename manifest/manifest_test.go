package manifest

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func readFixture(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/softmax.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseFixture(t *testing.T) {
	m, err := Parse(readFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "softmax" || m.Version != "1.0.0" || m.Language != "rust" || len(m.Inputs) != 1 ||
		m.Inputs[0].Type != "list<float32>" || !m.Inputs[0].Nullable || m.Resources.NsPerRow != 2000 ||
		len(m.Vectors) != 2 || m.Vectors[0].Tolerance.Abs != 1e-6 || m.Vectors[1].Error != "not finite" ||
		m.Config.Schema.Properties["temperature"].Minimum == nil || len(m.Capabilities) != 0 {
		t.Fatalf("parsed %+v", m)
	}
}

// edit replaces old (which must occur once) in the fixture.
func edit(t *testing.T, old, repl string) []byte {
	t.Helper()
	data := string(readFixture(t))
	if strings.Count(data, old) != 1 {
		t.Fatalf("fixture has %d of %q", strings.Count(data, old), old)
	}
	return []byte(strings.Replace(data, old, repl, 1))
}

func TestParseSyntaxErrors(t *testing.T) {
	cases := []struct {
		name, old, repl, want string
	}{
		{"unknown field", `"nullable": true}
  ],
  "outputs"`, `"nullable": true, "shape": [1]}
  ],
  "outputs"`, `manifest: line 9, column 67: inputs[0]: unknown field "shape" (known: name, config_key, type, nullable, optional, description)`},
		{"wrong kind", `"ns_per_row": 2000`, `"ns_per_row": "fast"`, `manifest: line 27, column 56: resources.ns_per_row: a string, want a number`},
		{"not integer", `"ns_per_row": 2000`, `"ns_per_row": 2.5`, `manifest: line 27, column 56: resources.ns_per_row: 2.5 is not an integer that fits in 64 bits`},
		{"duplicate", `"version": "1.0.0",`, `"version": "1.0.0", "version": "1.0.1",`, `manifest: line 3, column 23: duplicate field "version"`},
		{"missing comma", `"abi": "v1",`, `"abi": "v1"`, `manifest: line 7, column 3: invalid character '"' after object key:value pair`},
		{"truncated", `"rejects": [`, `"rejects": `, `manifest: line 33, column 5: rejects: an object, want an array`},
		{"duplicate in config example", `"example": {"temperature": 2}`, `"example": {"temperature": 2, "temperature": 3}`, `manifest: line 24, column 35: config.example: duplicate field "temperature"`},
		{"schema keyword", `"minLength": 1},
        "output"`, `"pattern": "x"},
        "output"`, `manifest: line 19, column 59: config.schema.properties.column: unknown field "pattern" (known: type, description, default, enum, minimum, maximum, minLength, maxLength, items, minItems, maxItems, properties, required, additionalProperties)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse(edit(t, c.old, c.repl))
			if m != nil || err == nil {
				t.Fatalf("parsed: %+v", m)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v, want *SyntaxError", err, err)
			}
			if err.Error() != c.want {
				t.Fatalf("error:\n%s\nwant:\n%s", err, c.want)
			}
		})
	}
}

func TestParseSyntaxErrorsRaw(t *testing.T) {
	cases := []struct {
		data, want string
	}{
		{``, `manifest: line 1, column 1: unexpected end of the manifest`},
		{`[]`, `manifest: line 1, column 1: an array, want an object`},
		{"{\n  \"name\": \"x\"\n} {}", `manifest: line 3, column 3: unexpected data after the manifest object`},
		{"{\"name\": \"\xff\"}", `manifest: line 1, column 11: not valid UTF-8`},
		{`{"resources": {"memory_bytes": 1e400}}`, `manifest: line 1, column 32: resources.memory_bytes: 1e400 is not an integer that fits in 64 bits`},
		{`{"vectors": [{"tolerance": {"abs": 1e999}}]}`, `manifest: line 1, column 36: vectors[0].tolerance.abs: 1e999 is out of range`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.data))
		if err == nil || err.Error() != c.want {
			t.Errorf("Parse(%q):\n%v\nwant:\n%s", c.data, err, c.want)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	cases := []struct {
		name, old, repl, want string
	}{
		{"name", `"name": "softmax"`, `"name": "Soft Max"`, `manifest: name: "Soft Max" is not a lowercase letter followed by up to 63 lowercase letters, digits, '_' or '-'`},
		{"version", `"version": "1.0.0"`, `"version": "v1.0"`, `manifest: version: "v1.0" is not a semantic version (MAJOR.MINOR.PATCH, e.g. "1.0.0", no leading "v")`},
		{"license", `"Apache-2.0"`, `"Apache-2.0 OR"`, `manifest: license: "Apache-2.0 OR": expression ends early`},
		{"abi", `"abi": "v1"`, `"abi": "v2"`, `manifest: abi: "v2": this wasinfer supports ABI v1 only`},
		{"language", `"language": "rust"`, `"language": "cobol"`, `manifest: language: "cobol": want one of assemblyscript, c, cpp, go, other, rust, wat, zig`},
		{"type", `"type": "list<float32>", "nullable": true}
  ],
  "outputs"`, `"type": "list<float32", "nullable": true}
  ],
  "outputs"`, `manifest: inputs[0].type: type "list<float32": at byte 12: missing ">" at the end`},
		{"capability", `"capabilities": []`, `"capabilities": ["network", "clock"]`, `manifest: capabilities[1]: "clock": capabilities must be sorted and listed once`},
		{"capability name", `"capabilities": []`, `"capabilities": ["gpu"]`, `manifest: capabilities[0]: "gpu": want one of clock, env, files, network`},
		{"resources", `"memory_bytes": 2097152`, `"memory_bytes": 0`, `manifest: resources.memory_bytes: 0: want the peak memory of one instance in bytes, > 0`},
		{"example", `"example": {"temperature": 2}`, `"example": {"temperature": 0}`, `manifest: config.example: config "temperature": 0 is below the minimum 1e-06`},
		{"example unknown", `"example": {"temperature": 2}`, `"example": {"temp": 2}`, `manifest: config.example: config: unknown member "temp" (known: column, output, temperature)`},
		{"vector config", `"config": {"temperature": 0.5}`, `"config": {"temperature": "hot"}`, `manifest: vectors[1].config: config "temperature": "hot" is a string, want a number`},
		{"vector path", `"vectors/01-in.arrow"`, `"../01-in.arrow"`, `manifest: vectors[0].input: "../01-in.arrow": want a path inside the manifest's directory (relative, no "..", "/" separators)`},
		{"vector both", `"error": "not finite",`, `"error": "not finite", "output": "x.arrow",`, `manifest: vectors[1].output: set together with error: a vector expects an output or an error, not both`},
		{"reject class", `"class": "extreme"`, `"class": "weird"`, `manifest: rejects[0].class: "weird": want one of empty, one_row, random, nulls, extreme, long, large`},
		{"reject column", `"column": "logits", "message"`, `"column": "x", "message"`, `manifest: rejects[0].column: "x" is not one of the inputs`},
		{"default", `"default": 1, "minimum"`, `"default": 0, "minimum"`, `manifest: config.schema.properties.temperature.default: default: 0 is below the minimum 1e-06`},
		{"schema type", `"type": "object",
      "additionalProperties"`, `"type": "dict",
      "additionalProperties"`, `manifest: config.schema.type: "dict": want one of array, boolean, integer, number, object, string
manifest: config.schema.type: "dict": a configuration is a JSON object: want "object"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse(edit(t, c.old, c.repl))
			if m != nil || err == nil {
				t.Fatalf("parsed: %+v", m)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T %v, want *ValidationError", err, err)
			}
			if err.Error() != c.want {
				t.Fatalf("error:\n%s\nwant:\n%s", err, c.want)
			}
		})
	}
}

func TestValidateEmpty(t *testing.T) {
	err := (&Manifest{}).Validate()
	want := `manifest: name: missing (want a lowercase identifier such as "image_resize")
manifest: version: missing (want a semantic version such as "1.0.0")
manifest: description: missing (say in one line what the module does)
manifest: license: missing (want an SPDX license expression such as "Apache-2.0")
manifest: abi: missing (want "v1")
manifest: language: "": want one of assemblyscript, c, cpp, go, other, rust, wat, zig
manifest: outputs: empty: declare at least one produced column
manifest: resources.memory_bytes: 0: want the peak memory of one instance in bytes, > 0
manifest: resources.ns_per_row: 0: want the typical time per row in nanoseconds, > 0`
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestSPDX(t *testing.T) {
	for _, ok := range []string{"MIT", "Apache-2.0", "MIT OR Apache-2.0", "(MIT AND BSD-3-Clause) OR GPL-2.0-or-later", "GPL-2.0+ WITH Classpath-exception-2.0", "LicenseRef-custom"} {
		if err := checkSPDX(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "MIT OR", "(MIT", "MIT)", "MIT AND AND BSD", "mit license", "MIT WITH"} {
		if err := checkSPDX(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestSchemaCheck(t *testing.T) {
	m, err := Parse(readFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	s := m.Config.Schema
	for _, ok := range []string{`{}`, `{"column": "x"}`, `{"temperature": 3, "output": "p"}`, ` {"temperature": 1e-6} `} {
		if err := s.Check([]byte(ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	bad := map[string]string{
		`[]`:                  `config: [] is an array, want an object`,
		`{"column": ""}`:      `config "column": string of 0 characters, want at least 1`,
		`{"column": 3}`:       `config "column": 3 is a number, want a string`,
		`{"x": 1}`:            `config: unknown member "x" (known: column, output, temperature)`,
		`{"temperature": nul`: `config: not valid JSON`,
	}
	for in, want := range bad {
		if err := s.Check([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", in, err, want)
		}
	}
	ints := &Schema{Type: "array", Items: &Schema{Type: "integer", Enum: nil}, MaxItems: ptr(2)}
	if err := ints.Check([]byte(`[1, 2.5]`)); err == nil || err.Error() != `config[1]: 2.5 is not an integer` {
		t.Errorf("integer: %v", err)
	}
	if err := ints.Check([]byte(`[1, 2, 3]`)); err == nil || err.Error() != `config: 3 items, want at most 2` {
		t.Errorf("maxItems: %v", err)
	}
	enum := &Schema{Type: "string", Enum: []json.RawMessage{[]byte(`"CHW"`), []byte(`"HWC"`)}}
	if err := enum.Check([]byte(`"NCHW"`)); err == nil || err.Error() != `config: "NCHW" is not one of "CHW", "HWC"` {
		t.Errorf("enum: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestVerifyCode(t *testing.T) {
	mod := testModule()
	digest, err := CodeDigest(mod)
	if err != nil {
		t.Fatal(err)
	}
	m := &Manifest{CodeSHA256: digest}
	if err := m.VerifyCode(mod); err != nil {
		t.Fatal(err)
	}
	packed, err := Embed(mod, []byte(`{"name":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.VerifyCode(packed); err != nil {
		t.Fatalf("embedding changed the code digest: %v", err)
	}
	flipped := append([]byte(nil), packed...)
	flipped[12] ^= 1 // inside the type section
	err = m.VerifyCode(flipped)
	if !errors.Is(err, ErrCodeDigest) || !strings.Contains(err.Error(), "the module was modified after its manifest was made") {
		t.Fatalf("flipped code: %v", err)
	}
}

func TestParseTrailingComma(t *testing.T) {
	if _, err := Parse([]byte("{},")); err == nil || err.Error() != "manifest: line 1, column 3: unexpected data after the manifest object" {
		t.Fatalf("%v", err)
	}
}

func TestConfigKey(t *testing.T) {
	m, err := Parse(edit(t, `{"name": "probs", "type"`, `{"name": "probs", "config_key": "output", "type"`))
	if err != nil {
		t.Fatal(err)
	}
	out := m.Outputs[0]
	for cfg, want := range map[string]string{``: "probs", `{}`: "probs", `{"output": "p"}`: "p", `{"output": 3}`: "probs", `[`: "probs"} {
		if got := out.NameUnder([]byte(cfg)); got != want {
			t.Errorf("NameUnder(%s) = %q, want %q", cfg, got, want)
		}
	}
	_, err = Parse(edit(t, `{"name": "probs", "type"`, `{"name": "probs", "config_key": "temperature", "type"`))
	if err == nil || err.Error() != `manifest: outputs[0].config_key: "temperature" is a number in config.schema; a column name is a string` {
		t.Fatalf("number key: %v", err)
	}
	_, err = Parse(edit(t, `{"name": "probs", "type"`, `{"name": "probs", "config_key": "out", "type"`))
	if err == nil || err.Error() != `manifest: outputs[0].config_key: "out" is not a property of config.schema` {
		t.Fatalf("unknown key: %v", err)
	}
}
