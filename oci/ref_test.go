package oci_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wasinfer/wasinfer/oci"
)

const hexA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func TestParseReference(t *testing.T) {
	cases := []struct {
		in   string
		want oci.Reference
	}{
		{"oci://localhost:5000/udfs/normalize:1.0.0", oci.Reference{Registry: "localhost:5000", Repository: "udfs/normalize", Tag: "1.0.0"}},
		{"oci://registry.example/normalize@sha256:" + hexA, oci.Reference{Registry: "registry.example", Repository: "normalize", Digest: "sha256:" + hexA}},
		{"oci://127.0.0.1:5000/a/b/c:v1@sha256:" + hexA, oci.Reference{Registry: "127.0.0.1:5000", Repository: "a/b/c", Tag: "v1", Digest: "sha256:" + hexA}},
		{"oci://[::1]:5000/udfs/x:latest", oci.Reference{Registry: "[::1]:5000", Repository: "udfs/x", Tag: "latest"}},
		{"oci-layout:./dir:1.0.0", oci.Reference{Layout: "./dir", Tag: "1.0.0"}},
		{"oci-layout:/tmp/a:b/dir@sha256:" + hexA, oci.Reference{Layout: "/tmp/a:b/dir", Digest: "sha256:" + hexA}},
		{"oci-layout:dir:v2@sha256:" + hexA, oci.Reference{Layout: "dir", Tag: "v2", Digest: "sha256:" + hexA}},
	}
	for _, c := range cases {
		got, err := oci.ParseReference(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", c.in, got, c.want)
		}
		if got.String() != c.in {
			t.Errorf("%s: String() is %s", c.in, got.String())
		}
	}
}

func TestParseReferenceErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"registry.example/library/x:1", "want oci://HOST/REPO:TAG, oci://HOST/REPO@sha256:…, or oci-layout:DIR:TAG"},
		{"oci://", "no registry host after oci://"},
		{"oci:///repo:1", "no registry host after oci://"},
		{"oci://localhost:5000", "no repository after the host (want oci://localhost:5000/REPO:TAG)"},
		{"oci://localhost:5000/", "no repository after the host (want oci://localhost:5000/REPO:TAG)"},
		{"oci://localhost/udfs/x", "no tag or digest (add :TAG or @sha256:…)"},
		{"oci://localhost/Udfs/x:1", `repository "Udfs/x": want lowercase letters and digits, separated by '/', '.', '_', '__' or '-'`},
		{"oci://local host/x:1", `registry "local host": want HOST or HOST:PORT`},
		{"oci://localhost/x:-1", `tag "-1": want 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'`},
		{"oci://localhost/x:" + strings.Repeat("a", 129), `tag "` + strings.Repeat("a", 120) + `…": want 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'`},
		{"oci://localhost/x@sha512:" + hexA + hexA, `digest "sha512:` + (hexA + hexA)[:113] + `…": want sha256:HEX (only sha256 digests are accepted)`},
		{"oci://localhost/x@sha256:abc", `digest "sha256:abc": 3 hex digits, want 64`},
		{"oci://localhost/x@sha256:" + strings.ToUpper(hexA), `digest "sha256:` + strings.ToUpper(hexA) + `": character 8 is 'A', want lowercase hex`},
		{"oci-layout:", "no directory after oci-layout:"},
		{"oci-layout::1", "no directory after oci-layout:"},
		{"oci-layout:dir", "no tag or digest (add :TAG or @sha256:…)"},
	}
	for _, c := range cases {
		_, err := oci.ParseReference(c.in)
		want := "oci: bad reference " + quote(c.in) + ": " + c.want
		if err == nil || err.Error() != want || !errors.Is(err, oci.ErrReference) {
			t.Errorf("%s:\nerror %v\nwant  %s", c.in, err, want)
		}
	}
}

func quote(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return `"` + s + `"`
}
