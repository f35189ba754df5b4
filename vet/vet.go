package vet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wasinfer/wasinfer/abi"
	"github.com/wasinfer/wasinfer/dataset"
	"github.com/wasinfer/wasinfer/host"
	"github.com/wasinfer/wasinfer/manifest"
)

// maxNotes bounds the notes of one check; the rest are counted.
const maxNotes = 12

// vetter holds the state of one Module call.
type vetter struct {
	cfg      config
	wasm     []byte
	man      *manifest.Manifest
	imports  []manifest.Section
	mem      memTracker
	name     string
	inputs   []inputSpec
	describe []byte // what wasinfer_describe returned

	// determinism: compiler instance A vs B vs the interpreter.
	detRuns, detInterp int
	detNotes           []string
	// robustness
	robRuns  int
	robNotes []string
	// resources
	nsPerRow  float64 // best of the timed runs
	timedRows int64
}

// Module vets a module: it runs every check of `wasinfer udf vet` (see the
// package documentation) and returns the report. The module's problems are
// failing checks in the report, not errors.
//
// Cost: one compilation per engine (cached), a few tens of instances, and
// the sweep: under a second for a small C or Rust module with SweepSmall, a
// few seconds with SweepFull; Go modules pay their runtime's start-up per
// instance.
//
// # Errors
//
// ctx.Err() when ctx ends first; nothing else.
func Module(ctx context.Context, wasm []byte, opts ...Option) (*Report, error) {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.dir == nil && cfg.path != "" {
		cfg.dir = os.DirFS(filepath.Dir(cfg.path))
	}
	sum := sha256.Sum256(wasm)
	r := &Report{SHA256: hex.EncodeToString(sum[:]), Size: len(wasm), Sweep: cfg.sweepName}
	v := &vetter{cfg: cfg, wasm: wasm, name: "udf"}
	if cfg.path != "" {
		v.name = filepath.Base(cfg.path)
	}
	ctx = v.mem.context(ctx)

	// The manifest is read first (its config is needed to load the module)
	// but reported second, as the issue orders the checks.
	manCheck := v.checkManifest(r)
	admission := v.checkAdmission(ctx)
	if manCheck.Status == Pass && admission.Status == Pass {
		v.checkDescription(&manCheck)
	}
	r.Checks = append(r.Checks, admission, manCheck)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if admission.Status != Pass || manCheck.Status != Pass {
		why := "admission failed"
		if admission.Status == Pass {
			why = "the manifest check failed"
		}
		for _, name := range CheckNames[2:] {
			if name == CheckCapabilities && v.man != nil && v.imports != nil {
				r.Checks = append(r.Checks, v.checkCapabilities())
				continue
			}
			r.Checks = append(r.Checks, Check{Name: name, Status: Skip, Detail: "not run: " + why})
		}
		return r, nil
	}
	r.Checks = append(r.Checks, v.checkCapabilities())
	vectors := v.checkVectors(ctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	start := time.Now()
	robust := v.checkRobustness(ctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	robust.Duration = time.Since(start)
	r.Checks = append(r.Checks, vectors, v.determinism(), robust, v.checkResources())
	r.Passed = true
	for _, c := range r.Checks {
		if c.Status != Pass {
			r.Passed = false
		}
	}
	return r, nil
}

func timed(c *Check, start time.Time) { c.Duration = time.Since(start) }

func noteList(notes []string) []string {
	if len(notes) <= maxNotes {
		return notes
	}
	return append(notes[:maxNotes:maxNotes], fmt.Sprintf("… and %d more", len(notes)-maxNotes))
}

// checkManifest finds, parses and validates the manifest, and checks the
// code digest.
func (v *vetter) checkManifest(r *Report) (c Check) {
	c = Check{Name: CheckManifest}
	defer timed(&c, time.Now())
	data, source := v.cfg.manifest, v.cfg.manifestSource
	if data == nil {
		var origin manifest.Origin
		var err error
		data, origin, err = manifest.Find(v.cfg.path, v.wasm)
		if err != nil {
			c.Status, c.Detail = Fail, err.Error()
			return c
		}
		source = string(origin)
		if origin == manifest.OriginSidecar {
			source = "sidecar " + manifest.SidecarPath(v.cfg.path)
		}
	} else if source == "" {
		source = "given"
	}
	r.ManifestSource = source
	m, err := manifest.Parse(data)
	if err != nil {
		c.Status = Fail
		var ve *manifest.ValidationError
		if errors.As(err, &ve) {
			c.Detail = fmt.Sprintf("%s manifest has %d problems", source, len(ve.Problems))
			for _, p := range ve.Problems {
				c.Notes = append(c.Notes, p.Error())
			}
			c.Notes = noteList(c.Notes)
			return c
		}
		c.Detail = err.Error()
		return c
	}
	r.Module, r.Version = m.Name, m.Version
	v.name = m.Name
	if err := m.VerifyCode(v.wasm); err != nil {
		c.Status, c.Detail = Fail, err.Error()
		return c
	}
	v.man = m
	for _, in := range m.Inputs {
		ts, _ := in.Types() // validated
		v.inputs = append(v.inputs, inputSpec{col: in, types: ts})
	}
	for i := range v.inputs {
		if m.Config != nil {
			v.inputs[i].name = v.inputs[i].col.NameUnder(m.Config.Example)
		} else {
			v.inputs[i].name = v.inputs[i].col.Name
		}
	}
	digest := "no code_sha256"
	if m.CodeSHA256 != "" {
		digest = "code_sha256 matches"
	}
	c.Status = Pass
	c.Detail = fmt.Sprintf("%s, well-formed: %s %s (%s, %s), %d inputs, %d outputs, %d vectors; %s",
		source, m.Name, m.Version, m.Language, m.License, len(m.Inputs), len(m.Outputs), len(m.Vectors), digest)
	return c
}

// sweepConfig is the configuration the sweep and admission load with.
func (v *vetter) sweepConfig() []byte {
	if v.man == nil || v.man.Config == nil {
		return nil
	}
	return v.man.Config.Example
}

func (v *vetter) load(ctx context.Context, cfg []byte, pool int, interp bool) (*host.UDF, error) {
	opts := []host.Option{
		host.WithName(v.name), host.WithPoolSize(pool), host.WithLogger(v.cfg.logger),
		host.WithTimeout(v.cfg.timeout), host.WithAllocator(v.cfg.alloc),
	}
	if len(bytes.TrimSpace(cfg)) > 0 {
		opts = append(opts, host.WithConfig(cfg))
	}
	if v.cfg.cache != nil {
		opts = append(opts, host.WithCompilationCache(v.cfg.cache))
	}
	if interp {
		opts = append(opts, host.WithInterpreter())
	}
	return host.Load(ctx, v.wasm, opts...)
}

// checkAdmission runs the host's admission and one instantiation.
func (v *vetter) checkAdmission(ctx context.Context) (c Check) {
	c = Check{Name: CheckAdmission}
	defer timed(&c, time.Now())
	secs, err := manifest.Sections(v.wasm)
	if err != nil {
		c.Status, c.Detail = Fail, err.Error()
		return c
	}
	imports, err := parseImports(secs)
	if err != nil {
		c.Status, c.Detail = Fail, fmt.Sprintf("reading the import section: %v", err)
		return c
	}
	v.imports = secs
	u, err := v.load(ctx, v.sweepConfig(), 1, false)
	if err != nil {
		c.Status, c.Detail = Fail, err.Error()
		if v.man != nil && v.man.Config != nil && len(v.sweepConfig()) > 0 {
			c.Notes = []string{"loaded with config.example " + string(v.sweepConfig())}
		}
		return c
	}
	defer u.Close(context.WithoutCancel(ctx))
	v.describe = u.Description()
	var names []string
	for _, im := range imports {
		names = append(names, im.Name)
	}
	c.Status = Pass
	c.Detail = fmt.Sprintf("ABI v%d, %s, %d imports (%s)", abi.Version, sizeString(int64(len(v.wasm))), len(imports), strings.Join(names, ", "))
	if len(imports) == 0 {
		c.Detail = fmt.Sprintf("ABI v%d, %s, no imports", abi.Version, sizeString(int64(len(v.wasm))))
	}
	c.Metrics = map[string]float64{"module_bytes": float64(len(v.wasm)), "imports": float64(len(imports))}
	return c
}

// checkDescription compares the module's wasinfer_describe, when it has
// one, with the manifest's name and version.
func (v *vetter) checkDescription(c *Check) {
	d := v.describe
	if d == nil {
		return
	}
	var desc struct{ Name, Version string }
	if err := json.Unmarshal(d, &desc); err != nil {
		c.Status, c.Detail = Fail, fmt.Sprintf("wasinfer_describe returned invalid JSON: %v", err)
		return
	}
	if desc.Name != "" && desc.Name != v.man.Name || desc.Version != "" && desc.Version != v.man.Version {
		c.Status = Fail
		c.Detail = fmt.Sprintf("the module describes itself as %s %s, the manifest as %s %s: rebuild the module or fix the manifest", desc.Name, desc.Version, v.man.Name, v.man.Version)
	}
}

func (v *vetter) checkCapabilities() (c Check) {
	c = Check{Name: CheckCapabilities}
	defer timed(&c, time.Now())
	imports, _ := parseImports(v.imports)
	detail, notes, ok := capabilityCheck(v.man.Capabilities, imports)
	c.Status, c.Detail, c.Notes = Fail, detail, notes
	if ok {
		c.Status = Pass
	}
	return c
}

// outcome is one run of one batch.
type outcome struct {
	out arrow.RecordBatch // nil on error
	err error
}

func (o outcome) release() {
	if o.out != nil {
		o.out.Release()
	}
}

func run(ctx context.Context, u *host.UDF, seq int64, rec arrow.RecordBatch) outcome {
	out, err := u.Transform(ctx, seq, rec)
	return outcome{out: out, err: err}
}

// errorText is an error for comparison and messages: the guest's message
// for a guest error, else the whole error.
func errorText(err error) string {
	var ue *host.UDFError
	if errors.As(err, &ue) {
		return ue.Kind.String() + ": " + ue.Message
	}
	return err.Error()
}

// compareRuns checks that b (another instance or engine) agrees with a.
// NaN payloads may differ (WebAssembly leaves them unspecified); every
// other bit must match.
func compareRuns(a, b outcome) string {
	switch {
	case a.err != nil && b.err != nil:
		if ea, eb := errorText(a.err), errorText(b.err); ea != eb {
			return fmt.Sprintf("errors differ: %q vs %q", ea, eb)
		}
		return ""
	case a.err != nil:
		return fmt.Sprintf("failed once (%s) and succeeded once", errorText(a.err))
	case b.err != nil:
		return fmt.Sprintf("succeeded once and failed once (%s)", errorText(b.err))
	}
	if err := equalBatches(b.out, a.out, nil); err != nil {
		if err2 := equalAnyNaN(b.out, a.out); err2 != nil {
			return err2.Error()
		}
	}
	return ""
}

// determinismRuns runs rec on instance A and B of u (pool of 2: the pool
// hands out its instances in turn) and, when interp is not nil, on the
// interpreter; it records the comparison and returns A's outcome (the
// caller releases it).
//
// The first call of a set runs the batch once more on the pool's first
// instance and discards the result, so that from then on the instances
// compared have served different numbers of batches: state kept from
// batch to batch shows as a difference.
func (v *vetter) determinismRuns(ctx context.Context, set *udfSet, seq int64, rec arrow.RecordBatch, label string) outcome {
	u, interp := set.compiled, set.interp
	if set.warm {
		set.warm = false
		run(ctx, u, seq, rec).release()
	}
	a := run(ctx, u, seq, rec)
	b := run(ctx, u, seq, rec)
	v.detRuns++
	if d := compareRuns(a, b); d != "" {
		v.detNotes = append(v.detNotes, fmt.Sprintf("%s: two instances disagree: %s", label, d))
	}
	b.release()
	if interp != nil {
		c := run(ctx, interp, seq, rec)
		v.detInterp++
		if d := compareRuns(a, c); d != "" {
			v.detNotes = append(v.detNotes, fmt.Sprintf("%s: compiler and interpreter disagree: %s", label, d))
		}
		c.release()
	}
	return a
}

func (v *vetter) determinism() Check {
	c := Check{Name: CheckDeterminism, Status: Pass}
	c.Metrics = map[string]float64{"inputs": float64(v.detRuns), "interpreter_inputs": float64(v.detInterp)}
	if len(v.detNotes) > 0 {
		c.Status = Fail
		c.Detail = fmt.Sprintf("%d of %d inputs gave different results", len(v.detNotes), v.detRuns)
		c.Notes = noteList(v.detNotes)
		return c
	}
	c.Detail = fmt.Sprintf("%d inputs gave the same output on two instances, %d of them on the interpreter too", v.detRuns, v.detInterp)
	if v.detRuns == 0 {
		c.Status, c.Detail = Fail, "no input ran"
	}
	return c
}

// conform checks an output against the declared outputs. dims holds the
// sizes the inputs bound; it is not modified.
func (v *vetter) conform(out arrow.RecordBatch, in *arrow.Schema, dims map[string]int, cfg []byte) string {
	bound := map[string]int{}
	for k, n := range dims {
		bound[k] = n
	}
	named := map[string]bool{}
	for _, f := range in.Fields() {
		named[f.Name] = true
	}
	for _, col := range v.man.Outputs {
		if col.Name != "*" {
			named[col.NameUnder(cfg)] = true
		}
	}
	for _, col := range v.man.Outputs {
		if col.Name == "*" {
			for i, f := range out.Schema().Fields() {
				if !named[f.Name] {
					if d := v.conformColumn(col, f.Name, f.Type, out.Column(i), bound); d != "" {
						return d
					}
				}
			}
			continue
		}
		name := col.NameUnder(cfg)
		idx := out.Schema().FieldIndices(name)
		if len(idx) == 0 {
			if col.Optional {
				continue
			}
			return fmt.Sprintf("the output has no column %q (declared in outputs); it has %s", name, columnNames(out.Schema()))
		}
		f := out.Schema().Field(idx[0])
		if d := v.conformColumn(col, name, f.Type, out.Column(idx[0]), bound); d != "" {
			return d
		}
	}
	return ""
}

// conformColumn checks one output column against its declaration, binding
// symbolic dims in bound.
func (v *vetter) conformColumn(col manifest.Column, name string, dt arrow.DataType, arr arrow.Array, bound map[string]int) string {
	{
		ts, _ := col.Types()
		var why string
		matched := false
		for _, t := range ts {
			try := map[string]int{}
			for k, n := range bound {
				try[k] = n
			}
			if why = matchType(t, dt, try); why == "" {
				for k, n := range try {
					bound[k] = n
				}
				matched = true
				break
			}
		}
		if !matched {
			return fmt.Sprintf("output column %q: %s", name, why)
		}
		if n := arr.NullN(); n > 0 && !col.Nullable {
			return fmt.Sprintf("output column %q has %d nulls but is declared not nullable", name, n)
		}
	}
	return ""
}

func columnNames(s *arrow.Schema) string {
	names := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		names[i] = fmt.Sprintf("%q", f.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// inputDims binds the symbolic dims of the declared inputs from a batch's
// schema (best effort: unmatched columns bind nothing).
func (v *vetter) inputDims(s *arrow.Schema, cfg []byte) map[string]int {
	dims := map[string]int{}
	for _, in := range v.inputs {
		idx := s.FieldIndices(in.col.NameUnder(cfg))
		if len(idx) == 0 {
			continue
		}
		for _, t := range in.types {
			try := map[string]int{}
			for k, n := range dims {
				try[k] = n
			}
			if matchType(t, s.Field(idx[0]).Type, try) == "" {
				dims = try
				break
			}
		}
	}
	return dims
}

// readIPC decodes every batch of an Arrow IPC file (the caller releases
// them). The bytes come from the module's manifest, untrusted: the dataset
// package checks their metadata before arrow-go decodes it.
func (v *vetter) readIPC(ref string) ([]arrow.RecordBatch, error) {
	data, err := manifest.ReadVector(v.cfg.dir, ref)
	if err != nil {
		return nil, err
	}
	return dataset.ReadIPCFile(ref, data, v.cfg.alloc)
}

// udfSet is the UDFs loaded for one configuration: a pool of two under the
// compiler and one instance under the interpreter.
type udfSet struct {
	compiled, interp *host.UDF
	// warm is true until the first batch has been run once more on the
	// pool's first instance (see determinismRuns).
	warm bool
}

func (s udfSet) close(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	if s.compiled != nil {
		_ = s.compiled.Close(ctx)
	}
	if s.interp != nil {
		_ = s.interp.Close(ctx)
	}
}

func (v *vetter) loadSet(ctx context.Context, cfg []byte, interp bool) (udfSet, error) {
	var s udfSet
	var err error
	if s.compiled, err = v.load(ctx, cfg, 2, false); err != nil {
		return s, err
	}
	s.warm = true
	if interp {
		if s.interp, err = v.load(ctx, cfg, 1, true); err != nil {
			s.close(ctx)
			return udfSet{}, fmt.Errorf("under the interpreter: %w", err)
		}
	}
	return s, nil
}

func (v *vetter) checkVectors(ctx context.Context) (c Check) {
	c = Check{Name: CheckVectors}
	defer timed(&c, time.Now())
	if len(v.man.Vectors) == 0 {
		c.Status, c.Detail = Fail, "the manifest declares no test vectors: a vetted module has at least one"
		return c
	}
	var notes []string
	batches, failed := 0, 0
	for i, vec := range v.man.Vectors {
		label := vec.Name
		if label == "" {
			label = fmt.Sprintf("vector %d", i+1)
		}
		n, problems := v.runVector(ctx, vec, label)
		batches += n
		if len(problems) > 0 {
			failed++
			notes = append(notes, problems...)
		}
	}
	c.Metrics = map[string]float64{"vectors": float64(len(v.man.Vectors)), "batches": float64(batches)}
	if failed > 0 {
		c.Status = Fail
		c.Detail = fmt.Sprintf("%d of %d vectors failed", failed, len(v.man.Vectors))
		c.Notes = noteList(notes)
		return c
	}
	exact := "bit-exact"
	for _, vec := range v.man.Vectors {
		if vec.Tolerance != nil {
			exact = "bit-exact or within their tolerance"
			break
		}
	}
	c.Status = Pass
	c.Detail = fmt.Sprintf("%d vectors (%d batches) passed, %s", len(v.man.Vectors), batches, exact)
	return c
}

// runVector runs one vector; it returns the batches run and the problems.
func (v *vetter) runVector(ctx context.Context, vec manifest.Vector, label string) (int, []string) {
	ins, err := v.readIPC(vec.Input)
	if err != nil {
		return 0, []string{fmt.Sprintf("%s: input: %v", label, err)}
	}
	defer releaseRecs(ins)
	var wants []arrow.RecordBatch
	if vec.Error == "" {
		if wants, err = v.readIPC(vec.Output); err != nil {
			return 0, []string{fmt.Sprintf("%s: output: %v", label, err)}
		}
		defer releaseRecs(wants)
		if len(wants) != len(ins) {
			return 0, []string{fmt.Sprintf("%s: the output file has %d batches for %d input batches", label, len(wants), len(ins))}
		}
	}
	set, err := v.loadSet(ctx, vec.Config, true)
	if err != nil {
		if vec.Error != "" && strings.Contains(err.Error(), vec.Error) {
			return 0, nil // a configuration the module must refuse
		}
		return 0, []string{fmt.Sprintf("%s: loading with config %s: %v", label, compactJSON(vec.Config), err)}
	}
	defer set.close(ctx)
	var problems []string
	for i, in := range ins {
		where := label
		if len(ins) > 1 {
			where = fmt.Sprintf("%s, batch %d", label, i)
		}
		o := v.determinismRuns(ctx, &set, int64(i), in, where)
		switch {
		case vec.Error != "" && o.err == nil:
			problems = append(problems, fmt.Sprintf("%s: succeeded, want an error containing %q", where, vec.Error))
		case vec.Error != "":
			if !strings.Contains(errorText(o.err), vec.Error) {
				problems = append(problems, fmt.Sprintf("%s: error %q does not contain %q", where, errorText(o.err), vec.Error))
			}
		case o.err != nil:
			problems = append(problems, fmt.Sprintf("%s: %v", where, o.err))
		default:
			if err := equalBatches(o.out, wants[i], vec.Tolerance); err != nil {
				problems = append(problems, fmt.Sprintf("%s: output differs from the expected output: %v", where, err))
			} else if d := v.conform(o.out, in.Schema(), v.inputDims(in.Schema(), vec.Config), vec.Config); d != "" {
				problems = append(problems, fmt.Sprintf("%s: %s", where, d))
			}
		}
		o.release()
	}
	return len(ins), problems
}

func compactJSON(b []byte) string {
	if len(b) == 0 {
		return "(none)"
	}
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}

func releaseRecs(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// checkRobustness runs the sweep; determinism and timing are recorded on
// the way.
func (v *vetter) checkRobustness(ctx context.Context) Check {
	c := Check{Name: CheckRobustness}
	seed := v.cfg.seed
	rng := rand.New(rand.NewPCG(seed, 0x7e7))
	g := &gen{mem: v.cfg.alloc, rng: rng, s: v.cfg.sweep.s}
	classes := map[string]int{}
	for _, vr := range plan(v.inputs, v.cfg.sweep.s, rng) {
		if ctx.Err() != nil {
			break
		}
		v.sweepVariant(ctx, g, vr, classes)
	}
	c.Metrics = map[string]float64{"batches": float64(v.robRuns)}
	if len(v.robNotes) > 0 {
		c.Status = Fail
		c.Detail = fmt.Sprintf("%d of %d sweep batches failed", len(v.robNotes), v.robRuns)
		c.Notes = noteList(v.robNotes)
		return c
	}
	var parts []string
	for _, cl := range manifest.InputClasses {
		if n := classes[cl]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", cl, n))
		}
	}
	c.Status = Pass
	c.Detail = fmt.Sprintf("%d sweep batches (%s) without a trap, bad output or undeclared error", v.robRuns, strings.Join(parts, ", "))
	return c
}

func (v *vetter) sweepVariant(ctx context.Context, g *gen, vr variant, classes map[string]int) {
	// The interpreter runs the typical variant but its large batch.
	set, err := v.loadSet(ctx, v.sweepConfig(), vr.name == "typical")
	if err != nil {
		v.robNotes = append(v.robNotes, fmt.Sprintf("%s: loading: %v", vr.name, err))
		return
	}
	defer set.close(ctx)
	for i, class := range vr.classes {
		b, err := g.build(vr, v.inputs, class)
		if err != nil {
			v.robNotes = append(v.robNotes, fmt.Sprintf("%s/%s: %v", vr.name, class, err))
			continue
		}
		classes[class]++
		v.robRuns++
		s := set
		if class == manifest.ClassLarge {
			s.interp = nil
		}
		o := v.determinismRuns(ctx, &s, int64(i), b.rec, "sweep "+b.label())
		set.warm = s.warm
		if note := v.judge(b, o, vr.dims); note != "" {
			v.robNotes = append(v.robNotes, note)
		}
		o.release()
		if class == manifest.ClassLarge && o.err == nil {
			v.time(ctx, set.compiled, b.rec)
		}
		b.rec.Release()
	}
}

// judge decides whether one sweep outcome is acceptable; "" when it is.
func (v *vetter) judge(b sweepBatch, o outcome, dims map[string]int) string {
	where := "sweep " + b.label()
	if o.err == nil {
		if d := v.conform(o.out, b.rec.Schema(), dims, v.sweepConfig()); d != "" {
			return where + ": " + d
		}
		return ""
	}
	var ue *host.UDFError
	if !errors.As(o.err, &ue) || ue.Kind != host.KindGuest {
		return fmt.Sprintf("%s: %v", where, o.err)
	}
	if strings.TrimSpace(ue.Message) == "" {
		return fmt.Sprintf("%s: error status %s without a message", where, ue.Status)
	}
	for _, rj := range v.man.Rejects {
		if rj.Class != b.class || (rj.Column != "" && !b.carries[rj.Column]) {
			continue
		}
		if strings.Contains(ue.Message, rj.Message) {
			return ""
		}
		return fmt.Sprintf("%s: refused with %q, but the declared rejection of %s expects a message containing %q", where, ue.Message, b.class, rj.Message)
	}
	return fmt.Sprintf("%s: refused (status %s: %s), and the manifest declares no rejection of class %s: handle the input or declare it in rejects", where, ue.Status, ue.Message, b.class)
}

// time measures the ns per row of rec: the best of three runs.
func (v *vetter) time(ctx context.Context, u *host.UDF, rec arrow.RecordBatch) {
	if rec.NumRows() == 0 {
		return
	}
	best := math.Inf(1)
	for range 3 {
		start := time.Now()
		out, err := u.Transform(ctx, 0, rec)
		d := time.Since(start)
		if err != nil {
			return
		}
		out.Release()
		best = min(best, float64(d.Nanoseconds())/float64(rec.NumRows()))
	}
	if v.timedRows == 0 || best < v.nsPerRow {
		v.nsPerRow, v.timedRows = best, rec.NumRows()
	}
}

func (v *vetter) checkResources() Check {
	c := Check{Name: CheckResources, Status: Pass}
	peak := int64(v.mem.peak.Load())
	declared := v.man.Resources
	c.Metrics = map[string]float64{"peak_memory_bytes": float64(peak), "ns_per_row": v.nsPerRow, "declared_memory_bytes": float64(declared.MemoryBytes), "declared_ns_per_row": float64(declared.NsPerRow)}
	memOK := peak <= declared.MemoryBytes
	parts := []string{fmt.Sprintf("peak memory %s of %s declared", sizeString(peak), sizeString(declared.MemoryBytes))}
	if !memOK {
		c.Notes = append(c.Notes, fmt.Sprintf("an instance's linear memory reached %d bytes, above resources.memory_bytes %d: raise the hint or use less memory", peak, declared.MemoryBytes))
	}
	limit := float64(declared.NsPerRow) * v.cfg.timeFactor
	switch {
	case v.timedRows == 0:
		parts = append(parts, "time not measured (no large sweep batch succeeded)")
		c.Notes = append(c.Notes, "the time per row is measured on the sweep's large batch, which did not run")
		memOK = false
	case v.nsPerRow > limit:
		parts = append(parts, fmt.Sprintf("%.0f ns/row, above %d declared ×%g", v.nsPerRow, declared.NsPerRow, v.cfg.timeFactor))
		c.Notes = append(c.Notes, fmt.Sprintf("measured %.0f ns per row over %d rows (best of 3), more than %g times resources.ns_per_row %d: raise the hint or make it faster", v.nsPerRow, v.timedRows, v.cfg.timeFactor, declared.NsPerRow))
		memOK = false
	default:
		parts = append(parts, fmt.Sprintf("%.0f ns/row within %d declared ×%g", v.nsPerRow, declared.NsPerRow, v.cfg.timeFactor))
	}
	if !memOK || len(c.Notes) > 0 {
		c.Status = Fail
	}
	c.Detail = strings.Join(parts, "; ")
	return c
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// equalAnyNaN compares like equalBatches without a tolerance, except that
// any NaN equals any NaN.
func equalAnyNaN(got, want arrow.RecordBatch) error {
	if err := equalSchemas(got, want); err != nil {
		return err
	}
	if got.NumRows() != want.NumRows() {
		return fmt.Errorf("%d rows, want %d", got.NumRows(), want.NumRows())
	}
	for c, f := range want.Schema().Fields() {
		for r := range int(want.NumRows()) {
			if d := diffTol(got.Column(c), r, want.Column(c), r, nil); d != "" {
				return fmt.Errorf("column %q, row %d%s", f.Name, r, d)
			}
		}
	}
	return nil
}
