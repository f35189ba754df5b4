package manifest

import (
	"reflect"
	"testing"
)

func TestParseTypeRoundTrip(t *testing.T) {
	cases := []struct{ in, canon string }{
		{"int32", "int32"},
		{"utf8", "utf8"},
		{" float32 ", "float32"},
		{"fixed_size_binary[16]", "fixed_size_binary[16]"},
		{"decimal128(10,2)", "decimal128(10, 2)"},
		{"timestamp[ns]", "timestamp[ns]"},
		{"timestamp[ms, America/New_York]", "timestamp[ms, America/New_York]"},
		{"time32[ms]", "time32[ms]"},
		{"duration[us]", "duration[us]"},
		{"list<float32>", "list<float32>"},
		{"large_list<utf8>", "large_list<utf8>"},
		{"fixed_size_list<float32>[4]", "fixed_size_list<float32>[4]"},
		{"list<fixed_size_list<float32>[4]>", "list<fixed_size_list<float32>[4]>"},
		{"struct<a:int32,b:list<utf8>>", "struct<a: int32, b: list<utf8>>"},
		{`struct<"a b": int8>`, `struct<"a b": int8>`},
		{"map<utf8, int64>", "map<utf8, int64>"},
		{"dictionary<int32, utf8>", "dictionary<int32, utf8>"},
		{"tensor<uint8>[H,W,3]", "tensor<uint8>[H, W, 3]"},
		{"tensor<float32>[ 3 , H , W ]", "tensor<float32>[3, H, W]"},
	}
	for _, c := range cases {
		typ, err := ParseType(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := typ.String(); got != c.canon {
			t.Errorf("%q: String() = %q, want %q", c.in, got, c.canon)
		}
		again, err := ParseType(typ.String())
		if err != nil || !reflect.DeepEqual(again, typ) {
			t.Errorf("%q: re-parse gives %+v, %v", c.in, again, err)
		}
	}
}

func TestParseTypeFields(t *testing.T) {
	typ, err := ParseType("tensor<uint8>[H,W,3]")
	if err != nil {
		t.Fatal(err)
	}
	want := &Type{Kind: "tensor", Elem: &Type{Kind: "uint8"}, Dims: []Dim{{Name: "H"}, {Name: "W"}, {Size: 3}}}
	if !reflect.DeepEqual(typ, want) {
		t.Fatalf("got %+v", typ)
	}
	alts, err := ParseTypes("float32 | float64")
	if err != nil || len(alts) != 2 || alts[0].Kind != "float32" || alts[1].Kind != "float64" {
		t.Fatalf("alternatives: %+v %v", alts, err)
	}
}

func TestParseTypeErrors(t *testing.T) {
	cases := map[string]string{
		"":                         `type "": at byte 0: missing type at the end`,
		"int":                      `type "int": at byte 0: unknown type "int"`,
		"list<>":                   `type "list<>": at byte 5: want a type name, got ">"`,
		"list<int32":               `type "list<int32": at byte 10: missing ">" at the end`,
		"int32 int64":              `type "int32 int64": at byte 6: unexpected "int64" after the type`,
		"fixed_size_list<u8>[]":    `type "fixed_size_list<u8>[]": at byte 16: unknown type "u8"`,
		"fixed_size_list<int8>[0]": `type "fixed_size_list<int8>[0]": at byte 22: list size 0 out of range [1, 1073741824]`,
		"tensor<utf8>[3]":          `type "tensor<utf8>[3]": at byte 7: tensor value type utf8: want a fixed-width numeric type`,
		"tensor<uint8>[]":          `type "tensor<uint8>[]": at byte 14: want a dimension (a size or a name), got "]"`,
		"timestamp[h]":             `type "timestamp[h]": at byte 11: timestamp unit "h": want one of s, ms, us, ns`,
		"decimal128(40,2)":         `type "decimal128(40,2)": at byte 11: precision 40 out of range [1, 38]`,
		"struct<a:int8,a:int8>":    `type "struct<a:int8,a:int8>": at byte 15: duplicate struct field "a"`,
		"dictionary<utf8,utf8>":    `type "dictionary<utf8,utf8>": at byte 20: dictionary index type utf8: want an integer type`,
		"float32 |":                `type "float32 |": at byte 8: unexpected "|" after the type`,
	}
	for in, want := range cases {
		if _, err := ParseType(in); err == nil || err.Error() != want {
			t.Errorf("ParseType(%q):\n%v\nwant:\n%s", in, err, want)
		}
	}
	if _, err := ParseTypes("float32 |"); err == nil || err.Error() != `type "float32 |": at byte 9: missing type at the end` {
		t.Errorf("ParseTypes: %v", err)
	}
}

func FuzzParseType(f *testing.F) {
	for _, s := range []string{"int32", "list<fixed_size_list<float32>[4]>", "struct<a:int32,\"b\":utf8>", "tensor<uint8>[H,W,3]", "timestamp[ns, UTC]", "decimal256(76, 20)", "map<utf8,list<int64>>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, err := ParseType(s)
		if err != nil {
			return
		}
		again, err := ParseType(typ.String())
		if err != nil {
			t.Fatalf("%q -> %q: %v", s, typ.String(), err)
		}
		if !reflect.DeepEqual(again, typ) {
			t.Fatalf("%q -> %q parses differently", s, typ.String())
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"name":"x","version":"1.0.0"}`))
	f.Add([]byte(`{"config":{"schema":{"type":"object","properties":{"a":{"type":"array","items":{"type":"integer"}}}},"example":{"a":[1]}}}`))
	f.Add([]byte(`{"inputs":[{"name":"a","type":"list<int8>"}],"vectors":[{"input":"data:x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			if m != nil {
				t.Fatal("manifest and error")
			}
			return
		}
		// A manifest that parses marshals to one that parses the same.
		out, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		out2, _ := Marshal(m2)
		if string(out) != string(out2) {
			t.Fatalf("marshal not stable:\n%s\n%s", out, out2)
		}
	})
}
