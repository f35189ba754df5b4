package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Result is one key's figure. Every key of Keys is in every report: a
// figure that could not be measured has a null Value and says why in
// Reason (a missing peer, such as Python without its packages) or Error (a
// measurement that failed).
type Result struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	// Value is the headline figure; nil (JSON null) when not measured.
	Value *float64 `json:"value"`
	Unit  string   `json:"unit"`
	// Target is the figure the issue asks for; nil when it sets none.
	Target *Target `json:"target"`
	// Met: Value against Target; nil without a target or a value.
	Met *bool `json:"met"`
	// Median and Spread describe the repetitions behind Value.
	Median      *float64 `json:"median"`
	Spread      *Spread  `json:"spread"`
	Repetitions int      `json:"repetitions"`
	// Measures says exactly what the two sides of the figure are.
	Measures string `json:"measures"`
	// Note explains a missed target, or qualifies the figure.
	Note string `json:"note,omitempty"`
	// Reason is why Value is null although nothing failed (a missing peer).
	Reason string `json:"reason,omitempty"`
	// Error is why the measurement failed.
	Error string `json:"error,omitempty"`
	// Details are the figures behind the headline (per size, per side,
	// absolute rates), keyed by name.
	Details map[string]any `json:"details,omitempty"`
	// Seconds is the wall time the measurement took.
	Seconds float64 `json:"seconds"`
}

// Target is a bound on a key's value.
type Target struct {
	// Op is one of ">=", ">", "<=", "<".
	Op    string  `json:"op"`
	Value float64 `json:"value"`
	// Text is the target as the issue states it, e.g. "≥ 0.4 for batches ≥ 1 MiB".
	Text string `json:"text"`
}

// Spread is the distribution of the repetitions: extremes and quartiles.
type Spread struct {
	Min float64 `json:"min"`
	Q1  float64 `json:"q1"`
	Q3  float64 `json:"q3"`
	Max float64 `json:"max"`
}

// holds reports whether v meets t.
func (t *Target) holds(v float64) bool {
	switch t.Op {
	case ">=":
		return v >= t.Value
	case ">":
		return v > t.Value
	case "<=":
		return v <= t.Value
	case "<":
		return v < t.Value
	}
	panic("bench: target op " + t.Op)
}

func atLeast(v float64, text string) *Target { return &Target{Op: ">=", Value: v, Text: text} }
func atMost(v float64, text string) *Target  { return &Target{Op: "<=", Value: v, Text: text} }
func below(v float64, text string) *Target   { return &Target{Op: "<", Value: v, Text: text} }

// setSamples sets Value, Median and Spread from the repetitions' figures
// (the headline is their median), and Met from the target.
func (r *Result) setSamples(samples []float64) {
	if len(samples) == 0 {
		return
	}
	s := summarize(samples)
	r.Median = &s.median
	r.Spread = &s.Spread
	r.Repetitions = len(samples)
	r.setValue(s.median)
}

// setValue sets the headline and Met.
func (r *Result) setValue(v float64) {
	r.Value = &v
	if r.Target != nil {
		met := r.Target.holds(v)
		r.Met = &met
	}
}

type summary struct {
	Spread
	median float64
}

// summarize returns the median, quartiles (linear interpolation between
// order statistics) and extremes of xs.
func summarize(xs []float64) summary {
	s := slices.Clone(xs)
	slices.Sort(s)
	q := func(p float64) float64 {
		if len(s) == 1 {
			return s[0]
		}
		pos := p * float64(len(s)-1)
		lo := int(math.Floor(pos))
		hi := min(lo+1, len(s)-1)
		return s[lo] + (pos-float64(lo))*(s[hi]-s[lo])
	}
	return summary{Spread: Spread{Min: s[0], Q1: q(0.25), Q3: q(0.75), Max: s[len(s)-1]}, median: q(0.5)}
}

func median(xs []float64) float64 { return summarize(xs).median }

// formatValue writes v with 3 significant figures (more for large values).
func formatValue(v float64) string {
	a := math.Abs(v)
	switch {
	case v == 0:
		return "0"
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 10:
		return fmt.Sprintf("%.2f", v)
	case a >= 0.01:
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// Status is the result in a word: "met", "MISSED", "no target",
// "not measured" or "FAILED".
func (r *Result) Status() string {
	switch {
	case r.Error != "":
		return "FAILED"
	case r.Value == nil:
		return "not measured"
	case r.Met == nil:
		return "no target"
	case *r.Met:
		return "met"
	}
	return "MISSED"
}

// ValueText is the value with its unit, or "null".
func (r *Result) ValueText() string {
	if r.Value == nil {
		return "null"
	}
	s := formatValue(*r.Value)
	if r.Unit != "" && r.Unit != "x" {
		s += " " + r.Unit
	} else if r.Unit == "x" {
		s += "×"
	}
	return s
}

// SpreadText is "median [min – max], n reps".
func (r *Result) SpreadText() string {
	if r.Spread == nil {
		return ""
	}
	return fmt.Sprintf("[%s – %s], IQR %s – %s, n=%d", formatValue(r.Spread.Min), formatValue(r.Spread.Max),
		formatValue(r.Spread.Q1), formatValue(r.Spread.Q3), r.Repetitions)
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// oneLine squeezes an error message onto one line for tables.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
