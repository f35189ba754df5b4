package dataset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// killChildEnv makes the test binary run killChild instead of the tests
// (see TestMain): the child of TestKillAndRerun.
const killChildEnv = "WASINFER_DATASET_KILL_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(permissionChildEnv); path != "" {
		permissionChild(path)
		os.Exit(0)
	}
	if spec := os.Getenv(killChildEnv); spec != "" {
		if err := killChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, "kill child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// killChild copies every uncommitted split of the input to the output
// (spec is "INPUT_DIR|OUTPUT_DIR|FORMAT"), batch by batch, as a pipeline
// does: read, write, commit.
func killChild(spec string) error {
	parts := strings.Split(spec, "|")
	if len(parts) != 3 {
		return fmt.Errorf("bad spec %q", spec)
	}
	ctx := context.Background()
	src, err := OpenParquet(ctx, []string{parts[0]}, WithBatchSize(7))
	if err != nil {
		return err
	}
	defer src.Close()
	sink, err := OpenSink(ctx, parts[1], Format(parts[2]), WithMaxFileBytes(600))
	if err != nil {
		return err
	}
	splits := src.Splits()
	done, err := sink.Committed(ctx, splits)
	if err != nil {
		return err
	}
	for _, sp := range splits {
		if done[sp.Index] {
			continue
		}
		r, err := src.Open(ctx, sp)
		if err != nil {
			return err
		}
		p, err := sink.Create(ctx, sp, src.Schema())
		if err != nil {
			return err
		}
		for {
			rec, err := r.Read(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			err = p.Write(ctx, rec)
			rec.Release()
			if err != nil {
				return err
			}
		}
		r.Close()
		if _, err := p.Commit(ctx); err != nil {
			return err
		}
	}
	return sink.Close(ctx)
}

// TestKillAndRerun runs the copy in a child process, SIGKILLs it at
// random moments several times, then lets a last run finish: the output
// holds every input row exactly once, and no temporary or uncommitted
// file is left.
func TestKillAndRerun(t *testing.T) {
	ctx := context.Background()
	for _, format := range []Format{FormatParquet, FormatJSONL} {
		t.Run(string(format), func(t *testing.T) {
			in, out := t.TempDir(), t.TempDir()
			const splits, perSplit = 30, 40
			s, err := OpenSink(ctx, in, FormatParquet, WithRowGroupRows(perSplit))
			if err != nil {
				t.Fatal(err)
			}
			w := NewWriter(s, true)
			mem := memory.NewGoAllocator()
			rec := idBatch(mem, 0, splits*perSplit)
			if err := w.Write(ctx, rec); err != nil {
				t.Fatal(err)
			}
			rec.Release()
			if err := w.Close(ctx); err != nil {
				t.Fatal(err)
			}

			// A full run into a scratch directory tells how long one takes,
			// so that the kills land anywhere in a run.
			start := time.Now()
			scratch := exec.Command(os.Args[0], "-test.run=^$")
			scratch.Env = append(os.Environ(), killChildEnv+"="+in+"|"+t.TempDir()+"|"+string(format))
			if b, err := scratch.CombinedOutput(); err != nil {
				t.Fatalf("scratch run: %v\n%s", err, b)
			}
			full := time.Since(start)

			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d, a full run takes %v", seed, full)
			rng := rand.New(rand.NewPCG(seed, 1))
			spec := in + "|" + out + "|" + string(format)
			killed := 0
			for trial := range 8 {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), killChildEnv+"="+spec)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				// Each run has less left to do: kill within the first half.
				time.Sleep(time.Duration(rng.Int64N(int64(full)/2 + 1)))
				_ = cmd.Process.Signal(syscall.SIGKILL)
				err := cmd.Wait()
				var ee *exec.ExitError
				switch {
				case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled():
					killed++
				case err != nil:
					t.Fatalf("trial %d: child failed: %v\n%s", trial, err, stderr.String())
				}
				// Whatever is under a final name is a whole file.
				finals, _ := filepath.Glob(filepath.Join(out, "part-*"))
				for _, f := range finals {
					readIDs(t, f, format)
				}
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), killChildEnv+"="+spec)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("last run: %v\n%s", err, b)
			}
			t.Logf("%d of 8 runs killed before they finished", killed)

			// Exactly the input rows.
			got := readIDs(t, out, format)
			slices.Sort(got)
			if !slices.Equal(got, seq(0, splits*perSplit)) {
				t.Fatalf("%d rows; want ids 0..%d once each", len(got), splits*perSplit-1)
			}
			// No temporary or unlisted file.
			des, err := os.ReadDir(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, de := range des {
				if strings.HasPrefix(de.Name(), ".") {
					t.Errorf("leftover file %s", de.Name())
				}
			}
		})
	}
}

func readIDs(t *testing.T, dir string, format Format) []int64 {
	t.Helper()
	var src Source
	var err error
	if format == FormatParquet {
		src, err = OpenParquet(context.Background(), []string{dir})
	} else {
		schema := idBatch(memory.NewGoAllocator(), 0, 0).Schema()
		src, err = OpenJSONL(context.Background(), []string{dir}, WithSchema(schema))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	recs := readAll(t, src)
	defer release(recs)
	var out []int64
	for _, r := range recs {
		out = append(out, r.Column(0).(*array.Int64).Int64Values()...)
	}
	return out
}
