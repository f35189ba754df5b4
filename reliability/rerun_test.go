//go:build cgo

package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestDeleteAndRerun: after a complete run, some committed output files are
// deleted; a rerun writes exactly those files again — the same names, the
// same rows (ids and values) — and nothing else, and the whole output is
// then exactly the input once.
func TestDeleteAndRerun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rows := digitsInput(t, dir, 1)
	input := filepath.Join(dir, "input")
	want, _ := cleanRun(t, input)
	rounds := pick(2, 10)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 5))
	exact := 0
	deletedTotal := 0
	for round := range rounds {
		out := filepath.Join(dir, fmt.Sprintf("out-%d", round))
		if _, err := runDigits(ctx, runSpec{Input: input, Output: out}, nil, nil); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(out, "part-*.parquet"))
		slices.Sort(files)
		k := 1 + rng.IntN(len(files)/2)
		rng.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
		deleted := files[:k]
		slices.Sort(deleted)
		before := map[string][]int64{} // the ids each deleted file held
		for _, f := range deleted {
			before[filepath.Base(f)] = fileIDs(t, f)
		}
		for _, f := range deleted {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
		stamp := map[string]time.Time{}
		rest, _ := filepath.Glob(filepath.Join(out, "part-*.parquet"))
		for _, f := range rest {
			st, _ := os.Stat(f)
			stamp[f] = st.ModTime()
		}
		sum, err := runDigits(ctx, runSpec{Input: input, Output: out}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum.SplitsCommitted != k {
			t.Errorf("round %d: the rerun committed %d splits, want the %d whose files were deleted", round, sum.SplitsCommitted, k)
		}
		var written []string
		for _, f := range sum.OutputFiles {
			written = append(written, filepath.Base(f))
		}
		slices.Sort(written)
		var names []string
		for _, f := range deleted {
			names = append(names, filepath.Base(f))
		}
		if !slices.Equal(written, names) {
			t.Errorf("round %d: the rerun wrote %v, want exactly the deleted %v", round, written, names)
		}
		for name, ids := range before {
			if got := fileIDs(t, filepath.Join(out, name)); !slices.Equal(got, ids) {
				t.Errorf("round %d: %s holds ids %v after the rerun, %v before", round, name, got, ids)
			}
		}
		for f, ts := range stamp {
			if st, err := os.Stat(f); err != nil || !st.ModTime().Equal(ts) {
				t.Errorf("round %d: %s was rewritten though it was not deleted", round, f)
			}
		}
		checkExactlyOnce(t, out, want)
		if !t.Failed() {
			exact++
		}
		deletedTotal += k
	}
	record(t, "faults", "delete output and rerun", fmt.Sprintf("%d/%d rounds exact: %d committed files deleted in all (of %d per run, %d rows); each rerun rewrote exactly the deleted files with the same rows and touched no other",
		exact, rounds, deletedTotal, rows/30, rows), "TestDeleteAndRerun", map[string]any{"seed": seed})
}

// fileIDs reads the id column of one output file, in order.
func fileIDs(t testing.TB, path string) []int64 {
	t.Helper()
	dir := t.TempDir()
	if err := os.Link(path, filepath.Join(dir, "part-000000-000.parquet")); err != nil {
		t.Fatal(err)
	}
	rows, _ := readOutput(t, dir)
	ids := make([]int64, 0, len(rows))
	for id := range rows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
