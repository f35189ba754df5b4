package oci

import (
	"fmt"
	"strings"

	"oras.land/oras-go/v2/registry"
)

// Reference schemes.
const (
	SchemeRegistry = "oci://"      // oci://host[:port]/repo[:tag][@sha256:…]
	SchemeLayout   = "oci-layout:" // oci-layout:DIR[:tag][@sha256:…]
)

// maxReference bounds the length of a reference string.
const maxReference = 4096

// A Reference names a module in an OCI registry or an OCI image layout
// directory, by tag, by digest, or both. When both are given the digest
// decides what is fetched; the tag only helps explain a pin that matches
// nothing.
type Reference struct {
	// Registry is host[:port] of a registry; empty for a layout.
	Registry string
	// Repository is the repository in the registry ("udfs/normalize");
	// empty for a layout.
	Repository string
	// Layout is the directory of an OCI image layout; empty for a registry.
	Layout string
	// Tag is the tag, or empty.
	Tag string
	// Digest is the manifest digest, "sha256:" and 64 lowercase hex
	// digits, or empty.
	Digest string
}

// IsLayout reports whether r names an OCI image layout directory.
func (r Reference) IsLayout() bool { return r.Layout != "" }

// String formats r as ParseReference reads it.
func (r Reference) String() string {
	var b strings.Builder
	if r.IsLayout() {
		b.WriteString(SchemeLayout + r.Layout)
	} else {
		b.WriteString(SchemeRegistry + r.Registry + "/" + r.Repository)
	}
	if r.Tag != "" {
		b.WriteString(":" + r.Tag)
	}
	if r.Digest != "" {
		b.WriteString("@" + r.Digest)
	}
	return b.String()
}

// Pin returns r with its digest set: the reference to write into a
// pipeline spec so that exactly these bytes run.
func (r Reference) Pin(digest string) Reference {
	r.Digest = digest
	return r
}

// ParseReference reads a module reference:
//
//	oci://HOST[:PORT]/REPO:TAG
//	oci://HOST[:PORT]/REPO@sha256:HEX
//	oci://HOST[:PORT]/REPO:TAG@sha256:HEX
//	oci-layout:DIR:TAG   (and @sha256:HEX, as above)
//
// A tag or a digest is required (there is no implicit "latest"), and a
// digest must be sha256. Repository names and tags follow the OCI
// distribution spec.
//
// # Errors
//
// ErrReference, wrapped with the part that is wrong and the expected form.
func ParseReference(s string) (Reference, error) {
	bad := func(format string, args ...any) (Reference, error) {
		return Reference{}, fmt.Errorf("%w %q: %s", ErrReference, clip(s), fmt.Sprintf(format, args...))
	}
	if len(s) > maxReference {
		return bad("%d bytes, above the limit of %d", len(s), maxReference)
	}
	var r Reference
	rest, layout := strings.CutPrefix(s, SchemeLayout)
	if !layout {
		var ok bool
		if rest, ok = strings.CutPrefix(s, SchemeRegistry); !ok {
			return bad("want oci://HOST/REPO:TAG, oci://HOST/REPO@sha256:…, or oci-layout:DIR:TAG")
		}
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		r.Digest, rest = rest[i+1:], rest[:i]
		if err := checkDigest(r.Digest); err != nil {
			return bad("digest %q: %v", clip(r.Digest), err)
		}
	}
	if !layout && !strings.Contains(rest, "/") {
		if rest == "" {
			return bad("no registry host after oci://")
		}
		return bad("no repository after the host (want oci://%s/REPO:TAG)", clip(rest))
	}
	// The tag follows the last ':' after the last '/' (a registry port or a
	// directory name may hold ':' before that).
	slash := strings.LastIndexByte(rest, '/')
	if i := strings.LastIndexByte(rest, ':'); i > slash {
		r.Tag, rest = rest[i+1:], rest[:i]
		if err := (registry.Reference{Reference: r.Tag}).ValidateReferenceAsTag(); err != nil {
			return bad("tag %q: want 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'", clip(r.Tag))
		}
	}
	if layout {
		if rest == "" {
			return bad("no directory after oci-layout:")
		}
		r.Layout = rest
	} else {
		host, repo, ok := strings.Cut(rest, "/")
		switch {
		case host == "":
			return bad("no registry host after oci://")
		case !ok || repo == "":
			return bad("no repository after the host (want oci://%s/REPO:TAG)", host)
		}
		r.Registry, r.Repository = host, repo
		ref := registry.Reference{Registry: host, Repository: repo}
		if err := ref.ValidateRegistry(); err != nil {
			return bad("registry %q: want HOST or HOST:PORT", clip(host))
		}
		if err := ref.ValidateRepository(); err != nil {
			return bad("repository %q: want lowercase letters and digits, separated by '/', '.', '_', '__' or '-'", clip(repo))
		}
	}
	if r.Tag == "" && r.Digest == "" {
		return bad("no tag or digest (add :TAG or @sha256:…)")
	}
	return r, nil
}

// checkDigest accepts "sha256:" and 64 lowercase hex digits.
func checkDigest(d string) error {
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok {
		return fmt.Errorf("want sha256:HEX (only sha256 digests are accepted)")
	}
	if len(hex) != 64 {
		return fmt.Errorf("%d hex digits, want 64", len(hex))
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("character %d is %q, want lowercase hex", len("sha256:")+i+1, c)
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// short shortens "sha256:<64 hex>" to "sha256:<12 hex>…" for messages.
func short(d string) string {
	if hex, ok := strings.CutPrefix(d, "sha256:"); ok && len(hex) > 12 {
		return "sha256:" + hex[:12] + "…"
	}
	return d
}
