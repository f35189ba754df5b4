package pipeline

import (
	"reflect"
	"strings"
	"testing"
)

type inner struct {
	Size  ByteSize `yaml:"size"`
	Every Duration `yaml:"every"`
}

type Base struct {
	Shared string `yaml:"shared"`
}

type testDoc struct {
	Name   string            `yaml:"name"`
	Count  int               `yaml:"count"`
	Ratio  float64           `yaml:"ratio"`
	On     bool              `yaml:"on"`
	Tags   []string          `yaml:"tags"`
	Items  []inner           `yaml:"items"`
	Labels map[string]string `yaml:"labels"`
	Conf   any               `yaml:"conf"`
	Ptr    *inner            `yaml:"ptr"`
	Small  int8              `yaml:"small"`
	Base   `yaml:",inline"`
}

func decodeDoc(t *testing.T, src string) (testDoc, *decoder, error) {
	t.Helper()
	ps := &problems{file: "p.yaml"}
	var doc testDoc
	d := newDecoder(ps)
	if n := parseYAML(ps, []byte(src)); n != nil {
		d.decode(n, reflect.ValueOf(&doc).Elem(), "")
	}
	return doc, d, ps.err()
}

func TestDecode(t *testing.T) {
	src := `
name: job
count: 0x10
ratio: 2
on: true
tags: one
items:
  - size: 256MiB
    every: 1m30s
  - {size: 1000, every: 0}
labels: {a: x, b: 2}
conf:
  mean: [0.5, 0.25]
  deep: {k: null}
ptr: &p
  size: 1KB
shared: s
`
	doc, d, err := decodeDoc(t, src)
	if err != nil {
		t.Fatal(err)
	}
	want := testDoc{
		Name: "job", Count: 16, Ratio: 2, On: true, Tags: []string{"one"},
		Items:  []inner{{Size: 256 << 20, Every: Duration(90e9)}, {Size: 1000}},
		Labels: map[string]string{"a": "x", "b": "2"},
		Conf:   map[string]any{"mean": []any{0.5, 0.25}, "deep": map[string]any{"k": nil}},
		Ptr:    &inner{Size: 1000},
		Base:   Base{Shared: "s"},
	}
	if !reflect.DeepEqual(doc, want) {
		t.Fatalf("got  %#v\nwant %#v", doc, want)
	}
	if p := d.values["items[1].size"]; p.line != 10 {
		t.Errorf("items[1].size recorded at %v, want line 10", p)
	}
}

func TestDecodeAnchorsAndMerge(t *testing.T) {
	src := `
items:
  - &one {size: 1KiB, every: 1s}
  - <<: *one
    every: 2s
  - *one
`
	doc, _, err := decodeDoc(t, src)
	if err != nil {
		t.Fatal(err)
	}
	want := []inner{{1024, Duration(1e9)}, {1024, Duration(2e9)}, {1024, Duration(1e9)}}
	if !reflect.DeepEqual(doc.Items, want) {
		t.Fatalf("got %v, want %v", doc.Items, want)
	}
}

func TestDecodeProblems(t *testing.T) {
	src := `name: [a]
count: "12"
ratio: fast
on: yes please
tags: {a: b}
items:
  - size: lots
    every: soon
    colour: red
small: 300
nme: x
name: again
labels: *nowhere
`
	_, _, err := decodeDoc(t, src)
	want := `12 problems:
p.yaml:1:7: name: want a string, got a list
p.yaml:2:8: count: want an integer, got the string "12"
p.yaml:3:8: ratio: want a number, got the string "fast"
p.yaml:4:5: on: want true or false, got the string "yes please"
p.yaml:5:7: tags: want a list, got a mapping
p.yaml:7:11: items[0].size: want a size such as 512MiB, 2GiB or 1000000, got "lots"
p.yaml:8:12: items[0].every: want a duration such as 30s, 5m or 1h30m, got "soon"
p.yaml:9:5: items[0].colour: unknown key "colour" (valid keys: every, size)
p.yaml:10:8: small: integer 300 is out of range
p.yaml:11:1: nme: unknown key "nme" (did you mean "name"?)
p.yaml:12:1: name: key "name" is set twice
p.yaml:13:9: alias *nowhere refers to no anchor &nowhere defined above it`
	if err == nil || err.Error() != want {
		t.Fatalf("got:\n%v\nwant:\n%s", err, want)
	}
}

func TestDecodeSyntaxError(t *testing.T) {
	_, _, err := decodeDoc(t, "name: job\n  count: 1\n")
	if err == nil || !strings.HasPrefix(err.Error(), "p.yaml:1:7: not valid YAML: ") {
		t.Fatalf("got %v", err)
	}
	_, _, err = decodeDoc(t, "")
	if err == nil || err.Error() != "p.yaml: the file is empty: a pipeline needs at least source, stages and sink" {
		t.Fatalf("got %v", err)
	}
	_, _, err = decodeDoc(t, "name: a\n---\nname: b\n")
	if err == nil || !strings.Contains(err.Error(), "p.yaml:3:1: a pipeline file holds one YAML document") {
		t.Fatalf("got %v", err)
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"0": 0, "512": 512, "1KiB": 1024, "1.5 GiB": 3 << 29, "2mb": 2e6, "3G": 3 << 30, "7B": 7} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "MiB", "1 XB", "1e30GiB", "NaN"} {
		if _, err := ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q): no error", in)
		}
	}
	if s := ByteSize(3 << 30).String(); s != "3GiB" {
		t.Errorf("String = %s", s)
	}
}
