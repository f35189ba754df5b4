package vet

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Status is the outcome of one check.
type Status string

// Statuses.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	// Skip: the check could not run because an earlier one failed. A
	// skipped check is not a pass: the report fails.
	Skip Status = "skip"
)

// Check names, in the order Module runs them.
const (
	CheckAdmission    = "admission"
	CheckManifest     = "manifest"
	CheckCapabilities = "capabilities"
	CheckVectors      = "vectors"
	CheckDeterminism  = "determinism"
	CheckRobustness   = "robustness"
	CheckResources    = "resources"
)

// CheckNames lists every check in order.
var CheckNames = []string{CheckAdmission, CheckManifest, CheckCapabilities, CheckVectors, CheckDeterminism, CheckRobustness, CheckResources}

// Check is the result of one named check.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Detail is a one-line summary.
	Detail string `json:"detail"`
	// Notes are further lines: every failure found, and remarks.
	Notes []string `json:"notes,omitempty"`
	// Duration is the check's wall time.
	Duration time.Duration `json:"-"`
	// Metrics are the check's measurements (bytes, ns per row, counts),
	// keyed by a snake_case name.
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// Report is the result of vetting one module. Passed is true only when
// every check passed.
type Report struct {
	// Module is the manifest's name, or "" when there is none.
	Module string `json:"module"`
	// Version is the manifest's version.
	Version string `json:"version"`
	// SHA256 is the lowercase hex digest of the module's bytes.
	SHA256 string `json:"sha256"`
	// Size is the module's size in bytes.
	Size int `json:"size"`
	// ManifestSource says where the manifest came from: "embedded",
	// "sidecar", a file name, or "" when there is none.
	ManifestSource string `json:"manifest_source"`
	// Sweep is "small" or "full".
	Sweep  string  `json:"sweep"`
	Passed bool    `json:"passed"`
	Checks []Check `json:"checks"`
}

// Check returns the check named name, or nil.
func (r *Report) Check(name string) *Check {
	for i := range r.Checks {
		if r.Checks[i].Name == name {
			return &r.Checks[i]
		}
	}
	return nil
}

type jsonCheck struct {
	Check
	DurationMS float64 `json:"duration_ms"`
}

// WriteJSON writes the report as indented JSON with stable keys: module,
// version, sha256, size, manifest_source, sweep, passed, and checks (each
// name, status, detail, notes, metrics, duration_ms).
func (r *Report) WriteJSON(w io.Writer) error {
	checks := make([]jsonCheck, len(r.Checks))
	for i, c := range r.Checks {
		checks[i] = jsonCheck{Check: c, DurationMS: float64(c.Duration.Microseconds()) / 1000}
	}
	out := struct {
		*Report
		Checks []jsonCheck `json:"checks"`
	}{r, checks}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

// TextOptions control WriteText.
type TextOptions struct {
	// Durations adds each check's time to its line.
	Durations bool
}

var marks = map[Status]string{Pass: "PASS", Fail: "FAIL", Skip: "SKIP"}

// WriteText writes the report for people: a header, one line per check
// (PASS, FAIL or SKIP, its name and detail), its notes indented below, and
// a verdict line.
func (r *Report) WriteText(w io.Writer, o TextOptions) error {
	var b strings.Builder
	name := r.Module
	if name == "" {
		name = "(no manifest)"
	} else if r.Version != "" {
		name += " " + r.Version
	}
	fmt.Fprintf(&b, "module %s, %d bytes, sha256 %s\n", name, r.Size, r.SHA256)
	if r.ManifestSource != "" {
		fmt.Fprintf(&b, "manifest: %s; sweep: %s\n", r.ManifestSource, r.Sweep)
	}
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%s %-12s %s", marks[c.Status], c.Name, c.Detail)
		if o.Durations {
			fmt.Fprintf(&b, " (%s)", c.Duration.Round(time.Millisecond))
		}
		b.WriteByte('\n')
		for _, n := range c.Notes {
			fmt.Fprintf(&b, "     %s\n", n)
		}
	}
	failed := 0
	for _, c := range r.Checks {
		if c.Status != Pass {
			failed++
		}
	}
	if r.Passed {
		fmt.Fprintf(&b, "vetted: all %d checks passed\n", len(r.Checks))
	} else {
		fmt.Fprintf(&b, "not vetted: %d of %d checks did not pass\n", failed, len(r.Checks))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
