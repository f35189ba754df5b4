package host

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/abi"
)

// The failure-mode corpus lives in testdata/guests (README.md there lists
// each module and what it does).
func guest(t testing.TB, name string) []byte {
	t.Helper()
	return readGuest(t, filepath.Join("testdata", "guests", name+".wasm"))
}

func loadGuest(t testing.TB, name string, opts ...Option) (*UDF, error) {
	t.Helper()
	opts = append([]Option{WithName(name), WithPoolSize(1), WithCacheDir(testCacheDir), WithTimeout(2 * time.Second)}, opts...)
	return Load(context.Background(), guest(t, name), opts...)
}

// TestLoadRefused: modules that must be refused at load, with the message
// that tells the author what to do.
func TestLoadRefused(t *testing.T) {
	cases := []struct {
		guest string
		opts  []Option
		want  string
	}{
		{"abi_v2", nil, `udf "abi_v2": load: module targets wasinfer ABI v2; this host supports ABI v1: rebuild it with an SDK for ABI v1`},
		{"no_marker", nil, `udf "no_marker": load: not a wasinfer UDF: missing export wasinfer_abi_v1 (build it with a wasinfer SDK)`},
		{"missing_transform", nil, `udf "missing_transform": load: module lacks required exports wasinfer_transform (ABI v1 spec §2)`},
		{"missing_alloc", nil, `udf "missing_alloc": load: module lacks required exports wasinfer_alloc (ABI v1 spec §2)`},
		{"forbidden_import", nil, `udf "forbidden_import": load: module imports env.`},
		{"sock_import", nil, `udf "sock_import": load: module imports wasi_snapshot_preview1.sock_accept, which UDFs may not use: allowed imports are wasi_snapshot_preview1 functions except sock_*`},
		{"imported_memory", nil, `udf "imported_memory": load: module imports its memory; a UDF must export its own memory as "memory"`},
		{"command_module", nil, `udf "command_module": load: module is a WASI command (exports _start): build it as a reactor`},
		{"bad_signature", nil, `udf "bad_signature": load: export wasinfer_transform has signature`},
		{"ok_identity", []Option{WithMaxModuleBytes(10)}, `udf "ok_identity": load: module is `},
		{"ok_identity", []Option{WithPoolSize(0)}, `udf "ok_identity": load: pool size 0: want at least 1`},
	}
	for _, c := range cases {
		t.Run(c.guest, func(t *testing.T) {
			u, err := loadGuest(t, c.guest, c.opts...)
			if err == nil {
				u.Close(context.Background())
				t.Fatal("loaded; want refusal")
			}
			var ue *UDFError
			if !errors.As(err, &ue) || ue.Kind != KindLoad {
				t.Fatalf("got %v (%T), want a KindLoad *UDFError", err, err)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error:\n got  %s\n want %s…", err, c.want)
			}
		})
	}
}

func TestLoadNotWasm(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		wasm []byte
		want string
	}{
		{"text", []byte("hello, this is not wasm"), `udf "text": load: not a WebAssembly module (no \0asm header)`},
		{"component", []byte("\x00asm\x0d\x00\x01\x00"), `udf "component": load: WebAssembly binary version 0d000100 is not a core module (components are not supported)`},
		{"truncated", guest(t, "ok_identity")[:40], `udf "truncated": load: not a valid WebAssembly module: section 1 at byte 8 runs past the end of the module`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(ctx, c.wasm, WithName(c.name), WithCacheDir(testCacheDir))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error:\n got  %v\n want %s…", err, c.want)
			}
		})
	}
}

func TestConfigWithoutInit(t *testing.T) {
	_, err := loadGuest(t, "ok_identity", WithConfig([]byte(`{"a":1}`)))
	want := `udf "ok_identity": load: the stage passes configuration but the module has no wasinfer_init export`
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n got  %v\n want %s", err, want)
	}
}

// TestInitFailures: failures while creating instances are errors of Load.
func TestInitFailures(t *testing.T) {
	cases := []struct {
		guest string
		kind  ErrorKind
		want  string
	}{
		{"init_trap", KindInit, `udf "init_trap": init: `},
		{"init_error", KindInit, `udf "init_error": init (status INVALID_CONFIG): bad config: k`},
		{"init_loop", KindTimeout, `udf "init_loop": timeout: stopped after the 2s deadline`},
		{"initialize_trap", KindInit, `udf "initialize_trap": init: instantiating: `},
	}
	for _, c := range cases {
		t.Run(c.guest, func(t *testing.T) {
			u, err := loadGuest(t, c.guest)
			if err == nil {
				u.Close(context.Background())
				t.Fatal("loaded; want an init failure")
			}
			var ue *UDFError
			if !errors.As(err, &ue) || ue.Kind != c.kind {
				t.Fatalf("got %v, want kind %s", err, c.kind)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error:\n got  %s\n want %s…", err, c.want)
			}
		})
	}
}

func smallBatch(mem memory.Allocator) arrow.RecordBatch {
	b := array.NewInt32Builder(mem)
	defer b.Release()
	b.AppendValues([]int32{1, 2, 3, 4, 5}, []bool{true, true, false, true, true})
	col := b.NewArray()
	defer col.Release()
	s := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true}}, nil)
	return array.NewRecordBatch(s, []arrow.Array{col}, 5)
}

// TestTransformFailures: every failure of a call is a *UDFError of the
// documented kind, the host survives, and (except for guest statuses) the
// instance is replaced so the pool keeps serving.
func TestTransformFailures(t *testing.T) {
	cases := []struct {
		guest  string
		kind   ErrorKind
		status abi.Status
		want   string // prefix of the whole error
		limit  int64  // memory limit; 64 MiB when 0
	}{
		{"trap", KindTrap, 0, `udf "trap": batch 7: trap: wasm error: unreachable`, 0},
		{"error_status", KindGuest, abi.StatusError, `udf "error_status": batch 7: guest error (status ERROR): row 3: value too large`, 0},
		{"unsupported", KindGuest, abi.StatusUnsupportedInput, `udf "unsupported": batch 7: guest error (status UNSUPPORTED_INPUT)`, 0},
		{"oom_status", KindMemory, abi.StatusOutOfMemory, `udf "oom_status": batch 7: memory limit (status OUT_OF_MEMORY)`, 0},
		{"loop", KindTimeout, 0, `udf "loop": batch 7: timeout: stopped after the 2s deadline`, 0},
		{"loop_call", KindTimeout, 0, `udf "loop_call": batch 7: timeout: stopped after the 2s deadline`, 0},
		{"exp_calls", KindTimeout, 0, `udf "exp_calls": batch 7: timeout: stopped after the 2s deadline`, 0},
		{"bulk_memory", KindTimeout, 0, `udf "bulk_memory": batch 7: timeout: stopped after the 2s deadline`, 256 << 20},
		{"recursion", KindTrap, 0, `udf "recursion": batch 7: trap: stack overflow`, 0},
		{"memory_bomb", KindMemory, 0, `udf "memory_bomb": batch 7: memory limit`, 0},
		{"proc_exit", KindExit, 0, `udf "proc_exit": batch 7: exit: guest called proc_exit(3)`, 0},
		{"release_trap", KindTrap, 0, `udf "release_trap": batch 7: trap: in wasinfer_release: wasm error: unreachable`, 0},
	}
	for _, c := range cases {
		t.Run(c.guest, func(t *testing.T) {
			ctx := context.Background()
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			limit := c.limit
			if limit == 0 {
				limit = 64 << 20
			}
			opts := []Option{WithAllocator(mem), WithMemoryLimit(limit)}
			if c.kind != KindTimeout {
				// Only the timeout cases are about the deadline: growing
				// memory a MiB at a time to the limit takes a second or more
				// under -race on a loaded machine.
				opts = append(opts, WithTimeout(time.Minute))
			}
			u, err := loadGuest(t, c.guest, opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer u.Close(ctx)
			rec := smallBatch(mem)
			defer rec.Release()
			for attempt := range 2 { // the second call runs on the replacement
				out, err := u.Transform(ctx, 7, rec)
				if err == nil {
					out.Release()
					t.Fatalf("attempt %d: no error", attempt)
				}
				var ue *UDFError
				if !errors.As(err, &ue) || ue.Kind != c.kind || ue.Status != c.status {
					t.Fatalf("attempt %d: got %v, want kind %s status %s", attempt, err, c.kind, c.status)
				}
				if !strings.HasPrefix(err.Error(), c.want) {
					t.Fatalf("attempt %d: error:\n got  %s\n want %s…", attempt, err, c.want)
				}
				if got, want := ue.Replaced(), c.kind != KindGuest; got != want {
					t.Fatalf("Replaced() = %t, want %t", got, want)
				}
			}
		})
	}
}

// TestTrapDoesNotPoison: after a trap, the next batch on the same pool gives
// exactly the output of a fresh instance.
func TestTrapDoesNotPoison(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	u, err := loadGuest(t, "trap_every_other", WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close(ctx)
	rec := smallBatch(mem)
	defer rec.Release()
	var traps, oks int
	for i := range 6 {
		out, err := u.Transform(ctx, int64(i), rec)
		var ue *UDFError
		switch {
		case err == nil:
			if !array.RecordEqual(out, rec) {
				t.Fatalf("batch %d: output differs from input", i)
			}
			out.Release()
			oks++
		case errors.As(err, &ue) && ue.Kind == KindTrap:
			traps++
		default:
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	if traps == 0 || oks == 0 {
		t.Fatalf("%d traps and %d successes; want both", traps, oks)
	}
}

// TestBadOutputs: hostile output trees are refused by the validator, with
// the column and the rule, before anything is allocated for them.
func TestBadOutputs(t *testing.T) {
	cases := []struct{ guest, want string }{
		{"out_ptr_oob", "children pointer"},
		{"out_buffer_oob", "outside memory"},
		{"out_buffer_null", "buffer is NULL"},
		{"out_len_negative", "length -"},
		{"out_huge_length", "of 8796093022208 bytes outside memory"},
		{"out_offset_negative", "offset -"},
		{"out_offsets_decreasing", "offsets not non-decreasing"},
		{"out_offsets_past_data", "outside memory"},
		{"out_children_mismatch", "n_children"},
		{"out_nbuffers_wrong", "n_buffers"},
		{"out_format_unterminated", "not NUL-terminated"},
		{"out_format_bad", `format "+xyz" is not supported by ABI v1`},
		{"out_format_huge_param", `"w:99999999999"`},
		{"out_cycle", "nesting deeper than 32 levels"},
		{"out_deep", "nesting deeper than 32 levels"},
		{"out_too_many_columns", "n_children 100000"},
		{"out_dict_index_oob", "dictionary index 99"},
		{"out_bad_utf8", "not valid UTF-8"},
		{"out_metadata_oob", "metadata"},
		{"out_too_large", "output larger than the limit"},
		{"out_top_offset", "top-level offset 1, want 0"},
	}
	for _, c := range cases {
		t.Run(c.guest, func(t *testing.T) {
			ctx := context.Background()
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			u, err := loadGuest(t, c.guest, WithAllocator(mem), WithMemoryLimit(64<<20))
			if err != nil {
				t.Fatal(err)
			}
			defer u.Close(ctx)
			rec := smallBatch(mem)
			defer rec.Release()
			out, err := u.Transform(ctx, 1, rec)
			if err == nil {
				out.Release()
				t.Fatal("bad output accepted")
			}
			var ue *UDFError
			if !errors.As(err, &ue) || ue.Kind != KindBadOutput {
				t.Fatalf("got %v, want a bad-output error", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
		})
	}
}

func TestValidOutputControl(t *testing.T) {
	ctx := context.Background()
	u, err := loadGuest(t, "out_valid_small")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close(ctx)
	rec := smallBatch(memory.DefaultAllocator)
	defer rec.Release()
	out, err := u.Transform(ctx, 0, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if out.NumRows() != 5 || out.NumCols() != 1 || out.Column(0).NullN() != 1 {
		t.Fatalf("control output: %v", out)
	}
}

func TestOutputSchemaChange(t *testing.T) {
	ctx := context.Background()
	u, err := loadGuest(t, "out_schema_changes")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close(ctx)
	rec := smallBatch(memory.DefaultAllocator)
	defer rec.Release()
	out, err := u.Transform(ctx, 0, rec)
	if err != nil {
		t.Fatal(err)
	}
	out.Release()
	_, err = u.Transform(ctx, 1, rec)
	want := `udf "out_schema_changes": batch 1: bad output: output schema changed at batch 1: column "a" has type utf8, earlier batches had int64`
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n got  %v\n want %s", err, want)
	}
}

func TestErrorMessageCapped(t *testing.T) {
	msg := guestErrorMessage(t, "error_long")
	if n := len(msg); n > abi.MaxErrorMessage+64 || !strings.HasSuffix(msg, "(message cut at 64 KiB)") {
		t.Fatalf("message of %d bytes, suffix %q", n, msg[max(0, n-40):])
	}
}

// TestRecycleAboveThreshold: an instance whose memory grew past the
// threshold serves its batch, then is replaced.
func TestRecycleAboveThreshold(t *testing.T) {
	ctx := context.Background()
	u, err := loadGuest(t, "memory_grow_ok", WithMemoryLimit(512<<20), WithTimeout(time.Minute)) // growing to 400 MiB takes seconds under -race
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close(ctx)
	rec := smallBatch(memory.DefaultAllocator)
	defer rec.Release()
	for i := range 2 {
		out, err := u.Transform(ctx, int64(i), rec)
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		out.Release()
		inst := <-u.slots
		u.slots <- inst
		if inst == nil || inst.mem.Size() > 64<<20 {
			t.Fatalf("batch %d: the grown instance was not replaced", i)
		}
	}
}

// TestSandbox: what a guest sees when it reaches for files, environment and
// clocks, and that its output reaches the log tagged with its name.
func TestSandbox(t *testing.T) {
	ctx := context.Background()
	rec := smallBatch(memory.DefaultAllocator)
	defer rec.Release()
	for _, c := range []struct{ guest, want string }{
		{"fs_probe", "errno"},
		{"env_probe", "environ_sizes_get errno=0 count=0"},
		{"clock_probe", "1640995200"},
	} {
		t.Run(c.guest, func(t *testing.T) {
			u, err := loadGuest(t, c.guest)
			if err != nil {
				t.Fatal(err)
			}
			defer u.Close(ctx)
			_, err = u.Transform(ctx, 0, rec)
			var ue *UDFError
			if !errors.As(err, &ue) || ue.Kind != KindGuest {
				t.Fatalf("got %v, want the probe's report as a guest error", err)
			}
			t.Logf("%s saw: %s", c.guest, ue.Message)
			if !strings.Contains(ue.Message, c.want) {
				t.Fatalf("probe report %q lacks %q", ue.Message, c.want)
			}
		})
	}
	t.Run("stdout_spam", func(t *testing.T) {
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		u, err := loadGuest(t, "stdout_spam", WithLogger(logger))
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close(ctx)
		out, err := u.Transform(ctx, 0, rec)
		if err != nil {
			t.Fatal(err)
		}
		out.Release()
		if !strings.Contains(logs.String(), "udf=stdout_spam stream=stdout") || !strings.Contains(logs.String(), "lines dropped") {
			t.Fatalf("log lacks tagged lines or the drop notice:\n%.2000s", logs.String())
		}
	})
}

// TestDeadlineCancel: a caller's cancellation stops a running guest.
func TestDeadlineCancel(t *testing.T) {
	u, err := loadGuest(t, "loop", WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close(context.Background())
	rec := smallBatch(memory.DefaultAllocator)
	defer rec.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = u.Transform(ctx, 0, rec)
	var ue *UDFError
	if !errors.As(err, &ue) || (ue.Kind != KindTimeout && ue.Kind != KindCanceled) {
		t.Fatalf("got %v", err)
	}
}

// TestLastErrorFailureIsTransient: when wasinfer_last_error itself traps or
// runs past the deadline, the failure is that call's (trap, timeout), not a
// guest error: the instance is replaced and the scheduler may retry
// (Transient). Found by the reliability suite's last_error_loop guest.
func TestLastErrorFailureIsTransient(t *testing.T) {
	const deadline = 300 * time.Millisecond
	t.Run("transform", func(t *testing.T) {
		cases := []struct {
			guest string
			kind  ErrorKind
			want  string // the whole error
		}{
			{"last_error_trap", KindTrap, `udf "last_error_trap": batch 7: trap: in wasinfer_last_error (after status ERROR): wasm error: unreachable`},
			{"last_error_loop", KindTimeout, `udf "last_error_loop": batch 7: timeout: stopped after the 300ms deadline: in wasinfer_last_error (after status ERROR): stopped by the host: context deadline exceeded`},
		}
		for _, c := range cases {
			t.Run(c.guest, func(t *testing.T) {
				ctx := context.Background()
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				u, err := loadGuest(t, c.guest, WithAllocator(mem), WithTimeout(deadline))
				if err != nil {
					t.Fatal(err)
				}
				defer u.Close(ctx)
				rec := smallBatch(mem)
				defer rec.Release()
				for attempt := range 2 { // the second call runs on the replacement
					_, err := u.Transform(ctx, 7, rec)
					var ue *UDFError
					if !errors.As(err, &ue) || ue.Kind != c.kind {
						t.Fatalf("attempt %d: got %v, want kind %s", attempt, err, c.kind)
					}
					if err.Error() != c.want {
						t.Fatalf("attempt %d: error:\n got  %s\n want %s", attempt, err, c.want)
					}
					if !ue.Replaced() || !ue.Transient() {
						t.Fatalf("attempt %d: Replaced() = %t, Transient() = %t; want both true", attempt, ue.Replaced(), ue.Transient())
					}
				}
			})
		}
	})
	t.Run("init", func(t *testing.T) {
		u, err := loadGuest(t, "init_last_error_loop", WithTimeout(deadline))
		if err == nil {
			u.Close(context.Background())
			t.Fatal("loaded; want a timeout")
		}
		want := `udf "init_last_error_loop": timeout: stopped after the 300ms deadline: in wasinfer_last_error (after status INVALID_CONFIG): stopped by the host: context deadline exceeded`
		var ue *UDFError
		if !errors.As(err, &ue) || ue.Kind != KindTimeout || err.Error() != want {
			t.Fatalf("error:\n got  %v\n want %s", err, want)
		}
	})
}
