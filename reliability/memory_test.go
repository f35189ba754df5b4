package reliability

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/host"
)

// memCase is one memory bomb, run in a child process so that its resident
// memory is its own.
type memCase struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Limit   int64  `json:"limit"` // WithMemoryLimit; 0: the host's default (512 MiB)
	Pool    int    `json:"pool"`
	Batches int    `json:"batches"`
	InLoad  bool   `json:"in_load"` // the bomb goes off while instances are created
	What    string `json:"what"`
}

// memResult is what the child reports on stdout.
type memResult struct {
	BaseRSS int64    `json:"base_rss"` // before Load
	HWM     int64    `json:"hwm"`      // peak resident set at the end
	Kinds   []string `json:"kinds"`    // the error kind of each call ("ok" for a success)
	Errors  []string `json:"errors"`
}

func init() { children["memory"] = memoryChild }

func memoryChild(arg string) error {
	var c memCase
	if err := json.Unmarshal([]byte(arg), &c); err != nil {
		return err
	}
	ctx := context.Background()
	wasm, err := os.ReadFile(c.Path)
	if err != nil {
		return err
	}
	runtime.GC()
	debug.FreeOSMemory()
	var res memResult
	if res.BaseRSS, _, err = procStatus(); err != nil {
		return err
	}
	opts := []host.Option{host.WithName(c.Name), host.WithPoolSize(c.Pool), host.WithCacheDir(cacheDir), host.WithTimeout(5 * time.Minute)}
	if c.Limit > 0 {
		opts = append(opts, host.WithMemoryLimit(c.Limit))
	}
	note := func(err error) {
		var ue *host.UDFError
		switch {
		case err == nil:
			res.Kinds = append(res.Kinds, "ok")
		case errors.As(err, &ue):
			res.Kinds = append(res.Kinds, ue.Kind.String())
			res.Errors = append(res.Errors, err.Error())
		default:
			res.Kinds = append(res.Kinds, "other")
			res.Errors = append(res.Errors, err.Error())
		}
	}
	if c.InLoad {
		for range c.Batches {
			u, err := host.Load(ctx, wasm, opts...)
			if err == nil {
				u.Close(ctx)
			}
			note(err)
		}
	} else {
		u, err := host.Load(ctx, wasm, opts...)
		if err != nil {
			return err
		}
		rec := smallBatch(memory.DefaultAllocator)
		for i := range c.Batches {
			out, err := u.Transform(ctx, int64(i), rec)
			if err == nil {
				out.Release()
			}
			note(err)
		}
		rec.Release()
		u.Close(ctx)
	}
	if _, res.HWM, err = procStatus(); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// TestMemoryBombs: guests that grow their memory to the limit and beyond, in
// init and per batch. Each case runs in a child process, which reports its
// peak resident set (VmHWM); the test asserts that the growth stays below
// limit × (2 × pool + 1) + 128 MiB — the pool's memories, as much again of
// garbage that Go's collector may leave before it runs (GOGC=100: the heap
// may reach twice what is live), the replacement being created — and that
// each failing call is an error of the documented kind.
func TestMemoryBombs(t *testing.T) {
	const margin = 128 << 20
	cases := []struct {
		memCase
		want []string // acceptable kinds of each call
	}{
		{memCase{Name: "memory_bomb", Path: hostGuest("memory_bomb"), Limit: 64 << 20, Pool: 1, Batches: pick(2, 8), What: "memory.grow until -1, then trap, per batch"}, []string{"memory limit"}},
		{memCase{Name: "memory_bomb_c", Path: hostGuest("memory_bomb_c"), Limit: 64 << 20, Pool: 1, Batches: pick(2, 8), What: "malloc and touch 1 MiB blocks until NULL (C), per batch"}, []string{"memory limit"}},
		{memCase{Name: "memory_touch", Path: ownGuest("memory_touch"), Limit: 128 << 20, Pool: 2, Batches: pick(3, 12), What: "grow and write every page to the limit, succeed, per batch"}, []string{"ok"}},
		{memCase{Name: "init_memory_bomb", Path: ownGuest("init_memory_bomb"), Limit: 64 << 20, Pool: 2, Batches: pick(1, 6), InLoad: true, What: "grow and write to the limit in wasinfer_init, then trap"}, []string{"memory limit", "init"}},
		{memCase{Name: "memory_initial_huge", Path: ownGuest("memory_initial_huge"), Pool: 1, Batches: 2, InLoad: true, What: "declares 2 GiB of initial memory (default limit 512 MiB)"}, []string{"load", "init", "memory limit"}},
	}
	if full() {
		// The default limit (512 MiB), the cap a pipeline gets unless it
		// sets one; a few seconds per batch under -race, so the full run
		// only.
		cases = append(cases, struct {
			memCase
			want []string
		}{memCase{Name: "memory_touch_default", Path: ownGuest("memory_touch"), Pool: 1, Batches: 4, What: "grow and write every page to the default limit, per batch"}, []string{"ok"}})
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			cmd := child("memory", c.memCase)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			start := time.Now()
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, stderr.String())
			}
			wall := time.Since(start)
			var res memResult
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("child output %q: %v", out, err)
			}
			for i, k := range res.Kinds {
				ok := false
				for _, w := range c.want {
					ok = ok || k == w
				}
				if !ok {
					t.Errorf("call %d: kind %q, want one of %q (errors: %q)", i, k, c.want, res.Errors)
				}
			}
			limit := c.Limit
			if limit == 0 {
				limit = 512 << 20
			}
			bound := limit*int64(2*c.Pool+1) + margin
			growth := res.HWM - res.BaseRSS
			if growth > bound {
				t.Errorf("peak resident set grew by %s, above the bound of %s (limit %s × (2 × pool %d + 1) + %s)", mib(growth), mib(bound), mib(limit), c.Pool, mib(margin))
			}
			var kinds []string
			seen := map[string]bool{}
			for _, k := range res.Kinds {
				if !seen[k] {
					seen[k] = true
					kinds = append(kinds, k)
				}
			}
			first := ""
			if len(res.Errors) > 0 {
				first = "; first error: " + res.Errors[0]
			}
			record(t, "memory", c.Name, fmt.Sprintf("%s: limit %s, pool %d, %d calls → %s; host peak RSS +%s over %s at start (bound %s)%s",
				c.What, mib(limit), c.Pool, len(res.Kinds), strings.Join(kinds, ", "), mib(growth), mib(res.BaseRSS), mib(bound), first),
				"TestMemoryBombs/"+c.Name, map[string]any{
					"limit": limit, "pool": c.Pool, "calls": len(res.Kinds), "kinds": res.Kinds,
					"base_rss": res.BaseRSS, "hwm": res.HWM, "growth": growth, "bound": bound, "wall_s": wall.Seconds(),
				})
		})
	}
}
