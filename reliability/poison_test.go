package reliability

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/host"
	"github.com/wasinfer/wasinfer/internal/corpus"
)

// failBatch is one row of an int32 column "fail" holding mode: poison.wasm
// corrupts its state and fails in that mode.
func failBatch(mem memory.Allocator, mode int32) arrow.RecordBatch {
	b := array.NewInt32Builder(mem)
	defer b.Release()
	b.Append(mode)
	col := b.NewArray()
	defer col.Release()
	s := arrow.NewSchema([]arrow.Field{{Name: "fail", Type: arrow.PrimitiveTypes.Int32}}, nil)
	return array.NewRecordBatch(s, []arrow.Array{col}, 1)
}

// TestNoPoisoning: after every kind of failure of poison.wasm (which first
// corrupts the state its output depends on), the next batch on the same
// pool gives exactly (internal/corpus.Equal: values, bits of floats,
// schema and metadata) the output of a fresh host.Load of the module on the
// same input. Run for corpus batches of every type; the fast part uses a
// subset of the corpus. A control (a plain error after corrupting, which
// leaves the instance in service) shows that a poisoned instance would be
// seen.
func TestNoPoisoning(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	modes := []struct {
		mode int32
		kind host.ErrorKind
		what string
	}{
		{1, host.KindTrap, "trap"}, {2, host.KindTimeout, "timeout"},
		// Growing to the limit a page at a time may take longer than the
		// deadline on a loaded machine: a timeout is as good a stop.
		{3, host.KindMemory, "memory limit"},
		{4, host.KindBadOutput, "forged output"}, {5, host.KindExit, "proc_exit"}, {6, host.KindGuest, "error status"},
		{7, host.KindMemory, "out-of-memory status"}, {8, host.KindBadOutput, "schema change"},
	}
	all := corpus.Batches(mem)
	defer func() {
		for _, c := range all {
			c.Batch.Release()
		}
	}()
	cases := all
	if !full() {
		keep := map[string]bool{"int64": true, "utf8": true, "struct": true, "sliced/list": true, "map": true}
		var sub []corpus.Case
		for _, c := range cases {
			if keep[c.Name] {
				sub = append(sub, c)
			}
		}
		if len(sub) < 4 {
			t.Fatalf("the corpus subset matched %d cases", len(sub))
		}
		cases = sub
	}
	opts := []host.Option{host.WithAllocator(mem), host.WithTimeout(time.Second), host.WithMemoryLimit(32 << 20)} // a second: a good batch must never time out, even under -race on a loaded machine
	checks := 0
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			fresh, err := loadGuest(ctx, t, ownGuest("poison"), opts...)
			if err != nil {
				t.Fatal(err)
			}
			want, err := fresh.Transform(ctx, 0, c.Batch)
			fresh.Close(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer want.Release()
			u, err := loadGuest(ctx, t, ownGuest("poison"), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer u.Close(ctx)
			got, err := u.Transform(ctx, 0, c.Batch) // fixes the output schema
			if err != nil {
				t.Fatal(err)
			}
			got.Release()
			for _, m := range modes {
				bad := failBatch(mem, m.mode)
				_, err := u.Transform(ctx, 1, bad)
				bad.Release()
				var ue *host.UDFError
				if !errors.As(err, &ue) || (ue.Kind != m.kind && (m.mode != 3 || ue.Kind != host.KindTimeout)) {
					t.Errorf("mode %d (%s): got %v, want kind %s", m.mode, m.what, err, m.kind)
				}
				got, err := u.Transform(ctx, 2, c.Batch)
				if err != nil {
					t.Fatalf("after %s: %v", m.what, err)
				}
				if err := corpus.Equal(want, got); err != nil {
					t.Errorf("after %s the output differs from a fresh instance's: %v", m.what, err)
				}
				got.Release()
				checks++
			}
			// The control: a plain error after corrupting leaves the
			// instance in service, and the next output shows it.
			bad := failBatch(mem, 9)
			_, err = u.Transform(ctx, 3, bad)
			bad.Release()
			var ue *host.UDFError
			if !errors.As(err, &ue) || ue.Kind != host.KindGuest {
				t.Fatalf("control: got %v, want a guest error", err)
			}
			got, err = u.Transform(ctx, 4, c.Batch)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Release()
			if c.Batch.NumRows() > 0 && corpus.Equal(want, got) == nil {
				t.Error("control: a corrupted instance gave a fresh instance's output: the test cannot see poisoning")
			}
		})
	}
	record(t, "hostile modules", "no poisoning", fmt.Sprintf("%d failure modes (trap, timeout, memory limit, forged output, proc_exit, error status, OOM status, schema change) × %d corpus batches: %d next batches equal a fresh instance's output bit for bit",
		len(modes), len(cases), checks), "TestNoPoisoning", nil)
}
