//go:build cgo

package reliability

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lastEvent is the phase of the last line of a progress file.
func lastEvent(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return "start" // killed before the first event
	}
	defer f.Close()
	last := "start"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if ph, _, ok := strings.Cut(sc.Text(), " "); ok {
			last = ph
		}
	}
	return last
}

// eventCounts counts each phase's events in a progress file.
func eventCounts(t testing.TB, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		ph, _, _ := strings.Cut(l, " ")
		n[ph]++
	}
	return n
}

// TestKillAndRerun: the digits pipeline (pipeline_test.go) runs in a child
// process that is killed with SIGKILL at a random moment of each phase
// (read, transform, model, write, commit: the child kills itself a random
// 0–2 ms after a random event of the phase, so the signal lands inside the
// work of that phase or just after), plus trials killed from outside after
// a random delay. After each kill every file under a final name is whole;
// a rerun to completion gives every input row exactly once, equal to a
// clean run's, with no temporary file left.
func TestKillAndRerun(t *testing.T) {
	dir := t.TempDir()
	rows := digitsInput(t, dir, 2)
	input := filepath.Join(dir, "input")
	want, _ := cleanRun(t, input)
	if len(want) != rows {
		t.Fatalf("a clean run wrote %d rows of %d", len(want), rows)
	}
	// A clean run in a child: its progress file tells how many events of
	// each phase a run has, and its wall time bounds the outside kills.
	prog := filepath.Join(dir, "clean.progress")
	start := time.Now()
	if out, err := child("pipeline", runSpec{Input: input, Output: filepath.Join(dir, "clean"), Progress: prog}).CombinedOutput(); err != nil {
		t.Fatalf("clean child run: %v\n%s", err, out)
	}
	wall := time.Since(start)
	counts := eventCounts(t, prog)
	for _, ph := range phases {
		if counts[ph] == 0 {
			t.Fatalf("a clean run has no %s events: %v", ph, counts)
		}
	}

	perPhase := pick(1, 10)
	outside := pick(2, 10)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 3))
	t.Logf("seed %d; a run takes %v; events per run: %v", seed, wall, counts)
	type trial struct {
		phase string // the phase aimed at; "" for a kill from outside
		at    int
		after int
		delay time.Duration
	}
	var trials []trial
	for range perPhase {
		for _, ph := range phases {
			trials = append(trials, trial{phase: ph, at: 1 + rng.IntN(counts[ph]), after: rng.IntN(2000)})
		}
	}
	for range outside {
		trials = append(trials, trial{delay: time.Duration(rng.Int64N(int64(wall)))})
	}
	killedIn := map[string]int{} // the phase of the last event before the kill
	aimed := map[string]int{}    // the phase the kill was aimed at
	exact, finished := 0, 0
	for i, tr := range trials {
		name := tr.phase
		if name == "" {
			name = "outside"
		}
		t.Run(fmt.Sprintf("%02d-%s", i, name), func(t *testing.T) {
			out := filepath.Join(dir, fmt.Sprintf("out-%02d", i))
			prog := out + ".progress"
			spec := runSpec{Input: input, Output: out, Progress: prog, KillPhase: tr.phase, KillAt: tr.at, KillAfterUs: tr.after}
			cmd := child("pipeline", spec)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if tr.phase == "" {
				timer := time.AfterFunc(tr.delay, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
				defer timer.Stop()
			}
			err := cmd.Wait()
			var ee *exec.ExitError
			switch {
			case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled():
				killedIn[lastEvent(t, prog)]++
				aimed[name]++
			case err != nil:
				t.Fatalf("the child failed: %v\n%s", err, stderr.String())
			default:
				finished++ // an outside kill that came after the end
			}
			if _, err := os.Stat(out); err == nil {
				checkNoPartialFiles(t, out, false)
			}
			rerun := child("pipeline", runSpec{Input: input, Output: out})
			if b, err := rerun.CombinedOutput(); err != nil {
				t.Fatalf("the rerun failed: %v\n%s", err, b)
			}
			checkExactlyOnce(t, out, want)
			if !t.Failed() {
				exact++
			}
			os.RemoveAll(out)
		})
	}
	list := func(m map[string]int, order []string) string {
		var by []string
		for _, ph := range order {
			if m[ph] > 0 {
				by = append(by, fmt.Sprintf("%s %d", ph, m[ph]))
			}
		}
		return strings.Join(by, ", ")
	}
	record(t, "faults", "kill -9 and rerun", fmt.Sprintf("%d/%d crash-reruns exact (0 duplicate, 0 missing rows, 0 partial files; %d rows, 24 splits each); kills aimed at: %s; last event logged before the kill: %s; %d outside kills came after the end",
		exact, len(trials), rows, list(aimed, append(slices.Clone(phases), "outside")), list(killedIn, append([]string{"start"}, append(slices.Clone(phases), "committed")...)), finished), "TestKillAndRerun",
		map[string]any{"trials": len(trials), "exact": exact, "aimed": aimed, "last_event": killedIn, "seed": seed, "run_wall_s": wall.Seconds(), "events_per_run": counts})
}
