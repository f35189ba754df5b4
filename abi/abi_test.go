package abi

import (
	"testing"
)

func TestParseFormat(t *testing.T) {
	cases := []struct {
		in       string
		kind     Kind
		width    int
		listSize int64
		buffers  int
	}{
		{"n", KindNull, 0, 0, 0},
		{"b", KindBool, 0, 0, 2},
		{"C", KindFixed, 1, 0, 2},
		{"l", KindFixed, 8, 0, 2},
		{"e", KindFixed, 2, 0, 2},
		{"u", KindBinary, 0, 0, 3},
		{"U", KindLargeBinary, 0, 0, 3},
		{"w:16", KindFixed, 16, 0, 2},
		{"d:38,10", KindFixed, 16, 0, 2},
		{"d:76,2,256", KindFixed, 32, 0, 2},
		{"tdD", KindFixed, 4, 0, 2},
		{"tsn:Europe/Paris", KindFixed, 8, 0, 2},
		{"tsu:", KindFixed, 8, 0, 2},
		{"tDm", KindFixed, 8, 0, 2},
		{"+l", KindList, 0, 0, 2},
		{"+w:150528", KindFixedSizeList, 0, 150528, 1},
		{"+s", KindStruct, 0, 0, 1},
		{"+m", KindMap, 0, 0, 2},
	}
	for _, c := range cases {
		f, err := ParseFormat(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if f.Kind != c.kind || f.Width != c.width || f.ListSize != c.listSize || f.NBuffers() != c.buffers || f.Raw != c.in {
			t.Errorf("%q: got %+v (%d buffers)", c.in, f, f.NBuffers())
		}
	}
}

func TestParseFormatErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", `format "" is not supported by ABI v1`},
		{"+ud:1,2", `format "+ud:1,2" is not supported by ABI v1`},
		{"vu", `format "vu" is not supported by ABI v1`},
		{"w:0", `format "w:0": fixed_size_binary width: 0 is not positive`},
		{"w:99999999999", `format "w:99999999999": fixed_size_binary width: "99999999999" is not a number`},
		{"+w:-3", `format "+w:-3": fixed_size_list size: -3 is not positive`},
		{"d:39,2", `format "d:39,2": decimal precision 39 above 38`},
		{"d:10", `format "d:10": decimal wants d:P,S[,BITS]`},
		{"d:10,2,64", `format "d:10,2,64": decimal bit width must be 128 or 256`},
		{"tsx:", `format "tsx:" is not supported by ABI v1`},
	}
	for _, c := range cases {
		_, err := ParseFormat(c.in)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: got %v, want %s", c.in, err, c.want)
		}
	}
}

func TestPackPtrLen(t *testing.T) {
	p, n := UnpackPtrLen(PackPtrLen(0xdeadbeef, 0x1234))
	if p != 0xdeadbeef || n != 0x1234 {
		t.Fatalf("got %#x, %#x", p, n)
	}
}

func TestStatusString(t *testing.T) {
	if got := Status(9).String(); got != "ERROR(9)" {
		t.Fatalf("got %s", got)
	}
	if got := StatusUnsupportedInput.String(); got != "UNSUPPORTED_INPUT" {
		t.Fatalf("got %s", got)
	}
}
