package sign

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// maxPolicyFile bounds a policy file.
const maxPolicyFile = 1 << 20

// A TrustedKey is a key a Policy trusts, optionally only for some module
// names.
type TrustedKey struct {
	// ID is KeyID(PublicKey).
	ID string
	// Name names the key in messages (a person, a team, a CI job).
	Name string
	// PublicKey is the ed25519 public key.
	PublicKey ed25519.PublicKey
	// Modules are path.Match patterns ("acme-*", "normalize") of the module
	// names the key may sign; empty means any name.
	Modules []string

	where string // "trust.yaml, line 4" for messages
}

// Allows reports whether the key may sign a module of this name.
func (k *TrustedKey) Allows(name string) bool {
	if len(k.Modules) == 0 {
		return true
	}
	for _, pat := range k.Modules {
		if ok, _ := path.Match(pat, name); ok {
			return true
		}
	}
	return false
}

// A Policy is a set of trusted keys. It is immutable once built and safe for
// concurrent use.
type Policy struct {
	source string // file name, or a description, for messages
	keys   []TrustedKey
}

// Keys returns the policy's keys (a copy).
func (p *Policy) Keys() []TrustedKey { return append([]TrustedKey(nil), p.keys...) }

// Source names where the policy came from: its file, or "key NAME.pub".
func (p *Policy) Source() string { return p.source }

func (p *Policy) key(id string) *TrustedKey {
	for i := range p.keys {
		if p.keys[i].ID == id {
			return &p.keys[i]
		}
	}
	return nil
}

// NewPolicy returns a policy of the given keys; source names it in messages
// ("key alice.pub"). An empty ID is filled in from the public key.
//
// # Errors
//
// ErrPolicy when a key is not an ed25519 public key, an ID does not match
// its key, a pattern is malformed, or two keys have one ID.
func NewPolicy(source string, keys ...TrustedKey) (*Policy, error) {
	p := &Policy{source: source}
	for i, k := range keys {
		if len(k.PublicKey) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: %s: key %d: public key is %d bytes, want %d", ErrPolicy, source, i, len(k.PublicKey), ed25519.PublicKeySize)
		}
		id := KeyID(k.PublicKey)
		if k.ID != "" && k.ID != id {
			return nil, fmt.Errorf("%w: %s: key %q: id is %s, but the public key's id is %s", ErrPolicy, source, k.Name, k.ID, id)
		}
		k.ID = id
		if k.Name == "" {
			k.Name = ShortID(id)
		}
		for _, pat := range k.Modules {
			if _, err := path.Match(pat, ""); err != nil {
				return nil, fmt.Errorf("%w: %s: key %q: module pattern %q: %w", ErrPolicy, source, k.Name, pat, err)
			}
		}
		if have := p.key(id); have != nil {
			return nil, fmt.Errorf("%w: %s: key %q is the same key as %q (id %s): list each key once", ErrPolicy, source, k.Name, have.Name, ShortID(id))
		}
		k.Modules = append([]string(nil), k.Modules...)
		k.where = source
		p.keys = append(p.keys, k)
	}
	if len(p.keys) == 0 {
		return nil, fmt.Errorf("%w: %s lists no keys (add one under keys:)", ErrPolicy, source)
	}
	return p, nil
}

// KeyPolicy returns a policy that trusts one public key for any module name,
// named by source in messages (as `wasinfer udf verify --key alice.pub`).
func KeyPolicy(source string, pub ed25519.PublicKey) (*Policy, error) {
	return NewPolicy(source, TrustedKey{Name: source, PublicKey: pub})
}

// policyFile is the policy file; see ParsePolicy.
type policyFile struct {
	Version *int        `yaml:"version"`
	Keys    []policyKey `yaml:"keys"`
}

type policyKey struct {
	Name          string   `yaml:"name"`
	ID            string   `yaml:"id"`
	PublicKey     string   `yaml:"public_key"`
	PublicKeyFile string   `yaml:"public_key_file"`
	Modules       []string `yaml:"modules"`
}

// LoadPolicy reads a trust policy file (YAML or JSON; see ParsePolicy).
// Public key files it names are read relative to its directory.
func LoadPolicy(file string) (*Policy, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("sign: reading trust policy: %w", err)
	}
	return ParsePolicy(data, file, filepath.Dir(file))
}

// ParsePolicy decodes a trust policy. source names it in messages (its file
// name); public_key_file entries are read relative to dir.
//
// The format:
//
//	version: 1                          # optional; only 1 exists
//	keys:
//	  - name: alice                     # required, unique
//	    public_key_file: keys/alice.pub # a PEM public key file, relative to the policy's directory
//	  - name: ci
//	    public_key: |                   # or the PEM inline
//	      -----BEGIN PUBLIC KEY-----
//	      …
//	      -----END PUBLIC KEY-----
//	    id: 3f2a…                       # optional: the full key ID, checked against the key
//	    modules: ["acme-*", normalize]  # optional: path.Match patterns of the names it may sign
//
// # Errors
//
// ErrPolicy, wrapped with the file, line and column and what is wrong.
func ParsePolicy(data []byte, source, dir string) (*Policy, error) {
	if len(data) > maxPolicyFile {
		return nil, fmt.Errorf("%w: %s is %d bytes, above the limit of %d", ErrPolicy, source, len(data), maxPolicyFile)
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(source, err)
	}
	if len(file.Docs) != 1 || file.Docs[0].Body == nil {
		return nil, fmt.Errorf("%w: %s: want one YAML document with a keys list", ErrPolicy, source)
	}
	if t := firstTag(file.Docs[0].Body); t != nil {
		pos := t.GetToken().Position
		return nil, fmt.Errorf("%w: %s, line %d, column %d: a YAML tag (%s) has no meaning in a trust policy; remove it", ErrPolicy, source, pos.Line, pos.Column, t.Start.Value)
	}
	var pf policyFile
	if err := decodePolicy(file.Docs[0].Body, &pf); err != nil {
		return nil, yamlError(source, err)
	}
	at := func(p string) string { return nodeAt(file, source, p) }
	if pf.Version != nil && *pf.Version != 1 {
		return nil, fmt.Errorf("%w: %s: version is %d; this wasinfer reads version 1", ErrPolicy, at("$.version"), *pf.Version)
	}
	if len(pf.Keys) == 0 {
		return nil, fmt.Errorf("%w: %s lists no keys (add one under keys:)", ErrPolicy, source)
	}
	keys := make([]TrustedKey, 0, len(pf.Keys))
	names := map[string]string{}
	for i, k := range pf.Keys {
		here := fmt.Sprintf("$.keys[%d]", i)
		if k.Name == "" {
			return nil, fmt.Errorf("%w: %s: key %d has no name", ErrPolicy, at(here), i+1)
		}
		if prev, ok := names[k.Name]; ok {
			return nil, fmt.Errorf("%w: %s: a second key named %q (the first is at %s)", ErrPolicy, at(here+".name"), k.Name, prev)
		}
		names[k.Name] = at(here + ".name")
		var pemData []byte
		switch {
		case k.PublicKey != "" && k.PublicKeyFile != "":
			return nil, fmt.Errorf("%w: %s: key %q has both public_key and public_key_file; keep one", ErrPolicy, at(here), k.Name)
		case k.PublicKey != "":
			pemData = []byte(k.PublicKey)
		case k.PublicKeyFile != "":
			p := k.PublicKeyFile
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			pemData, err = readKeyFile(p)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: key %q: %w", ErrPolicy, at(here+".public_key_file"), k.Name, err)
			}
		default:
			return nil, fmt.Errorf("%w: %s: key %q has no public_key_file (or public_key)", ErrPolicy, at(here), k.Name)
		}
		pub, err := ParsePublicKey(pemData)
		if err != nil {
			field := ".public_key"
			if k.PublicKeyFile != "" {
				field = ".public_key_file"
			}
			return nil, fmt.Errorf("%w: %s: key %q: %w", ErrPolicy, at(here+field), k.Name, err)
		}
		id := KeyID(pub)
		if k.ID != "" && !strings.EqualFold(k.ID, id) {
			return nil, fmt.Errorf("%w: %s: key %q: id is %s, but its public key's id is %s", ErrPolicy, at(here+".id"), k.Name, k.ID, id)
		}
		for j, pat := range k.Modules {
			if _, err := path.Match(pat, ""); err != nil || pat == "" {
				return nil, fmt.Errorf("%w: %s: key %q: module pattern %q is malformed (want a name, or a pattern like acme-*)", ErrPolicy, at(fmt.Sprintf("%s.modules[%d]", here, j)), k.Name, pat)
			}
		}
		for _, have := range keys {
			if have.ID == id {
				return nil, fmt.Errorf("%w: %s: key %q is the same key as %q (id %s): list each key once", ErrPolicy, at(here), k.Name, have.Name, ShortID(id))
			}
		}
		where := at(here)
		if len(k.Modules) > 0 {
			where = at(here + ".modules")
		}
		keys = append(keys, TrustedKey{ID: id, Name: k.Name, PublicKey: pub, Modules: k.Modules, where: where})
	}
	return &Policy{source: source, keys: keys}, nil
}

// nodeAt returns "source, line L, column C" for a YAML path, or source when
// the path is not in the file.
func nodeAt(file *ast.File, source, p string) string {
	yp, err := yaml.PathString(p)
	if err != nil {
		return source
	}
	n, err := yp.FilterFile(file)
	if err != nil || n == nil {
		return source
	}
	// A mapping's own token is its first colon; point at its first key.
	switch m := n.(type) {
	case *ast.MappingNode:
		if len(m.Values) > 0 {
			n = m.Values[0].Key
		}
	case *ast.MappingValueNode:
		n = m.Key
	}
	if n.GetToken() == nil {
		return source
	}
	pos := n.GetToken().Position
	return source + ", line " + strconv.Itoa(pos.Line) + ", column " + strconv.Itoa(pos.Column)
}

// decodePolicy is yaml.NodeToValue, with a panic of the YAML decoder (go-yaml
// v1.19.2 panicked on tagged values FuzzParsePolicy found) an error: a
// damaged policy file must not bring the process down.
func decodePolicy(n ast.Node, pf *policyFile) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the YAML decoder failed on this file (panic: %v)", p)
		}
	}()
	return yaml.NodeToValue(n, pf, yaml.Strict())
}

// firstTag returns the first tagged node under n, or nil.
func firstTag(n ast.Node) *ast.TagNode {
	var found *ast.TagNode
	ast.Walk(tagFinder{&found}, n)
	return found
}

type tagFinder struct{ found **ast.TagNode }

func (f tagFinder) Visit(n ast.Node) ast.Visitor {
	if *f.found != nil {
		return nil
	}
	if t, ok := n.(*ast.TagNode); ok {
		*f.found = t
		return nil
	}
	return f
}

func yamlError(source string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		pos := ye.GetToken().Position
		return fmt.Errorf("%w: %s, line %d, column %d: %s", ErrPolicy, source, pos.Line, pos.Column, ye.GetMessage())
	}
	return fmt.Errorf("%w: %s: %w", ErrPolicy, source, err)
}
