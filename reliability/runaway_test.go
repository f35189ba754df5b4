package reliability

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/host"
)

// runaway is a guest that never finishes on its own.
type runaway struct {
	name   string
	path   string
	inLoad bool             // the runaway code runs while instances are created (Load)
	kinds  []host.ErrorKind // what stopping it may report
	limit  int64            // memory limit; 64 MiB when 0
	shape  string
}

var runaways = []runaway{
	{"loop", hostGuest("loop"), false, []host.ErrorKind{host.KindTimeout}, 0, "tight loop, no calls"},
	{"loop_call", hostGuest("loop_call"), false, []host.ErrorKind{host.KindTimeout}, 0, "loop through a host call (random_get)"},
	{"sleep_loop", ownGuest("sleep_loop"), false, []host.ErrorKind{host.KindTimeout}, 0, "loop of one-hour poll_oneoff sleeps"},
	// Deep recursion ends in a stack overflow (a trap) or at the deadline,
	// whichever comes first.
	{"recursion", hostGuest("recursion"), false, []host.ErrorKind{host.KindTrap, host.KindTimeout}, 0, "unbounded recursion"},
	{"exp_calls", hostGuest("exp_calls"), false, []host.ErrorKind{host.KindTimeout}, 0, "loop-free call tree of 2^64 calls"},
	{"bulk_memory", hostGuest("bulk_memory"), false, []host.ErrorKind{host.KindTimeout}, 256 << 20, "memory.fill 128 MiB / memory.copy 64 MiB forever"},
	{"alloc_loop", ownGuest("alloc_loop"), false, []host.ErrorKind{host.KindTimeout}, 0, "wasinfer_alloc never returns"},
	{"release_loop", ownGuest("release_loop"), false, []host.ErrorKind{host.KindTimeout}, 0, "wasinfer_release never returns"},
	{"last_error_loop", ownGuest("last_error_loop"), false, []host.ErrorKind{host.KindTimeout}, 0, "wasinfer_last_error never returns"},
	{"init_loop", hostGuest("init_loop"), true, []host.ErrorKind{host.KindTimeout}, 0, "loop in wasinfer_init"},
	{"initialize_loop", ownGuest("initialize_loop"), true, []host.ErrorKind{host.KindTimeout}, 0, "loop in _initialize"},
	{"start_loop", ownGuest("start_loop"), true, []host.ErrorKind{host.KindTimeout}, 0, "loop in the start section"},
}

// TestRunawayStopped runs every shape of runaway guest under the host's real
// deadline (WithTimeout) several times and reports how long after the
// deadline the call returned (median and max). It asserts only that the
// guest was stopped, with the error kind of a stop, and that the pool then
// serves again; the latency is a figure, not a bound.
func TestRunawayStopped(t *testing.T) {
	const deadline = 200 * time.Millisecond
	runs := pick(3, 20)
	for _, g := range runaways {
		t.Run(g.name, func(t *testing.T) {
			ctx := context.Background()
			limit := g.limit
			if limit == 0 {
				limit = 64 << 20
			}
			opts := []host.Option{host.WithTimeout(deadline), host.WithMemoryLimit(limit)}
			var lat, trapped durations // past the deadline (timeouts); from the call (traps before it)
			kinds := map[string]int{}
			note := func(err error, elapsed time.Duration) {
				var ue *host.UDFError
				if errors.As(err, &ue) && ue.Kind != host.KindTimeout {
					trapped = append(trapped, elapsed)
					return
				}
				lat = append(lat, elapsed-deadline)
			}
			check := func(err error, what string) bool {
				var ue *host.UDFError
				if !errors.As(err, &ue) {
					t.Errorf("%s: got %v, want a *host.UDFError", what, err)
					return false
				}
				for _, k := range g.kinds {
					if ue.Kind == k {
						kinds[ue.Kind.String()]++
						return true
					}
				}
				t.Errorf("%s: kind %s (%v), want one of %v", what, ue.Kind, err, g.kinds)
				return false
			}
			if g.inLoad {
				for i := range runs {
					var err error
					start := time.Now()
					if !within(t, time.Minute, "Load", func() {
						var u *host.UDF
						u, err = loadGuest(ctx, t, g.path, opts...)
						if err == nil {
							u.Close(ctx)
						}
					}) {
						return
					}
					note(err, time.Since(start))
					if !check(err, fmt.Sprintf("load %d", i)) {
						return
					}
				}
			} else {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				u, err := loadGuest(ctx, t, g.path, append(opts, host.WithAllocator(mem))...)
				if err != nil {
					t.Fatal(err)
				}
				defer u.Close(ctx)
				rec := smallBatch(mem)
				defer rec.Release()
				for i := range runs {
					var err error
					start := time.Now()
					if !within(t, time.Minute, "Transform", func() {
						out, terr := u.Transform(ctx, int64(i), rec)
						if terr == nil {
							out.Release()
						}
						err = terr
					}) {
						return
					}
					note(err, time.Since(start))
					if !check(err, fmt.Sprintf("batch %d", i)) {
						return
					}
					var ue *host.UDFError
					if errors.As(err, &ue) && !ue.Replaced() {
						t.Errorf("batch %d: instance not replaced after %v", i, err)
					}
				}
			}
			text := fmt.Sprintf("%s: stopped %d/%d (%v)", g.shape, runs, runs, kinds)
			if len(lat) > 0 {
				text += fmt.Sprintf("; timeouts returned past the %v deadline: median %s, max %s", deadline, ms(lat.median()), ms(lat.max()))
			}
			if len(trapped) > 0 {
				text += fmt.Sprintf("; traps before it, after median %s, max %s", ms(trapped.median()), ms(trapped.max()))
			}
			record(t, "runaway", g.name, text,
				"TestRunawayStopped/"+g.name, map[string]any{
					"runs": runs, "deadline_ms": deadline.Milliseconds(), "kinds": kinds,
					"median_ms": float64(lat.median()) / 1e6, "max_ms": float64(lat.max()) / 1e6,
				})
		})
	}
}
