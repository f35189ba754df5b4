package scheduler

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress shows per-stage progress: bars on a terminal, plain periodic
// lines otherwise.
type progress struct {
	r     *run
	w     io.Writer
	every time.Duration
	bars  *bars // nil: plain lines

	mu       sync.Mutex
	lastRows []int64
	lastAt   time.Time
}

func (r *run) newProgress() *progress {
	p := &progress{r: r, w: r.cfg.progress, every: r.cfg.progressEvery, lastAt: r.start}
	p.lastRows = make([]int64, len(r.stages)+2)
	tty := r.cfg.terminal == 1 || r.cfg.terminal == -1 && isTerminal(r.cfg.progress)
	if tty {
		p.bars = newBars(r)
	}
	return p
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) loop(done <-chan struct{}) {
	if p.bars != nil {
		p.bars.loop(done)
		return
	}
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			p.lines()
		}
	}
}

// lines writes one line per stage (and the source and sink).
func (p *progress) lines() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	dt := now.Sub(p.lastAt).Seconds()
	p.lastAt = now
	var b strings.Builder
	for i, l := range p.r.progressLines() {
		rate := 0.0
		if dt > 0 {
			rate = float64(l.rowsOut-p.lastRows[i]) / dt
		}
		p.lastRows[i] = l.rowsOut
		fmt.Fprintf(&b, "wasinfer: %s: %d rows in, %d out, %.0f rows/s%s\n", l.name, l.rowsIn, l.rowsOut, rate, l.detail)
	}
	_, _ = io.WriteString(p.w, b.String())
}

// note shows a message (a stall report) between the progress lines.
func (p *progress) note(msg string) {
	if p.bars != nil {
		p.bars.note(msg)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "wasinfer: warning: %s\n", msg)
}

// final shows the last state when the run ends.
func (p *progress) final(*Summary) {
	if p.bars != nil {
		p.bars.wait()
		return
	}
	p.lines()
}

type progressLine struct {
	name            string
	rowsIn, rowsOut int64
	detail          string
}

func (r *run) progressLines() []progressLine {
	out := []progressLine{{name: "source", rowsIn: r.srcStats.rowsIn.Load(), rowsOut: r.srcStats.rowsOut.Load()}}
	for _, s := range r.stages {
		st := &s.stats
		bp := ""
		switch st.wait.Load() {
		case waitDownstream:
			bp = ", back-pressure: next stage full"
		case waitMemory:
			bp = ", back-pressure: memory budget"
		}
		out = append(out, progressLine{
			name: fmt.Sprintf("stage %q", s.name), rowsIn: st.rowsIn.Load(), rowsOut: st.rowsOut.Load(),
			detail: fmt.Sprintf(", queue %d/%d, %d/%d workers busy, %d errors, %d dead letters%s",
				st.queue.Load(), s.depth, st.busy.Load(), s.workers, st.errors.Load(), st.deadRows.Load(), bp),
		})
	}
	out = append(out, progressLine{name: "sink", rowsIn: r.sinkStats.rowsIn.Load(), rowsOut: r.sinkStats.rowsOut.Load()})
	return out
}
