package host

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestEnginesAgree: every guest of the failure-mode corpus fails (or
// succeeds) the same way under the compiler and under the interpreter
// (WithInterpreter): the same kind and status at Load, and on each of two
// batches. vet's determinism check compares the two engines and reports a
// difference as the module's fault, so the host must not make one. Found by
// vet: a trap was "canceled" under the interpreter, because the call's
// context was canceled before the failure was classified.
func TestEnginesAgree(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "guests", "*.wasm"))
	if err != nil || len(paths) < 50 {
		t.Fatalf("the guest corpus: %d modules, %v", len(paths), err)
	}
	// The guests that run until the deadline stops them; the others get a
	// deadline they never reach, even growing memory under -race.
	runaway := map[string]bool{
		"loop": true, "loop_call": true, "exp_calls": true, "bulk_memory": true, "init_loop": true,
		"last_error_loop": true, "init_last_error_loop": true,
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".wasm")
		t.Run(name, func(t *testing.T) {
			opts := []Option{WithTimeout(time.Minute), WithMemoryLimit(64 << 20)}
			if runaway[name] {
				opts = []Option{WithTimeout(300 * time.Millisecond), WithMemoryLimit(256 << 20)}
			}
			compiler := outcomes(t, name, opts...)
			interpreter := outcomes(t, name, append(opts, WithInterpreter())...)
			if !slices.Equal(compiler, interpreter) {
				t.Fatalf("the engines disagree:\n compiler    %q\n interpreter %q", compiler, interpreter)
			}
			t.Logf("%q", compiler)
		})
	}
}

// outcomes loads a guest of the corpus and sends it two batches; it returns
// what each step gave: "ok", or the error's kind and status.
func outcomes(t *testing.T, name string, opts ...Option) []string {
	t.Helper()
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	what := func(step string, err error) string {
		var ue *UDFError
		switch {
		case err == nil:
			return step + ": ok"
		case errors.As(err, &ue):
			return fmt.Sprintf("%s: %s (status %s)", step, ue.Kind, ue.Status)
		}
		return fmt.Sprintf("%s: %v", step, err)
	}
	u, err := loadGuest(t, name, append(opts, WithAllocator(mem))...)
	if err != nil {
		return []string{what("load", err)}
	}
	defer u.Close(ctx)
	rec := smallBatch(mem)
	defer rec.Release()
	got := []string{what("load", nil)}
	for i := range 2 {
		out, err := u.Transform(ctx, int64(i), rec)
		if err == nil {
			out.Release()
		}
		got = append(got, what(fmt.Sprintf("batch %d", i), err))
	}
	return got
}
