package scheduler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// TestTakeBatch returns the first rows after any stage, in input order,
// and writes nothing.
func TestTakeBatch(t *testing.T) {
	tests := []struct {
		rows   int64
		stages int
		want   []int64
	}{
		{rows: 5, stages: 0, want: seq(0, 5)},
		{rows: 12, stages: 1, want: seq(1, 13)},
		{rows: 12, stages: 2, want: []int64{1, 3, 5, 7, 9, 11}},
		{rows: 1000, stages: 2, want: func() []int64 { // more than the source has
			var v []int64
			for x := int64(1); x <= 30; x += 2 {
				v = append(v, x)
			}
			return v
		}()},
		{rows: 1, stages: 3, want: []int64{}}, // x=1 is odd, then "none" drops it
	}
	for _, tt := range tests {
		t.Run("", func(t *testing.T) {
			noLeaks(t)
			alloc := checkAlloc(t)
			p := New(newSource(alloc, 4, 10, 0, 20), WithAllocator(alloc), WithLogger(quiet)).
				MapBatches(mapStage("plus", alloc, plus1), BatchSize(3)).
				MapBatches(mapStage("odd", alloc, odd), BatchSize(5)).
				MapBatches(mapStage("none", alloc, none)).
				Write(newSink(t, "never"))
			rec, err := p.TakeBatch(context.Background(), tt.rows, tt.stages)
			if err != nil {
				t.Fatal(err)
			}
			defer rec.Release()
			if got := values(t, rec); !slices.Equal(got, tt.want) && (len(got) != 0 || len(tt.want) != 0) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTakeBatchErrors(t *testing.T) {
	alloc := checkAlloc(t)
	p := New(newSource(alloc, 4, 10), WithAllocator(alloc)).MapBatches(poisonStage("check", alloc, func(x int64) bool { return x == 3 }), MaxErroredRows(5))
	for _, tt := range []struct {
		rows    int64
		stages  int
		wantErr string
	}{
		{rows: 0, stages: 0, wantErr: "scheduler: invalid pipeline: TakeBatch: rows 0: want at least 1"},
		{rows: 10, stages: 1, wantErr: `stage "check": split 0 (mem#0): batch 0: row x=3 is poisoned`}, // budgets are 0
	} {
		q := *p
		_, err := q.TakeBatch(context.Background(), tt.rows, tt.stages)
		if err == nil || err.Error() != tt.wantErr {
			t.Errorf("got %v, want %s", err, tt.wantErr)
		}
	}
	q := *p
	if _, err := q.TakeBatch(context.Background(), 1, 2); err == nil || err.Error() != "scheduler: invalid pipeline: TakeBatch: stages 2: the pipeline has 1" {
		t.Errorf("got %v", err)
	}
}

// TestSkipsCommittedAndShards: splits the sink has committed are skipped,
// and a shard takes the splits whose Index%n == i.
func TestSkipsCommittedAndShards(t *testing.T) {
	noLeaks(t)
	alloc := checkAlloc(t)
	sink := newSink(t, "out")
	sink.pre = map[int]bool{2: true}
	sum, err := New(newSource(alloc, 3, 5, 5, 5, 5, 5, 5), WithAllocator(alloc), WithLogger(quiet), WithShard(0, 2)).
		MapBatches(mapStage("id", alloc, keep)).Write(sink).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := sortedKeys(sink.rows(t)); !slices.Equal(got, []int{0, 4}) {
		t.Errorf("committed splits %v, want [0 4]", got)
	}
	if sum.SplitsSkipped != 1 || sum.SplitsCommitted != 2 || len(sum.OutputFiles) != 2 {
		t.Errorf("summary: %+v", sum)
	}
}

// TestResources: more GPUs than there are is refused before the run; more
// CPUs caps the workers and says so.
func TestResources(t *testing.T) {
	alloc := checkAlloc(t)
	src := newSource(alloc, 4, 10)
	_, err := New(src, WithGPUs(1)).
		MapBatches(Func("model", nil), Workers(2), GPUs(1)).
		MapBatches(Func("udf", nil), Workers(4)).
		Write(newSink(t, "out")).Run(context.Background())
	want := `scheduler: resources: the stages ask for 2 GPUs ("model" 2 × 1 CPU, 1 GPU; "udf" 4 × 1 CPU, 0 GPU) and this machine has 1 (WithGPUs): lower the workers of the GPU stages`
	if err == nil || err.Error() != want || !errors.Is(err, ErrResources) {
		t.Errorf("got %v\nwant %s", err, want)
	}

	sum, err := New(src, WithCPUs(3), WithLogger(quiet), WithAllocator(alloc)).
		MapBatches(mapStage("a", alloc, keep), Workers(4)).
		MapBatches(mapStage("b", alloc, keep), Workers(2)).
		MapBatches(mapStage("io", alloc, keep), Workers(8), CPUs(0)).
		Write(newSink(t, "out")).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if w := []int{sum.Stages[0].Workers, sum.Stages[1].Workers, sum.Stages[2].Workers}; !slices.Equal(w, []int{2, 1, 8}) {
		t.Errorf("workers %v, want [2 1 8]", w)
	}
	wantWarn := `the stages ask for 6 CPUs ("a" 4 × 1 CPU, 0 GPU; "b" 2 × 1 CPU, 0 GPU; "io" 8 × 0 CPU, 0 GPU) and there are 3: workers capped: "a" 4 → 2, "b" 2 → 1`
	if !slices.Contains(sum.Warnings, wantWarn) {
		t.Errorf("warnings %q, want %q", sum.Warnings, wantWarn)
	}
}

// TestOversizedBatch: a batch larger than the whole budget is admitted
// alone with a warning instead of a deadlock.
func TestOversizedBatch(t *testing.T) {
	noLeaks(t)
	alloc := checkAlloc(t)
	src := newSource(alloc, 100, 300, 300)
	sink := newSink(t, "out")
	sum, err := New(src, WithAllocator(alloc), WithLogger(quiet), WithMemoryBudget(100)).
		MapBatches(mapStage("a", alloc, plus1), BatchSize(50)).
		MapBatches(mapStage("b", alloc, keep), BatchSize(1000)).
		Write(sink).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := sink.rows(t); len(got[0]) != 300 || len(got[1]) != 300 {
		t.Errorf("committed %d and %d rows, want 300 each", len(got[0]), len(got[1]))
	}
	if sum.OverBudgetAdmissions == 0 || len(sum.Warnings) == 0 || !strings.HasPrefix(sum.Warnings[0], "memory budget 100 bytes full") {
		t.Errorf("over-budget admissions %d, warnings %q", sum.OverBudgetAdmissions, sum.Warnings)
	}
}

// TestMetricsScrape scrapes the Prometheus endpoint over HTTP while the run
// is in its last batch.
func TestMetricsScrape(t *testing.T) {
	noLeaks(t)
	alloc := checkAlloc(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var body string
	st := Func("scrape", func(ctx context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error) {
		if values(t, in)[0] == 90 { // the last batch: earlier ones are counted
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/metrics", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			body = string(b)
			if err != nil {
				return nil, err
			}
		}
		return in, nil
	})
	_, err = New(newSource(alloc, 10, 100), WithAllocator(alloc), WithLogger(quiet), WithMetricsListener(ln)).
		MapBatches(st, BatchSize(10)).Write(newSink(t, "out")).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	http.DefaultClient.CloseIdleConnections()
	for _, want := range []string{
		`wasinfer_stage_rows_in_total{stage="scrape"} 100`,
		`wasinfer_stage_rows_out_total{stage="scrape"} 90`,
		`wasinfer_stage_rows_out_total{stage="source"} 100`,
		`wasinfer_stage_workers_busy{stage="scrape"} 1`,
		`wasinfer_memory_budget_bytes 1.073741824e+09`,
		`wasinfer_splits_open 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the progress goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProgressLines: not a terminal, progress is plain lines per stage,
// the last ones when the run ends.
func TestProgressLines(t *testing.T) {
	noLeaks(t)
	alloc := checkAlloc(t)
	var out syncBuffer
	_, err := New(newSource(alloc, 10, 100), WithAllocator(alloc), WithLogger(quiet), WithProgress(&out, time.Hour)).
		MapBatches(mapStage("double", alloc, explode), BatchSize(10), Workers(2)).
		Write(newSink(t, "out")).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		"wasinfer: source: 100 rows in, 100 out, ",
		`wasinfer: stage "double": 100 rows in, 300 out, `,
		"wasinfer: sink: 300 rows in, 300 out, ",
	}
	if len(lines) != len(want) {
		t.Fatalf("got lines %q", lines)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want prefix %q", i, lines[i], w)
		}
	}
	if !strings.Contains(lines[1], "queue 0/4, 0/2 workers busy, 0 errors, 0 dead letters") {
		t.Errorf("line %q", lines[1])
	}
}

// TestSummary: per-stage counts, and JSON and text forms.
func TestSummary(t *testing.T) {
	noLeaks(t)
	alloc := checkAlloc(t)
	sum, err := New(newSource(alloc, 10, 100, 50), WithAllocator(alloc), WithLogger(quiet)).
		MapBatches(mapStage("odd", alloc, odd), BatchSize(25), Workers(1)).
		Write(newSink(t, "out")).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st := sum.Stages[0]
	if st.RowsIn != 150 || st.RowsOut != 75 || st.BatchesIn != 6 || st.Workers != 1 || st.BatchSize != 25 {
		t.Errorf("stage summary %+v", st)
	}
	if sum.Source.RowsOut != 150 || sum.Sink.RowsOut != 75 || sum.SplitsCommitted != 2 || sum.PeakInFlightBytes <= 0 {
		t.Errorf("summary %+v", sum)
	}
	if st.Utilization < 0 || st.Utilization > 1 {
		t.Errorf("utilization %g", st.Utilization)
	}
	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"stages", "wall_seconds", "rows_per_second", "peak_in_flight_bytes", "peak_rss_bytes", "splits_committed", "dead_letter_rows"} {
		if _, ok := back[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	var text strings.Builder
	if err := sum.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "splits: 2 committed, 0 skipped (done before), 0 not committed") {
		t.Errorf("text:\n%s", text.String())
	}
}

// TestPassThroughOwnership: a stage that returns its input (or a slice of
// it) keeps the executor's accounting and the allocator balanced.
func TestPassThroughOwnership(t *testing.T) {
	noLeaks(t)
	alloc := checkAlloc(t)
	half := Func("half", func(_ context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error) {
		return in.NewSlice(0, in.NumRows()/2), nil
	})
	sink := newSink(t, "out")
	_, err := New(newSource(alloc, 7, 40), WithAllocator(alloc), WithLogger(quiet)).
		MapBatches(Func("same", func(_ context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error) { return in, nil }), BatchSize(10)).
		MapBatches(half, BatchSize(10)).
		Write(sink).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(append(seq(0, 5), seq(10, 15)...), seq(20, 25)...), seq(30, 35)...)
	if got := sink.rows(t)[0]; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestEachError: an error from the Each function ends the run.
func TestEachError(t *testing.T) {
	noLeaks(t)
	alloc := checkAlloc(t)
	_, err := New(newSource(alloc, 10, 100), WithAllocator(alloc), WithLogger(quiet)).
		MapBatches(mapStage("id", alloc, keep), BatchSize(10)).
		Each(context.Background(), func(rec arrow.RecordBatch) error { return errors.New("consumer full") })
	if want := `stage "output": split 0 (mem#0): consumer full`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}
