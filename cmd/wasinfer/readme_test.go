package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wasinfer/wasinfer/pipeline"
)

// readmeSection returns the text of the README section that starts with
// the heading prefix, up to the next "## " heading.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "\n"+heading)
	if i < 0 {
		t.Fatalf("README.md has no section %q", heading)
	}
	text = text[i+1:]
	if j := strings.Index(text[1:], "\n## "); j >= 0 {
		text = text[:j+1]
	}
	return text
}

var fence = regexp.MustCompile("(?s)```([a-z]*)\n(.*?)```")

// TestREADMETutorial runs the README's tutorial as a new user would: every
// sh block of "## Five minutes", in order, in one shell, from the
// repository root, with this very build as wasinfer (see TestMain), where
// the tutorial puts bin/ on PATH. Scratch paths under /tmp/wasinfer-tour go
// to a temporary directory.
func TestREADMETutorial(t *testing.T) {
	section := readmeSection(t, "## Five minutes")
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	var yamlBlock string
	blocks := 0
	for _, m := range fence.FindAllStringSubmatch(section, -1) {
		switch m[1] {
		case "sh":
			script.WriteString(m[2])
			blocks++
		case "yaml":
			yamlBlock = m[2]
		}
	}
	if blocks < 3 {
		t.Fatalf("the tutorial has %d sh blocks; want the UDF, model and run steps", blocks)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cli := cliDir(t)
	tour := t.TempDir()
	text := strings.ReplaceAll(script.String(), "/tmp/wasinfer-tour", tour)
	if !strings.Contains(text, "$PWD/bin:") {
		t.Fatal("the tutorial no longer puts bin/ on PATH; update this test")
	}
	text = strings.ReplaceAll(text, "$PWD/bin:", cli+":")
	cmd := exec.Command("bash", "-c", text)
	cmd.Dir = root
	cmd.Env = cliEnv(cli)
	out, err := cmd.CombinedOutput()
	t.Logf("tutorial output:\n%s", out)
	if err != nil {
		t.Fatalf("the README tutorial failed: %v", err)
	}
	for _, want := range []string{
		"value_out",             // udf test printed the new column
		"admission",             // udf build checked the module
		"logits  float32[N,10]", // model inspect
		": ok: 4 stages loaded", // validate ran the dry run
		`"splits_skipped": 1`,   // the rerun skipped the committed split
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("tutorial output lacks %q", want)
		}
	}

	// The pipeline file shown in the section is valid where it claims to
	// live (examples/digits, whose paths it uses).
	if yamlBlock == "" {
		t.Fatal("the tutorial shows no pipeline file")
	}
	if _, err := pipeline.Parse(filepath.Join(root, "examples", "digits", "README-example.yaml"), []byte(yamlBlock)); err != nil {
		t.Errorf("the README's pipeline file does not load: %v", err)
	}
}
