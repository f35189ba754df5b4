package udfs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasinfer/wasinfer/manifest"
)

const (
	catalogueStart = "<!-- catalogue: generated from the manifests by `go test ./udfs -run TestCatalogue -rewrite`; do not edit by hand -->\n"
	catalogueEnd   = "<!-- end of catalogue -->\n"
)

var languageNames = map[string]string{"c": "C", "rust": "Rust", "go": "Go", "assemblyscript": "AssemblyScript"}

func cell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }

func defaultText(s *manifest.Schema) string {
	if len(s.Default) == 0 {
		return ""
	}
	var b bytes.Buffer
	if json.Compact(&b, s.Default) != nil {
		return string(s.Default)
	}
	return "`" + b.String() + "`"
}

func typeText(s *manifest.Schema) string {
	t := s.Type
	if s.Type == "array" && s.Items != nil {
		t = s.Items.Type + "[]"
	}
	if len(s.Enum) > 0 {
		var vals []string
		for _, e := range s.Enum {
			vals = append(vals, string(bytes.TrimSpace(e)))
		}
		t = strings.Join(vals, " \\| ")
	}
	return t
}

// catalogue renders the generated part of README.md.
func catalogue(ms []*manifest.Manifest) string {
	var b strings.Builder
	b.WriteString(catalogueStart)
	b.WriteString("\n| module | language | what it does | input → output |\n| --- | --- | --- | --- |\n")
	for _, m := range ms {
		var in, out []string
		for _, c := range m.Inputs {
			in = append(in, "`"+c.Name+"`")
		}
		for _, c := range m.Outputs {
			out = append(out, "`"+c.Name+"`")
		}
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s → %s |\n", m.Name, m.Name, languageNames[m.Language], cell(m.Description), strings.Join(in, ", "), strings.Join(out, ", "))
	}
	for _, m := range ms {
		fmt.Fprintf(&b, "\n### %s\n\n%s. Source: [`%s`](%s/), %s, %s. Resources: %d MiB, %d ns/row (hints vet checks).\n\n",
			m.Name, m.Description, strings.TrimPrefix(m.Source, "udfs/"), m.Name, languageNames[m.Language], m.License,
			m.Resources.MemoryBytes>>20, m.Resources.NsPerRow)
		b.WriteString("| column | | type | nullable | |\n| --- | --- | --- | --- | --- |\n")
		for _, dir := range []struct {
			label string
			cols  []manifest.Column
		}{{"in", m.Inputs}, {"out", m.Outputs}} {
			for _, c := range dir.cols {
				name := "`" + c.Name + "`"
				if c.ConfigKey != "" {
					name += " (config `" + c.ConfigKey + "`)"
				}
				if c.Name == "*" {
					name = "any other"
				}
				null := "no"
				if c.Nullable {
					null = "yes"
				}
				desc := c.Description
				if c.Optional {
					desc = "optional: " + desc
				}
				fmt.Fprintf(&b, "| %s | %s | `%s` | %s | %s |\n", name, dir.label, cell(c.Type), null, cell(desc))
			}
		}
		if m.Config == nil || m.Config.Schema == nil {
			b.WriteString("\nNo configuration.\n")
			continue
		}
		b.WriteString("\n| config | type | default | |\n| --- | --- | --- | --- |\n")
		s := m.Config.Schema
		for _, k := range sortedProps(s) {
			p := s.Properties[k]
			req := ""
			for _, r := range s.Required {
				if r == k {
					req = "**required**; "
				}
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s%s |\n", k, typeText(p), defaultText(p), req, cell(p.Description))
		}
		if len(m.Rejects) > 0 {
			b.WriteString("\nRefuses on purpose (vet accepts these errors):")
			for _, r := range m.Rejects {
				fmt.Fprintf(&b, " %s input in `%s` (\"%s\": %s).", r.Class, r.Column, r.Message, r.Description)
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n" + catalogueEnd)
	return b.String()
}

// sortedProps lists a schema's properties: required first, then by name.
func sortedProps(s *manifest.Schema) []string {
	var req, rest []string
	for k := range s.Properties {
		isReq := false
		for _, r := range s.Required {
			isReq = isReq || r == k
		}
		if isReq {
			req = append(req, k)
		} else {
			rest = append(rest, k)
		}
	}
	sortStrings(req)
	sortStrings(rest)
	return append(req, rest...)
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestCatalogue checks that README.md's catalogue is what the manifests say
// (-rewrite updates it).
func TestCatalogue(t *testing.T) {
	var ms []*manifest.Manifest
	for _, name := range moduleNames(t) {
		m, err := manifest.ParseFile(filepath.Join(name, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Name != name {
			t.Fatalf("%s/manifest.json names the module %q", name, m.Name)
		}
		ms = append(ms, m)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(readme, []byte(catalogueStart)), bytes.Index(readme, []byte(catalogueEnd))
	if i < 0 || j < i {
		t.Fatalf("README.md has no catalogue markers")
	}
	want := catalogue(ms)
	got := string(readme[i : j+len(catalogueEnd)])
	if got == want {
		return
	}
	if *rewrite {
		out := append(append(append([]byte{}, readme[:i]...), want...), readme[j+len(catalogueEnd):]...)
		if err := os.WriteFile("README.md", out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("README.md's catalogue is out of date: go test ./udfs -run TestCatalogue -rewrite")
}
