package manifest

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// testModule is a valid module: one type section "() -> ()", one custom
// section "name" with a byte, and one function section.
func testModule() []byte {
	return []byte{
		0, 'a', 's', 'm', 1, 0, 0, 0,
		1, 4, 1, 0x60, 0, 0, // type section: 1 type, func () -> ()
		0, 6, 4, 'n', 'o', 't', 'e', 7, // custom "note" = {7}
		3, 2, 1, 0, // function section: 1 function of type 0
		10, 4, 1, 2, 0, 0x0b, // code section: 1 body, no locals, end
	}
}

func TestSections(t *testing.T) {
	secs, err := Sections(testModule())
	if err != nil {
		t.Fatal(err)
	}
	if len(secs) != 4 || secs[0].ID != 1 || secs[1].ID != 0 || secs[1].Name != "note" ||
		!bytes.Equal(secs[1].Payload, []byte{7}) || secs[1].Start != 14 || secs[1].End != 22 {
		t.Fatalf("sections %+v", secs)
	}
}

func TestSectionsErrors(t *testing.T) {
	mod := testModule()
	cases := []struct {
		name string
		wasm []byte
		want string
		is   error
	}{
		{"empty", nil, "manifest: not a WebAssembly module (no \\0asm magic number)", ErrNotWasm},
		{"component", append([]byte("\x00asm\x0d\x00\x01\x00"), mod[8:]...), "manifest: not a WebAssembly module (binary version 0d000100; want 01000000, a core module)", ErrNotWasm},
		{"section past end", mod[:len(mod)-1], "manifest: malformed WebAssembly module: byte 26: section 10 of 4 bytes runs past the end of the module (3 bytes left)", ErrMalformed},
		{"truncated size", append(bytes.Clone(mod), 0, 0x80), "manifest: malformed WebAssembly module: byte 33: size of section 0: truncated LEB128 number", ErrMalformed},
		{"size over 32 bits", append(bytes.Clone(mod), 0, 0xff, 0xff, 0xff, 0xff, 0x1f), "manifest: malformed WebAssembly module: byte 33: size of section 0: LEB128 number does not fit in 32 bits", ErrMalformed},
		{"bad id", append(bytes.Clone(mod), 14, 0), "manifest: malformed WebAssembly module: byte 32: unknown section id 14", ErrMalformed},
		{"name past section", append(bytes.Clone(mod), 0, 2, 5, 'a'), "manifest: malformed WebAssembly module: byte 34: custom section name of 5 bytes runs past its section (1 bytes left)", ErrMalformed},
		{"name length truncated", append(bytes.Clone(mod), 0, 1, 0x80), "manifest: malformed WebAssembly module: byte 34: name length of custom section: truncated LEB128 number", ErrMalformed},
		{"name not utf8", append(bytes.Clone(mod), 0, 2, 1, 0xff), "manifest: malformed WebAssembly module: byte 35: custom section name is not valid UTF-8", ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Sections(c.wasm)
			if !errors.Is(err, c.is) || err.Error() != c.want {
				t.Fatalf("error:\n%v\nwant:\n%s", err, c.want)
			}
			if _, err := Extract(c.wasm); !errors.Is(err, c.is) {
				t.Fatalf("Extract: %v", err)
			}
		})
	}
}

func TestEmbedExtract(t *testing.T) {
	mod := testModule()
	if _, err := Extract(mod); !errors.Is(err, ErrNoManifest) {
		t.Fatalf("Extract of a module without a manifest: %v", err)
	}
	packed, err := Embed(mod, []byte(`{"name":"a"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(packed, mod) {
		t.Fatal("Embed changed the module's sections")
	}
	got, err := Extract(packed)
	if err != nil || string(got) != `{"name":"a"}` {
		t.Fatalf("Extract: %q, %v", got, err)
	}
	// Embedding again replaces; the same input gives the same bytes.
	again, err := Embed(packed, []byte(`{"name":"b"}`))
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := Embed(mod, []byte(`{"name":"b"}`))
	if !bytes.Equal(again, fresh) {
		t.Fatal("re-embedding differs from embedding into the bare module")
	}
	stripped, err := Strip(again)
	if err != nil || !bytes.Equal(stripped, mod) {
		t.Fatalf("Strip: %v", err)
	}
	if _, err := Embed(mod, nil); err == nil {
		t.Fatal("embedded an empty manifest")
	}
}

func TestExtractTampered(t *testing.T) {
	mod := testModule()
	packed, err := Embed(mod, []byte(`{"name":"softmax","version":"1.0.0"}`))
	if err != nil {
		t.Fatal(err)
	}
	// Flip each byte of the manifest's JSON in turn: every flip is caught by
	// the digest section.
	secs, _ := Sections(packed)
	man := secs[len(secs)-2]
	start := man.End - len(man.Payload)
	for i := start; i < man.End; i++ {
		b := bytes.Clone(packed)
		b[i] ^= 0x01
		_, err := Extract(b)
		if !errors.Is(err, ErrManifestDigest) {
			t.Fatalf("flip at %d: %v", i, err)
		}
	}
	b := bytes.Clone(packed)
	b[start+2] ^= 0x20 // "name" -> "Name"
	_, err = Extract(b)
	want := "manifest: manifest section does not match its digest: the wasinfer.manifest section (byte 32, 36 bytes) has sha256 "
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "the module was modified after its manifest was embedded; rebuild it or fetch it again") {
		t.Fatalf("error:\n%v", err)
	}
	// A flipped digest byte is caught too.
	b = bytes.Clone(packed)
	b[len(b)-1] ^= 0x01
	if _, err := Extract(b); !errors.Is(err, ErrManifestDigest) {
		t.Fatalf("flipped digest: %v", err)
	}
}

func TestExtractDuplicates(t *testing.T) {
	mod := testModule()
	two := appendCustom(appendCustom(bytes.Clone(mod), SectionName, []byte("{}")), SectionName, []byte("{}"))
	if _, err := Extract(two); !errors.Is(err, ErrDuplicate) || err.Error() != "manifest: duplicate section: two wasinfer.manifest sections, at bytes 32 and 54" {
		t.Fatalf("two manifests: %v", err)
	}
	orphan := appendCustom(bytes.Clone(mod), DigestSectionName, []byte("00"))
	if _, err := Extract(orphan); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("orphan digest: %v", err)
	}
	// Without a digest section the manifest is returned as is.
	bare := appendCustom(bytes.Clone(mod), SectionName, []byte("{}"))
	if got, err := Extract(bare); err != nil || string(got) != "{}" {
		t.Fatalf("bare: %q %v", got, err)
	}
}

func FuzzExtract(f *testing.F) {
	mod := testModule()
	packed, _ := Embed(mod, []byte(`{"name":"x"}`))
	f.Add(mod)
	f.Add(packed)
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x00\x05\x03abc"))
	f.Fuzz(func(t *testing.T, wasm []byte) {
		secs, err := Sections(wasm)
		if err != nil {
			if _, err2 := Extract(wasm); err2 == nil {
				t.Fatal("Extract accepted what Sections refused")
			}
			return
		}
		end := 8
		for _, s := range secs {
			if s.Start != end || s.End > len(wasm) || s.End < s.Start {
				t.Fatalf("section %+v does not follow %d", s, end)
			}
			end = s.End
		}
		if end != len(wasm) {
			t.Fatalf("sections end at %d of %d", end, len(wasm))
		}
		stripped, err := Strip(wasm)
		if err != nil {
			t.Fatal(err)
		}
		re, err := Embed(wasm, []byte("{}"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Extract(re)
		if err != nil || string(got) != "{}" {
			t.Fatalf("round trip: %q, %v", got, err)
		}
		s2, _ := Strip(re)
		if !bytes.Equal(s2, stripped) {
			t.Fatal("Strip(Embed(m)) != Strip(m)")
		}
	})
}
