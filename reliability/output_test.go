package reliability

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/host"
)

// The host corpus's hostile outputs (host/testdata/guests/README.md) and
// this suite's additions.
var hostileOutputs = []string{
	hostGuest("out_ptr_oob"), hostGuest("out_buffer_oob"), hostGuest("out_buffer_null"),
	hostGuest("out_len_negative"), hostGuest("out_huge_length"), hostGuest("out_offset_negative"),
	hostGuest("out_top_offset"), hostGuest("out_offsets_decreasing"), hostGuest("out_offsets_past_data"),
	hostGuest("out_children_mismatch"), hostGuest("out_nbuffers_wrong"), hostGuest("out_format_unterminated"),
	hostGuest("out_format_bad"), hostGuest("out_format_huge_param"), hostGuest("out_cycle"),
	hostGuest("out_deep"), hostGuest("out_too_many_columns"), hostGuest("out_dict_index_oob"),
	hostGuest("out_bad_utf8"), hostGuest("out_metadata_oob"), hostGuest("out_too_large"),
	ownGuest("out_name_oob"), ownGuest("out_buffers_oob"), ownGuest("out_nchildren_negative"),
	ownGuest("out_offset_overflow"), ownGuest("out_offset_wrap"), ownGuest("out_list_cycle"),
	ownGuest("out_dict_cycle"), ownGuest("out_list_child_short"), ownGuest("out_struct_child_short"),
	ownGuest("out_large_offsets_negative"),
}

// TestHostileOutputsRejected: every forged output tree (pointers, lengths,
// offsets, child counts, cycles, format strings, an output larger than the
// limit) is a bad-output error, and the host allocated nothing for it: the
// allocator the UDF's output comes from saw no allocation during the call.
// A schema that changes mid-run is refused the same way, after a first good
// batch.
func TestHostileOutputsRejected(t *testing.T) {
	ctx := context.Background()
	rejected, allocated := 0, int64(0)
	var messages []string
	for _, path := range hostileOutputs {
		name := strings.TrimSuffix(filepath.Base(path), ".wasm")
		t.Run(name, func(t *testing.T) {
			mem := newPeakAllocator()
			defer mem.AssertSize(t, 0)
			u, err := loadGuest(ctx, t, path, host.WithAllocator(mem), host.WithMemoryLimit(64<<20), host.WithTimeout(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			defer u.Close(ctx)
			rec := smallBatch(mem)
			defer rec.Release()
			mem.resetPeak()
			before := mem.CurrentAlloc()
			var out interface{ Release() }
			within(t, time.Minute, "Transform", func() {
				o, terr := u.Transform(ctx, 1, rec)
				if terr == nil {
					out = o
				}
				err = terr
			})
			if out != nil {
				out.Release()
				t.Fatal("hostile output accepted")
			}
			var ue *host.UDFError
			if !errors.As(err, &ue) || ue.Kind != host.KindBadOutput {
				t.Fatalf("got %v, want a bad-output error", err)
			}
			if !ue.Replaced() {
				t.Errorf("instance not replaced after %v", err)
			}
			if peak := mem.peakBytes() - int64(before); peak != 0 {
				t.Errorf("the host allocated %d bytes for an output it refused", peak)
				allocated += peak
			}
			rejected++
			messages = append(messages, name+": "+strings.TrimPrefix(err.Error(), fmt.Sprintf("udf %q: batch 1: bad output: ", name)))
		})
	}
	t.Run("out_schema_changes", func(t *testing.T) {
		mem := newPeakAllocator()
		defer mem.AssertSize(t, 0)
		u, err := loadGuest(ctx, t, hostGuest("out_schema_changes"), host.WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close(ctx)
		rec := smallBatch(mem)
		defer rec.Release()
		out, err := u.Transform(ctx, 0, rec)
		if err != nil {
			t.Fatal(err)
		}
		out.Release()
		mem.resetPeak()
		before := mem.CurrentAlloc()
		_, err = u.Transform(ctx, 1, rec)
		var ue *host.UDFError
		if !errors.As(err, &ue) || ue.Kind != host.KindBadOutput || !strings.Contains(err.Error(), "output schema changed at batch 1") {
			t.Fatalf("got %v, want a bad-output error naming the schema change", err)
		}
		if peak := mem.peakBytes() - int64(before); peak != 0 {
			t.Errorf("the host allocated %d bytes for an output it refused", peak)
		}
		rejected++
		messages = append(messages, "out_schema_changes: "+strings.TrimPrefix(err.Error(), `udf "out_schema_changes": batch 1: bad output: `))
	})
	t.Run("out_buffers_alias_struct", func(t *testing.T) {
		// The control: a values buffer over the output's own ArrowArray is
		// legal bytes; the host copies them and follows nothing.
		u, err := loadGuest(ctx, t, ownGuest("out_buffers_alias_struct"))
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
		if out.NumRows() != 8 || out.Column(0).(*array.Int64).Value(0) != 8 { // the ArrowArray starts with length = 8
			t.Fatalf("control output: %v", out)
		}
	})
	record(t, "hostile modules", "forged outputs", fmt.Sprintf("%d of %d hostile output trees rejected as bad output, %d bytes allocated for them, 0 panics",
		rejected, len(hostileOutputs)+1, allocated), "TestHostileOutputsRejected", map[string]any{"messages": messages})
}
