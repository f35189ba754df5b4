//go:build cgo

package reliability

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync/atomic"
	"testing"
	_ "unsafe" // go:linkname

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wasinfer/wasinfer/dataset"
	"github.com/wasinfer/wasinfer/scheduler"
)

// gpuTestHookRun is package gpu's own test hook (gpu/actor.go: testHookRun,
// run in the actor before each batch), reached from here to inject a crash
// inside a real actor: a panic there is what the actor recovers as a crash,
// restarting its ONNX Runtime session. gpu exports no fault-injection
// option; this is the only way in without editing gpu. Set it only while no
// model stage runs.
//
//go:linkname gpuTestHookRun github.com/wasinfer/wasinfer/gpu.testHookRun
var gpuTestHookRun func(actor int, seq int64)

func setCrashHook(t *testing.T, h func(actor int, seq int64)) {
	t.Helper()
	gpuTestHookRun = h
	t.Cleanup(func() { gpuTestHookRun = nil })
}

// TestModelActorCrash: a model actor that crashes (a panic injected inside
// the actor, before its run) is restarted with a fresh session and the
// scheduler retries the batch: the run completes with every row equal to a
// clean run's. A failure that repeats on every attempt of one batch (the
// crash injected at every call of that batch) reaches the dead-letter output
// after exactly Retries+1 attempts, with its rows, and the run goes on.
func TestModelActorCrash(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	digitsInput(t, dir, 1)
	input := filepath.Join(dir, "input")
	want, _ := cleanRun(t, input)

	t.Run("restarted and retried", func(t *testing.T) {
		var calls, crashes atomic.Int64
		crashAt := pick[int64](5, 5)
		setCrashHook(t, func(_ int, _ int64) {
			if calls.Add(1)%crashAt == 0 && crashes.Load() < 3 {
				crashes.Add(1)
				panic("injected crash")
			}
		})
		out := filepath.Join(dir, "crash")
		sum, err := runDigits(ctx, runSpec{Input: input, Output: out}, nil, []scheduler.StageOption{scheduler.Retries(2)})
		if err != nil {
			t.Fatal(err)
		}
		model := sum.Stages[1]
		if crashes.Load() != 3 || model.Retries != 3 || model.DeadLetterRows != 0 {
			t.Errorf("%d crashes, %d retries, %d dead letters; want 3, 3, 0", crashes.Load(), model.Retries, model.DeadLetterRows)
		}
		checkExactlyOnce(t, out, want)
		record(t, "faults", "model actor crash", fmt.Sprintf("%d injected actor crashes in %d model calls: each actor restarted and its batch retried (%d retries), the run completed, %d rows equal a clean run's",
			crashes.Load(), calls.Load(), model.Retries, len(want)), "TestModelActorCrash", nil)
	})

	t.Run("deterministic failure to dead letters", func(t *testing.T) {
		const retries = 2
		// Batch 0 of every split (its rows 0..15) fails on every attempt.
		// (Not the last batch: when every row of a split's last batch fails,
		// the scheduler sends an empty batch of the same sequence number
		// for the end of the split, which a hook that sees only the
		// sequence would fail too.)
		var attempts, calls atomic.Int64
		setCrashHook(t, func(_ int, seq int64) {
			calls.Add(1)
			if seq == 0 {
				attempts.Add(1)
				panic("injected crash on every attempt of batch 0")
			}
		})
		out, dead := filepath.Join(dir, "det"), filepath.Join(dir, "dead")
		sum, err := runDigits(ctx, runSpec{Input: input, Output: out, Dead: dead}, nil,
			[]scheduler.StageOption{scheduler.Retries(retries), scheduler.MaxErroredBatches(1000)})
		if err != nil {
			t.Fatal(err)
		}
		model := sum.Stages[1]
		splits := int64(len(want) / 30)
		if got := attempts.Load(); got != splits*(retries+1) {
			t.Errorf("%d attempts at the failing batches, want %d splits × %d", got, splits, retries+1)
		}
		good, _ := readOutput(t, out)
		dl := readDeadLetters(t, dead)
		if int64(len(dl)) != model.DeadLetterRows || len(good)+len(dl) != len(want) {
			t.Errorf("%d good rows + %d dead letters (summary %d), want %d in all", len(good), len(dl), model.DeadLetterRows, len(want))
		}
		maxAttempts := int32(0)
		for _, d := range dl {
			if d.attempts != retries+1 || d.stage != "classify" || d.batch != 0 {
				t.Errorf("dead letter %+v: want stage classify, batch 0, %d attempts", d, retries+1)
			}
			maxAttempts = max(maxAttempts, d.attempts)
		}
		for id, g := range good {
			if g != want[id] {
				t.Errorf("row %d differs from a clean run's", id)
			}
		}
		record(t, "faults", "deterministic model failure", fmt.Sprintf("one batch per split fails on every attempt: %d dead-letter rows after at most %d attempts each (Retries %d + 1), %d good rows equal a clean run's, %d model calls in all (no loop)",
			len(dl), maxAttempts, retries, len(good), calls.Load()), "TestModelActorCrash", nil)
	})
}

type deadLetter struct {
	stage    string
	attempts int32
	batch    int64
	err      string
}

// readDeadLetters reads the dead-letter sink's committed rows.
func readDeadLetters(t testing.TB, dir string) []deadLetter {
	t.Helper()
	ctx := context.Background()
	files, _ := filepath.Glob(filepath.Join(dir, "part-*.jsonl"))
	if len(files) == 0 {
		return nil
	}
	src, err := dataset.OpenJSONL(ctx, files, dataset.WithSchema(scheduler.DeadLetterSchema))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []deadLetter
	for _, sp := range src.Splits() {
		r, err := src.Open(ctx, sp)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := r.Read(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			st := column[*array.String](t, rec, "stage")
			at := column[*array.Int32](t, rec, "attempts")
			b := column[*array.Int64](t, rec, "batch")
			e := column[*array.String](t, rec, "error")
			for i := range int(rec.NumRows()) {
				out = append(out, deadLetter{st.Value(i), at.Value(i), b.Value(i), e.Value(i)})
			}
			rec.Release()
		}
		r.Close()
	}
	return out
}
